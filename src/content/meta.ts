import { posix } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import type { Config } from "../config/schema.js";
import { parseYaml } from "../validate/yaml.js";
import { listOf, quote } from "../validate/words.js";
import { fieldLine, itemLine, slugify, splitFrontMatter, tagSlug, type ArticleMeta, type Author, type Tag } from "./article.js";
import { calendarDate } from "./dates.js";
import { tagUri } from "./ids.js";
import { aliasPath, paths, withinArticleFolder } from "./paths.js";
import type { SourceFile } from "./read.js";
import { foreignKey } from "./foreign-keys.js";
import { frontMatterSchema } from "./schema.js";
import { fieldRule, fileError, fileWarning } from "../errors/rules.js";

/**
 * Validates an article's front matter and derives its identity: slug from
 * `slug` or the file name, id from `id` or a tag: URI of the site's id
 * authority, date and slug.
 * Returns undefined when the front matter is unusable; messages are on the file.
 */
export function readMeta(source: SourceFile, config: Config, assets: ReadonlyMap<string, number>): ArticleMeta | undefined {
  const split = splitFrontMatter(source);
  if (!split) return undefined;
  const { file } = source;
  const schema = frontMatterSchema(config.site.timezone);
  const swallowed = textInFrontMatter(split.yaml, schema.shape);
  if (swallowed) {
    const lines = split.yaml.split("\n");
    const lastKey = lines.slice(0, swallowed.index).findLastIndex((line) => line.trim() !== "");
    const closes = `the --- on line ${split.bodyLine - 1} closes the front matter instead, which drops what is between. Add a line --- after line ${2 + lastKey}`;
    const place = { place: { line: 2 + swallowed.index, column: 1 } };
    if (swallowed.certain) {
      fileError(file, "front-matter-unclosed", `the front matter is not closed before the article's text: this line reads as text, and ${closes}`, place);
      return undefined;
    }
    fileWarning(file, "front-matter-unclosed", `this line is a YAML comment, and is left out. If it is a heading of the article, the front matter is not closed before it: ${closes}`, place);
  }
  const byDefault = config.defaultAuthor === undefined ? [] : [config.defaultAuthor, config.authors[config.defaultAuthor]?.name ?? config.defaultAuthor];
  const fm = parseYaml(split.yaml, schema, file, { line: 2, rule: "front-matter", unknownKey: (key, value, front) => foreignKey(key, value, front, byDefault) });
  if (!fm) return undefined;

  const name = posix.basename(source.path) === "index.md" ? posix.basename(posix.dirname(source.path)) : posix.basename(source.path, ".md");
  const slug = fm.slug ?? slugify(name);
  if (!slug) {
    fileError(file, "slug", `cannot make a URL slug from the file name "${name}": add slug: my-story to the front matter`, { place: { line: 1, column: 1 } });
    return undefined;
  }
  if (fm.published !== undefined) {
    const place = { place: { line: fieldLine(source, "published"), column: 1 } };
    // Jekyll's way to hold an article back, which Presswork would otherwise ignore and publish: on the site, in the feeds, in an issue.
    if (!fm.published && !fm.draft) fileError(file, "front-matter-published", "'published: false' holds an article back in Jekyll; Presswork publishes every article that is not a draft. Write draft: true instead", place);
    else fileWarning(file, "front-matter-published", `'published' is not read: Presswork publishes every article that is not a draft${fm.draft ? ", and this one is" : ""}. Take the line out`, place);
  }
  const markup = fm.summary === undefined ? undefined : MARKDOWN_IN_TEXT.exec(fm.summary)?.[0];
  if (markup) {
    fileWarning(file, "summary-markdown", `'summary' is plain text, shown as written on cards, in feeds and in email: ${quote(markup.length > 40 ? `${markup.slice(0, 39)}…` : markup)} shows its Markdown signs. Write it without them`, { place: { line: fieldLine(source, "summary"), column: 1 } });
  }
  const updated = fm.updated ?? fm.date;
  if (updated < fm.date) {
    fileError(file, "front-matter-updated", "'updated' is before 'date': an article cannot change before it is published", { place: { line: fieldLine(source, "updated"), column: 1 } });
  }
  const id = new URL(fm.id ?? tagUri(config, calendarDate(fm.date, config.site.timezone), slug)).href;

  const meta: ArticleMeta = {
    id,
    slug,
    title: fm.title,
    published: fm.date,
    updated,
    authors: resolveAuthors(fm.authors, config, source),
    tags: uniqueTags(fm.tags ?? [], source),
    draft: fm.draft,
    pinnedId: fm.id !== undefined,
    source,
  };
  if (fm.subtitle !== undefined) meta.subtitle = fm.subtitle;
  if (fm.summary !== undefined) meta.summary = fm.summary;
  if (fm.keyPoints !== undefined) meta.keyPoints = fm.keyPoints;
  if (fm.canonical !== undefined) meta.canonical = fm.canonical;
  if (fm.aliases) meta.aliases = oldAddresses(fm.aliases, config, source, paths.article(slug));
  if (fm.image) {
    const path = posix.join(posix.dirname(source.path), fm.image.src);
    const size = assets.get(path);
    const place = { line: fieldLine(source, "image"), column: 1 };
    if (/^[a-z][a-z0-9+.-]*:/i.test(fm.image.src)) {
      fileError(file, "missing-asset", `'image.src' is a web address: the picture is published from a file next to the article, so it cannot vanish from the site, its feeds and the emails that show it. Save it there and write its file name, like image: { src: photo.jpg, alt: … }`, { place });
    } else if (size === undefined) {
      fileError(file, "missing-asset", `'image.src' is "${fm.image.src}", but there is no file ${path}: put the image next to the article`, { place });
    } else if (withinArticleFolder(source.path, path) === undefined) {
      // Published next to the article's page only: from another article's folder it would go nowhere, and every use of it with it.
      fileError(file, "missing-asset", `'image.src' is "${fm.image.src}", outside the article's folder: move the image next to the article`, { place });
    } else {
      meta.image = { path, size, alt: fm.image.alt };
      if (fm.image.caption !== undefined) meta.image.caption = fm.image.caption;
    }
  }
  return meta;
}

