import { posix } from "node:path";
import type { Config } from "../config/schema.js";
import { parseYaml } from "../validate/yaml.js";
import { fieldLine, slugify, splitFrontMatter, type ArticleMeta, type Author, type Tag } from "./article.js";
import { calendarDate } from "./dates.js";
import type { SourceFile } from "./read.js";
import { frontMatterSchema } from "./schema.js";

/**
 * Validates an article's front matter and derives its identity: slug from
 * `slug` or the file name, id from `id` or a tag: URI of host, date and slug.
 * Returns undefined when the front matter is unusable; messages are on the file.
 */
export function readMeta(source: SourceFile, config: Config, assets: ReadonlyMap<string, number>): ArticleMeta | undefined {
  const split = splitFrontMatter(source);
  if (!split) return undefined;
  const { file } = source;
  const fm = parseYaml(split.yaml, frontMatterSchema(config.site.timezone), file, { line: 2, rule: "front-matter" });
  if (!fm) return undefined;

  const name = posix.basename(source.path) === "index.md" ? posix.basename(posix.dirname(source.path)) : posix.basename(source.path, ".md");
  const slug = fm.slug ?? slugify(name);
  if (!slug) {
    file.message(`cannot make a URL slug from the file name "${name}": add slug: my-story to the front matter`, {
      place: { line: 1, column: 1 },
      ruleId: "slug",
      source: "content",
    }).fatal = true;
    return undefined;
  }
  const updated = fm.updated ?? fm.date;
  if (updated < fm.date) {
    file.message("'updated' is before 'date': an article cannot change before it is published", {
      place: { line: fieldLine(source, "updated"), column: 1 },
      ruleId: "front-matter-updated",
      source: "content",
    }).fatal = true;
  }
  const host = new URL(config.site.url).hostname;
  const id = new URL(fm.id ?? `tag:${host},${calendarDate(fm.date, config.site.timezone)}:${slug}`).href;

  const meta: ArticleMeta = {
    id,
    slug,
    title: fm.title,
    published: fm.date,
    updated,
    authors: resolveAuthors(fm.authors, config),
    tags: uniqueTags(fm.tags ?? []),
    draft: fm.draft,
    pinnedId: fm.id !== undefined,
    source,
  };
  if (fm.subtitle !== undefined) meta.subtitle = fm.subtitle;
  if (fm.summary !== undefined) meta.summary = fm.summary;
  if (fm.keyPoints !== undefined) meta.keyPoints = fm.keyPoints;
  if (fm.canonical !== undefined) meta.canonical = fm.canonical;
  if (fm.image) {
    const path = posix.join(posix.dirname(source.path), fm.image.src);
    const size = assets.get(path);
    if (size === undefined) {
      file.message(`'image.src' is "${fm.image.src}", but there is no file ${path}: put the image next to the article`, {
        place: { line: fieldLine(source, "image"), column: 1 },
        ruleId: "missing-asset",
        source: "content",
      }).fatal = true;
    } else {
      meta.image = { path, size, alt: fm.image.alt };
      if (fm.image.caption !== undefined) meta.image.caption = fm.image.caption;
    }
  }
  return meta;
}

function resolveAuthors(names: string[] | undefined, config: Config): Author[] {
  const keys = names ?? (config.defaultAuthor ? [config.defaultAuthor] : []);
  return keys.map((key) => {
    const known = config.authors[key];
    if (!known) return { name: key };
    const author: Author = { name: known.name };
    if (known.email) author.email = known.email;
    if (known.url) author.url = known.url;
    return author;
  });
}

function uniqueTags(names: string[]): Tag[] {
  const seen = new Map<string, Tag>();
  for (const name of names) {
    const slug = slugify(name) || "tag";
    if (!seen.has(slug)) seen.set(slug, { name: name.trim(), slug });
  }
  return [...seen.values()];
}
