import { LineCounter, isAlias, isCollection, isMap, isNode, isPair, isScalar, parseDocument, visit, type Document, type Node } from "yaml";
import type { VFile } from "vfile";
import { toJSONSchema, type z } from "zod";
import { didYouMean } from "./suggest.js";
import { article, quote } from "./words.js";
import { fileError, fileWarning, fieldRule, FIELD_RULES } from "../errors/rules.js";

/** Where a YAML block sits inside its file, so messages point at file lines. */
export interface YamlPlace {
  /** 1-based line in the file of the block's first line. */
  line: number;
  /** The family of the rule ids of its messages (see FIELD_RULES), and the source they are reported as. */
  rule: keyof typeof FIELD_RULES;
  /** What an unknown key at the top would do that its own message must say (see foreignKey), instead of a did-you-mean warning. */
  unknownKey?: (key: string, value: unknown, data: Record<string, unknown>) => { fatal: boolean; reason: string } | undefined;
}

interface Located {
  start: { line: number; column: number };
  end: { line: number; column: number };
}

/** A node's range in the YAML text, as the parser gives it. */
type Range = readonly [number, number, number?] | null | undefined;

/** Where a range lies in the file. */
type Span = (range: Range) => Located | undefined;

/**
 * Parses a YAML block and validates it with a zod schema. Every problem becomes
 * a message on `file` with the line and column of the offending key or value,
 * worded `'field' is "value", what is wrong` or `'field' is missing: what to
 * do`; unknown keys are warnings with a did-you-mean. Returns the typed value,
 * or undefined when anything fatal was found.
 */