/**
 * The first line (0-based, in the YAML) of an article's text inside front
 * matter left open, which a `---` rule in the body closed instead, after a
 * blank line. Certain: a line YAML cannot read that is no key or comment
 * (a paragraph, a quote, a picture), or a heading over one. Perhaps: a
 * heading, which YAML drops as a comment, with a blank line before the
 * closing `---` too (as before a rule in the body) and no key of the front
 * matter after it; a comment between groups of keys is not that.
 */
function textInFrontMatter(yaml: string, keys: Readonly<Record<string, unknown>>): { index: number; certain: boolean } | undefined {
  const lines = yaml.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const blank = (index: number) => (lines[index] ?? "").trim() === "";
  const keyOf = (line: string) => /^([^\s:#"'[{][^\s:]*)\s*:(\s|$)/.exec(line)?.[1];
  // A value left open before the blank line (a quote, a [ or a {) goes on after it: what is wrong there is YAML's to say.
  const open = (index: number) => {
    const before = lines.slice(0, index).join("\n");
    const count = (c: string) => before.split(c).length - 1;
    return count('"') % 2 === 1 || count("[") > count("]") || count("{") > count("}");
  };
  const gaps = lines.flatMap((line, index) => (index > 0 && blank(index - 1) && !blank(index) && !/^\s/.test(line) && !open(index) ? [index] : []));
  if (gaps.length === 0) return undefined;
  const counter = new LineCounter();
  const errors = parseDocument(yaml, { lineCounter: counter }).errors.map((error) => counter.linePos(error.pos[0]).line - 1);
  // An error on the line or on those after it up to the next key: one further down is another mistake's.
  const unreadable = (from: number) => {
    const next = lines.findIndex((line, index) => index > from && keyOf(line) !== undefined);
    return errors.some((line) => line >= from && (next < 0 || line < next));
  };
  const heading = (line: string) => /^#{1,6}\s+\S/.test(line) && keyOf(line.replace(/^#+\s+/, "")) === undefined;
  const certain = gaps.find((index) => {
    const line = lines[index] ?? "";
    if (keyOf(line) === undefined && !line.startsWith("#") && unreadable(index)) return true;
    return heading(line) && !blank(index + 1) && keyOf(lines[index + 1] ?? "") === undefined && unreadable(index + 1);
  });
  if (certain !== undefined) return { index: certain, certain: true };
  if (!blank(lines.length - 1)) return undefined;
  const perhaps = gaps.find((index) => heading(lines[index] ?? "") && !lines.slice(index).some((line) => Object.hasOwn(keys, keyOf(line) ?? "")));
  return perhaps === undefined ? undefined : { index: perhaps, certain: false };
}

/** The site paths of an article's old addresses; a value that is none, or is the article's own address, is an error on the line of `aliases`. */
function oldAddresses(values: readonly string[], config: Config, source: SourceFile, own: string): string[] {
  const found = new Set<string>();
  for (const value of values) {
    const place = { line: itemLine(source, "aliases", value), column: 1 };
    const alias = aliasPath(value, config.site.url);
    if ("problem" in alias) fileError(source.file, fieldRule("front-matter", "aliases"), `'aliases' has "${value}", which ${alias.problem}`, { place });
    else if (alias.path === own) fileError(source.file, fieldRule("front-matter", "aliases"), `'aliases' has "${value}", this article's own address: list only the addresses it had before`, { place });
    else found.add(alias.path);
  }
  return [...found];
}

function resolveAuthors(names: string[] | undefined, config: Config, source: SourceFile): Author[] {
  const keys = names ?? (config.defaultAuthor ? [config.defaultAuthor] : []);
  return keys.flatMap((key) => {
    const known = Object.hasOwn(config.authors, key) ? config.authors[key] : undefined;
    return known ? configAuthor(key, known) : guestAuthor(key, config, source);
  });
}

/** An author of the config's `authors`, by key. */
function configAuthor(key: string, known: Config["authors"][string]): Author {
  const author: Author = { key, name: known.name };
  if (known.email) author.email = known.email;
  if (known.url) author.url = known.url;
  return author;
}

/**
 * An author written by name, not by a key of the config's `authors`: their
 * page is the slug of the name. A name with nothing to make one from (李雷,
 * Σωκράτης), or whose slug is the key of an author of another name, is an
 * error: every such author would share one page, credited with the others'
 * articles. A config author's own name is that author.
 */
function guestAuthor(name: string, config: Config, source: SourceFile): Author[] {
  // Written by their name rather than their key (in any case, its accents composed or not): the same person.
  const spelled = (text: string) => text.normalize("NFC").trim().toLowerCase();
  const same = Object.entries(config.authors).find(([, known]) => spelled(known.name) === spelled(name));
  if (same) return [configAuthor(...same)];
  const key = slugify(name);
  const place = { line: fieldLine(source, "authors"), column: 1 };
  const keyed = `add them to authors: in presswork.config.yaml under a key of Latin letters and digits, with name: ${name}, and write that key here`;
  if (!key) {
    fileError(source.file, "author-page", `author ${quote(name)} has no Latin letters or digits to make their page's address from: ${keyed}`, { place });
    return [];
  }
  const other = Object.hasOwn(config.authors, key) ? config.authors[key] : undefined;
  if (other) {
    fileError(source.file, "author-page", `author ${quote(name)} would share the page authors/${key}/ of ${other.name}: write ${key} if it is ${other.name}, or ${keyed}`, { place });
    return [];
  }
  return [{ key, name }];
}

/** Markdown that plain text shows as written: strong words, a link, code. */
const MARKDOWN_IN_TEXT = /\*\*[^*\s][^*]*\*\*|\[[^\]\n]+\]\([^)\s]+\)|`[^`\n]+`/;

/** The article's tags, one per page: a tag with nothing to make an address from is an error, two spellings of one are a warning. */
function uniqueTags(names: string[], source: SourceFile): Tag[] {
  const seen = new Map<string, Tag & { spellings: string[] }>();
  const place = { line: fieldLine(source, "tags"), column: 1 };
  // Written as one text on the key's own line, not as a list.
  const oneText = names.length === 1 && /^tags:[ \t]*[^\s\[#]/.test(source.text.split("\n")[place.line - 1] ?? "");
  // Composed: a name typed with combining marks is the same name, and shows as one spelling.
  for (const name of names.map((n) => n.normalize("NFC"))) {
    const slug = tagSlug(name);
    if (!slug) {
      fileError(source.file, "tag-empty", `tag ${quote(name)} has no letters or digits to make its page's address from: write it with words, like "Open Source"`, { place });
      continue;
    }
    // `tags: Chips, Networks` is one text in YAML: one topic, where the editor meant two (a list's "1,000 Days" is meant).
    if (oneText && /,(?!\d)/.test(name)) {
      const parts = name.split(/,(?!\d)/).map((part) => JSON.stringify(part.trim())).filter((part) => part !== '""');
      fileWarning(source.file, "tag-comma", `'tags' is one text with a comma, so one topic, tags/${slug}/: for several, write a list, like tags: [${parts.join(", ")}]`, { place });
    }
    const tag = seen.get(slug);
    if (!tag) seen.set(slug, { name: name.trim(), slug, spellings: [name.trim()] });
    else if (!tag.spellings.includes(name.trim())) tag.spellings.push(name.trim());
  }
  for (const { slug, spellings } of seen.values()) {
    if (spellings.length < 2) continue;
    fileWarning(source.file, "tag-spelling", `tags ${listOf(spellings.map((s) => quote(s)))} are one topic, tags/${slug}/: keep one of them`, { place });
  }
  return [...seen.values()].map(({ name, slug }) => ({ name, slug }));
}
