/**
 * Front matter keys of other generators (Jekyll, Hugo, WordPress exports)
 * that Presswork does not read, where ignoring them would publish an
 * article other than its editor meant: held back there, out here; out on a
 * later day there, on its date here; by its author there, by the default
 * author here. Each of those is an error, with what to write instead; a
 * date to take an article down on is a warning, as nothing would.
 */
import { synonymsOf } from "../validate/suggest.js";

/** Keys that hold an article back elsewhere, by the key in lower case, with the values that do. */
const HOLDS_BACK = new Map<string, (value: unknown) => boolean>([
  // Keys are read as written: `Draft: true` is no draft.
  ["draft", (value) => value === true],
  ["drafts", (value) => value === true],
  ["published", (value) => value === false],
  ["status", (value) => typeof value === "string" && /^(?:draft|private|pending|future|scheduled|hidden|unlisted)$/i.test(value)],
  ["private", (value) => value === true],
  ["hidden", (value) => value === true],
  ["unlisted", (value) => value === true],
]);

/** Hugo's and others' keys for the day an article comes out, when that is not its date. */
const PUBLISH_DATES = new Set(synonymsOf("date"));

/** Keys that take an article down on a date elsewhere. */
const EXPIRY_DATES = new Set(["expirydate", "expiry_date", "unpublishdate"]);

/** A date as YAML gives it, as its calendar day (YYYY-MM-DD), when it starts with one. */
function day(value: unknown): string | undefined {
  return /^\d{4}-\d\d-\d\d/.exec(value instanceof Date ? value.toISOString() : String(value))?.[0];
}

/**
 * Why an unknown front matter key `key` with `value` would publish the
 * article other than meant, in words for its message, and whether that is
 * an error; undefined for a key that is only ignored. `front` is the whole
 * front matter as YAML reads it; `defaultAuthor`, the key and the name of
 * the author a byline names when an article names none.
 */
export function foreignKey(key: string, value: unknown, front: Record<string, unknown>, defaultAuthor: readonly string[] = []): { fatal: boolean; reason: string } | undefined {
  const lower = key.toLowerCase();
  // Beside the key Presswork reads (`Draft: true` and `draft: true`), it changes nothing.
  if (Object.hasOwn(front, lower) && lower !== key) return undefined;
  if (HOLDS_BACK.get(lower)?.(value)) {
    const where = lower === "draft" || lower === "published" ? "is not read, as keys are read as written: the article would be published" : "holds an article back in other tools; Presswork publishes every article that is not a draft";
    return { fatal: true, reason: `'${key}: ${String(value)}' ${where}. Write draft: true instead` };
  }
  if (PUBLISH_DATES.has(lower) && day(value) !== undefined && day(front["date"]) !== undefined && (day(value) as string) > (day(front["date"]) as string)) {
    return { fatal: true, reason: `'${key}' is ${day(value)}, after 'date': Presswork publishes an article at its date, not on this day. Give the day it comes out as date: ${day(value)}, and take this line out` };
  }
  // The default author's name or key changes nothing: the byline names them either way.
  const names = (Array.isArray(value) ? value : [value]).map(String);
  if (lower === "author" && front["authors"] === undefined && !(names.length === 1 && defaultAuthor.includes(names[0] as string))) {
    return { fatal: true, reason: `'author' is not read, so the byline would name the default author: write authors: [${names.join(", ")}]` };
  }
  if (EXPIRY_DATES.has(lower)) {
    return { fatal: false, reason: `unknown key '${key}': Presswork never takes an article down on a date, so this one stays on the site and in the feeds after it; to take it down then, set draft: true or remove the file. It is ignored.` };
  }
  return undefined;
}