export function parseYaml<S extends z.ZodType>(
  text: string,
  schema: S,
  file: VFile,
  place: YamlPlace,
): z.infer<S> | undefined {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const pos = counter.linePos(offset);
    return { line: pos.line + place.line - 1, column: pos.col };
  };
  const span: Span = (range) => (range ? { start: at(range[0]), end: at(range[1]) } : undefined);

  if (doc.errors.length > 0) {
    const lines = text.split("\n");
    // A line indented under a key's value (`  draft: true` after `date: …`) continues that value: one error, on the indented line, says so.
    // The parser reports it on the value's line (a colon in a value) or on its own (mapping items out of line).
    const near = doc.errors.flatMap((error) => [counter.linePos(error.pos[0]).line - 1, counter.linePos(error.pos[0]).line]);
    const indentedKey = near.find((i) => /^[ \t]+[\w-]+:(?:\s|$)/.test(lines[i] ?? "") && /^[\w-]+:[ \t]+[^\s#]/.test(lines[i - 1] ?? "")) ?? -1;
    if (indentedKey >= 0) {
      fileError(file, "yaml", "YAML: this line is indented, so it reads as more of the value above it, not as a key of its own: take the spaces off its start", { place: { line: place.line + indentedKey, column: 1 }, source: place.rule });
      return undefined;
    }
    for (const error of doc.errors) {
      const line = lines[counter.linePos(error.pos[0]).line - 1] ?? "";
      // `title: 'It's here'`: the quote inside ends the value, and the rest is left over.
      const quoted = error.code === "UNEXPECTED_TOKEN" ? /^\s*(?:- )?([\w-]+):\s*((["']).*?)\s*(?:\s#.*)?$/.exec(line) : null;
      const reason = quoted ? `YAML: ${closedEarly(quoted[1] as string, quoted[2] as string, quoted[3] as string)}` : `YAML: ${YAML_ERRORS[error.code]?.(error.message) ?? error.message.split("\n")[0]}`;
      // The parser finds an unclosed quote where the block ends: the place to show is the line that opens it.
      const quote = error.code === "MISSING_CHAR" ? /closing (["'])/.exec(error.message)?.[1] : undefined;
      let opened = quote ? lines.findIndex((line) => line.split(quote).length % 2 === 0) : -1;
      let why = reason;
      // A list left open is found where the block ends: the line to show is the one that opens it, where a " #" may have made the rest a comment.
      if (error.code === "BAD_INDENT" && /Flow sequence/.test(error.message)) {
        opened = lines.slice(0, counter.linePos(error.pos[0]).line).findLastIndex((line) => {
          const before = line.replace(/\s#.*/, "");
          return before.includes("[") && !before.includes("]");
        });
        if (opened >= 0 && /\s#/.test(lines[opened] ?? "")) why = `${reason}: a # after a space starts a YAML comment, which took the rest of the line. Put a value that starts with # in quotes, like "#rust"`;
      }
      const where = opened >= 0 ? { line: place.line + opened, column: 1 } : span(error.pos);
      fileError(file, "yaml", why, { place: where, source: place.rule });
    }
    return undefined;
  }
  if (!plainKeysAndAliases(doc, file, place, span)) return undefined;
  let data: unknown;
  try {
    data = doc.toJS() ?? {};
  } catch (error) {
    // The one failure left once every alias has its anchor: aliases that expand past the parser's limit (an alias bomb).
    if (!(error instanceof ReferenceError)) throw error;
    fileError(file, "yaml", "YAML: the aliases (*name) under this key repeat too many values to read: write the values out instead", {
      place: span(explodingKey(doc)?.range) ?? { line: place.line, column: 1 },
      source: place.rule,
    });
    return undefined;
  }
  if (typeof data !== "object" || Array.isArray(data)) {
    fileError(file, "shape", `${place.rule} must be a mapping of keys to values, one key: value a line`, { place: { line: place.line, column: 1 }, source: place.rule });
    return undefined;
  }
  warnUnknownKeys(doc.contents, shapeOf(schema), [], file, place, span, data as Record<string, unknown>);
  if (place.rule === "front-matter") warnCutByComments(doc, text, file, place, span);

  const result = schema.safeParse(data, { error: inOurWords });
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    // Unknown keys are warnings of their own, above.
    if (issue.code === "unrecognized_keys") continue;
    const path = issue.path;
    const exact = path.length > 0 ? doc.getIn(path as unknown[], true) : undefined;
    const node = nodeAt(doc, path);
    const field = path.map(String).join(".") || place.rule;
    const value = exact === undefined && path.length > 0 ? " is missing:" : isScalar(exact) ? ` is ${typeof exact.value === "string" ? quote(exact.value) : String(exact.value)},` : "";
    // `tags: #rust`: a value written like a hashtag is a comment, and the key holds nothing; a note (`# later`) is left alone.
    const comment = isScalar(exact) && exact.value === null && exact.range ? /^#\S.*/.exec(text.slice(exact.range[0], exact.range[2]))?.[0].trimEnd() : undefined;
    const textual = !(issue.code === "invalid_type" && ["boolean", "number", "int", "bigint"].includes(issue.expected));
    const written = typeof path.at(-1) === "number" ? "-" : `${String(path.at(-1))}:`;
    const why =
      comment && textual
        ? `'${field}' is empty: ${quote(comment)} is a YAML comment, as a # after a space starts one. Write it without the #, like ${written} ${comment.slice(1)}, or in quotes to keep it: ${written} ${JSON.stringify(comment)}`
        : `'${field}'${value} ${issue.message}`;
    fileError(file, fieldRule(place.rule, path[0] === undefined ? "shape" : String(path[0])), why, {
      place: span(node?.range) ?? { line: place.line, column: 1 },
      source: place.rule,
    });
  }
  return undefined;
}

/**
 * Reports keys that are not plain names (a list, a mapping or an alias as a
 * key, which JavaScript would turn into text with a warning of Node's own)
 * and aliases with no anchor before them. Returns whether there was none.
 */
function plainKeysAndAliases(doc: Document, file: VFile, place: YamlPlace, span: Span): boolean {
  let plain = true;
  const refuse = (reason: string, range: Range) => {
    fileError(file, "yaml", `YAML: ${reason}`, { place: span(range) ?? { line: place.line, column: 1 }, source: place.rule });
    plain = false;
  };
  // In document order, as the parser resolves them: an alias takes the last anchor of its name before it.
  const anchors = new Set<string>();
  visit(doc, (_, node) => {
    if (isAlias(node) && !anchors.has(node.source)) refuse(`*${node.source} names no anchor: set &${node.source} on a value before it, or write the value out`, node.range);
    if ((isScalar(node) || isCollection(node)) && node.anchor) anchors.add(node.anchor);
    if (isPair(node) && isNode(node.key) && !isScalar(node.key)) refuse("a key must be a plain name, not a list, a mapping or an alias: write it as name: value", node.key.range);
  });
  return plain;
}

/**
 * Warns about a text value that a comment cut short: in YAML a space and a
 * `#` start one, so `title: We are #1 in C#` is the title "We are". In front
 * matter such words are nearly always part of the value (a config keeps its
 * notes there on purpose), but for a note set apart by two spaces or more.
 */
function warnCutByComments(doc: Document, text: string, file: VFile, place: YamlPlace, span: Span): void {
  visit(doc, {
    Pair(_, pair) {
      const value = pair.value;
      if (!isScalar(value) || value.type !== "PLAIN" || typeof value.value !== "string" || !value.comment || !isScalar(pair.key) || !value.range) return;
      // A note set apart by two spaces or more (`title: Draft  # working title`) is meant as one.
      if (/^[ \t]{2,}#/.test(text.slice(value.range[1], value.range[2]))) return;
      const written = text.slice(value.range[0], value.range[2]).trimEnd();
      fileWarning(file, fieldRule(place.rule, "comment"), `'${String(pair.key.value)}' is ${quote(value.value)}: the words after " #" are a YAML comment and are left out. If they belong to it, put it all in quotes: ${String(pair.key.value)}: ${JSON.stringify(written)}`, {
        place: span(value.range),
        source: place.rule,
      });
    },
  });
}

/**
 * Why a value in quotes that holds its own quote mark (`title: 'It's
 * here'`) ends early, with the line written so that it reads whole: in the
 * other quotes, or with the mark doubled (single quotes) or escaped
 * (double quotes).
 */
function closedEarly(key: string, value: string, mark: string): string {
  const inner = value.slice(1, value.length > 1 && value.endsWith(mark) ? -1 : undefined);
  const other = mark === "'" ? '"' : "'";
  const fixed = !inner.includes(other) ? `${other}${inner}${other}` : mark === "'" ? `'${inner.replaceAll("'", "''")}'` : `"${inner.replaceAll('"', '\\"')}"`;
  return `the ${mark === "'" ? "apostrophe" : "quote mark"} inside this value ends it, as the quotes around it do: write ${key}: ${fixed}`;
}

/** The key of the first top-level pair whose aliases, with the pairs before it, expand past the parser's limit. */
function explodingKey(doc: Document): Node | undefined {
  const trial = doc.clone();
  if (!isMap(trial.contents) || !isMap(doc.contents)) return undefined;
  const pairs = trial.contents.items;
  for (let n = 1; n <= pairs.length; n++) {
    trial.contents.items = pairs.slice(0, n);
    try {
      trial.toJS();
    } catch {
      const key = doc.contents.items[n - 1]?.key;
      return isScalar(key) ? key : undefined;
    }
  }
  return undefined;
}

/** The YAML mistakes editors make most, by the parser's error code, in words that say how to write it. */
const YAML_ERRORS: Partial<Record<string, (message: string) => string>> = {
  BLOCK_AS_IMPLICIT_KEY: () => 'a value holds a colon and a space: put the whole value in quotes, like title: "Hello: world"',
  DUPLICATE_KEY: () => "this key is given twice: keep one",
  TAB_AS_INDENT: () => "a tab indents this line: indent with spaces",
  BAD_SCALAR_START: (message) => `a value cannot start with ${message.slice(-1)}: put the value in quotes`,
  MISSING_CHAR: (message) =>
    /quote/.test(message)
      ? "a quote opened on this line is never closed: close it, or leave the quotes out"
      : /^Comments must be separated/.test(message)
        ? 'a # here starts a YAML comment, which takes the rest of the line: put a value that starts with # in quotes, like "#rust"'
        : (message.split("\n")[0] ?? message),
  BAD_INDENT: (message) => (/Flow sequence/.test(message) ? "a list opened with [ is not closed with ] on its line" : message.split("\n")[0] ?? message),
};

/**
 * Presswork's wording for every check a schema does not word itself: what
 * is wrong and how to write it, to follow `'field' is "value",` or
 * `'field' is missing:`. Passed to zod per parse, so it reaches no other
 * schema in the process.
 */
export function inOurWords(issue: z.core.$ZodRawIssue): string {
  const key = String(issue.path?.at(-1) ?? "this key");
  const parent = issue.path && issue.path.length > 1 ? issue.path.slice(0, -1).map(String).join(".") : "";
  switch (issue.code) {
    case "invalid_type": {
      if (issue.input === undefined) return `add ${key}: ${parent ? `under ${parent}` : "on a line of its own"}`;
      const kinds: Record<string, string> = {
        string: "must be text; put it in quotes",
        number: "must be a number, like 10",
        int: "must be a whole number, like 10",
        boolean: "must be true or false",
        array: "must be a list, like [one, two]",
        object: `must hold keys of its own, each on an indented line under ${key}:`,
        record: `must hold keys of its own, each on an indented line under ${key}:`,
      };
      return kinds[issue.expected] ?? `must be ${article(issue.expected)}`;
    }
    case "too_big": {
      const max = String(issue.maximum);
      if (issue.origin === "string") return `is longer than ${max} characters`;
      if (issue.origin === "array" || issue.origin === "set") return `has more than ${max} items`;
      return `must be ${max} at most`;
    }
    case "too_small": {
      const min = String(issue.minimum);
      if (issue.origin === "string") return min === "1" ? "must not be empty" : `must be at least ${min} characters long`;
      if (issue.origin === "array" || issue.origin === "set") return `needs at least ${min} ${min === "1" ? "item" : "items"}`;
      return `must be ${min} or more`;
    }
    case "invalid_format":
      if (issue.format === "email") return "is not an email address, like name@example.com";
      if (issue.format === "url") return "is not an absolute URL, like https://example.com/";
      return "is not written as this key expects";
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => String(v)).join(", ")}`;
    case "invalid_union":
      return "is none of the forms this key takes";
    case "invalid_key":
      return "has a key this mapping does not take";
    case "invalid_element":
      return "holds a value this mapping does not take";
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return "is not a value this key takes";
  }
}

function nodeAt(doc: Document, path: readonly PropertyKey[]): Node | undefined {
  for (let i = path.length; i >= 0; i--) {
    const found = doc.getIn(path.slice(0, i) as unknown[], true);
    if (found && typeof found === "object" && "range" in found) return found as Node;
  }
  return undefined;
}

/** What keys a mapping takes: the JSON Schema view zod gives of a schema's input. */
interface Shape {
  properties?: Record<string, Shape>;
  additionalProperties?: Shape | boolean;
  anyOf?: Shape[];
}

const shapes = new WeakMap<z.ZodType, Shape>();

/** The schema's input as JSON Schema, from zod's public converter; made once per schema. */
function shapeOf(schema: z.ZodType): Shape {
  let shape = shapes.get(schema);
  if (!shape) {
    shape = toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Shape;
    shapes.set(schema, shape);
  }
  return shape;
}

/** The object form of a shape, looking through unions. */
function objectOf(shape: Shape | undefined): Shape | undefined {
  if (!shape) return undefined;
  if (shape.properties || (shape.additionalProperties && typeof shape.additionalProperties === "object")) return shape;
  for (const option of shape.anyOf ?? []) {
    const found = objectOf(option);
    if (found) return found;
  }
  return undefined;
}

function warnUnknownKeys(
  node: unknown,
  shape: Shape | undefined,
  path: PropertyKey[],
  file: VFile,
  place: YamlPlace,
  span: Span,
  data: Record<string, unknown>,
): void {
  if (!isMap(node)) return;
  const object = objectOf(shape);
  const record = object && typeof object.additionalProperties === "object" ? object.additionalProperties : undefined;
  const known = object?.properties && !record ? Object.keys(object.properties) : undefined;
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (key === undefined) continue;
    const at = { place: span(isScalar(pair.key) ? pair.key.range : undefined), source: place.rule };
    const foreign = known && !known.includes(key) && path.length === 0 ? place.unknownKey?.(key, data[key], data) : undefined;
    if (foreign?.fatal) fileError(file, fieldRule(place.rule, "unread"), foreign.reason, at);
    else if (foreign) fileWarning(file, "unknown-key", foreign.reason, at);
    else if (known && !known.includes(key)) {
      const hint = didYouMean(key, known);
      const where = path.length ? ` in '${path.join(".")}'` : "";
      fileWarning(file, "unknown-key", `unknown key '${key}'${where}${hint ? `: did you mean '${hint}'?` : "."} It is ignored.`, at);
    }
    warnUnknownKeys(pair.value, object?.properties?.[key] ?? record, [...path, key], file, place, span, data);
  }
}
