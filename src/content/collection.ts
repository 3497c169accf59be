import type { Config } from "../config/schema.js";
import { fieldLine, itemLine, type ArticleMeta, type Author, type Tag } from "./article.js";
import { keptBySite, paths } from "./paths.js";
import type { ContentTree, SourceFile } from "./read.js";
import { listOf, quote } from "../validate/words.js";
import { fileError, fileWarning, fieldRule } from "../errors/rules.js";

/** Reads one article's metadata: `readMeta`, or a caching wrapper around it. */
export type MetaReader = (source: SourceFile, config: Config, assets: ReadonlyMap<string, number>) => ArticleMeta | undefined;

/** Every article whose front matter is usable, drafts and scheduled ones included. */
export function collectArticles(tree: ContentTree, config: Config, read: MetaReader): ArticleMeta[] {
  const articles: ArticleMeta[] = [];
  for (const source of tree.sources) {
    const meta = read(source, config, tree.assets);
    if (meta) articles.push(meta);
  }
  const oldest = oldestFirst(articles);
  const sameSlug = checkUnique(oldest, "slug", (a) => a.slug);
  // An id made from a slug that is taken twice is taken twice too: the slug's message says it all.
  checkUnique(oldest.filter((a) => a.pinnedId || !sameSlug.has(a)), "id", (a) => a.id);
  checkAliases(oldest);
  articles.sort(newestFirst);
  checkTagSpellings(articles);
  return articles;
}

/**
 * Tags spelt differently that make one page (R&D, r-and-d, R and D): a
 * warning on each article that does not use the most used spelling,
 * naming all of them.
 */
function checkTagSpellings(articles: readonly ArticleMeta[]): void {
  const bySlug = new Map<string, Map<string, ArticleMeta[]>>();
  for (const article of articles) {
    for (const tag of article.tags) {
      let spellings = bySlug.get(tag.slug);
      if (!spellings) bySlug.set(tag.slug, (spellings = new Map()));
      const users = spellings.get(tag.name);
      if (users) users.push(article);
      else spellings.set(tag.name, [article]);
    }
  }
  for (const [slug, spellings] of bySlug) {
    if (spellings.size < 2) continue;
    const ranked = [...spellings].sort((a, b) => b[1].length - a[1].length);
    const [main, users] = ranked[0] as [string, ArticleMeta[]];
    const all = listOf(ranked.map(([name]) => quote(name)));
    for (const [name, list] of ranked.slice(1)) {
      for (const article of list) {
        fileWarning(article.source.file, "tag-spelling", `tags ${all} all make one page, tags/${slug}/: write ${quote(name)} as ${quote(main)}, as ${users.length} ${users.length === 1 ? "article does" : "articles do"}`, { place: { line: fieldLine(article.source, "tags"), column: 1 } });
      }
    }
  }
}

/** Orders articles newest first; ties fall back to the id so the order never depends on the file system. */
export function newestFirst(a: ArticleMeta, b: ArticleMeta): number {
  return b.published.getTime() - a.published.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Whether an article is out at `now`: not a draft and not dated in the future. */
export function isPublished(article: ArticleMeta, now: Date): boolean {
  return !article.draft && article.published.getTime() <= now.getTime();
}

/**
 * Reports every article of `oldest` (oldestFirst's order) whose field an
 * earlier-dated one has too (the one readers know keeps it: a copy made for
 * a follow-up is told to change); returns them.
 */
function checkUnique(oldest: readonly ArticleMeta[], field: "slug" | "id", key: (a: ArticleMeta) => string): Set<ArticleMeta> {
  const owners = new Map<string, ArticleMeta>();
  const reported = new Set<ArticleMeta>();
  for (const article of oldest) {
    const value = key(article);
    const first = owners.get(value);
    if (!first) {
      owners.set(value, article);
      continue;
    }
    const which = first.published.getTime() === article.published.getTime() ? ` with the same date: give the one readers have not seen yet its own ${field}` : `, dated earlier: give this article its own ${field}`;
    fileError(article.source.file, fieldRule("duplicate", field), `duplicate ${field} "${value}": ${first.source.path} has it too${which}, like ${field}: ${field === "slug" ? "my-other-story" : "tag:…"} in the front matter`, { place: { line: fieldLine(article.source, field), column: 1 } });
    reported.add(article);
  }
  return reported;
}

/**
 * Reports each old address (`aliases`) that cannot send readers on, drafts'
 * too (they would fail the build that publishes them): where the site keeps
 * pages or files of its own, the address of an article's page or a file in
 * its folder, or one an earlier-dated article lists already. `oldest` is in
 * oldestFirst's order.
 */
function checkAliases(oldest: readonly ArticleMeta[]): void {
  // A page's article is the oldest with its slug, which keeps it (see checkUnique).
  const pages = new Map<string, ArticleMeta>();
  for (const article of oldest) if (!pages.has(paths.article(article.slug))) pages.set(paths.article(article.slug), article);
  const owners = new Map<string, ArticleMeta>();
  for (const article of oldest) {
    for (const alias of article.aliases ?? []) {
      const place = { line: aliasLine(article.source, alias), column: 1 };
      const page = pages.get(alias) ?? pages.get(alias.split("/").slice(0, 2).join("/") + "/");
      const first = owners.get(alias);
      if (keptBySite(alias)) fileError(article.source.file, fieldRule("front-matter", "aliases"), `'aliases' has ${alias}, where the site keeps pages and files of its own: take it out of aliases`, { place });
      else if (page) fileError(article.source.file, fieldRule("duplicate", "alias"), `'aliases' has ${alias}, ${page.source.path}'s ${pages.has(alias) ? "address: its page is there" : "folder: its page's files are there"}, so nothing can send readers on from it. Take it out of aliases`, { place });
      else if (first) fileError(article.source.file, fieldRule("duplicate", "alias"), `'aliases' has ${alias}, which ${first.source.path}, dated earlier, has too: an old address sends readers on to one article only`, { place });
      else owners.set(alias, article);
    }
  }
}

/** The line of the `aliases` item that gave a site path, written with its trailing slash or without. */
export function aliasLine(source: SourceFile, path: string): number {
  return itemLine(source, "aliases", path.replace(/\/$/, ""));
}

/** Articles oldest first, by path for one date: the first of them keeps what later ones also claim. */
function oldestFirst(articles: readonly ArticleMeta[]): ArticleMeta[] {
  return [...articles].sort((a, b) => a.published.getTime() - b.published.getTime() || (a.source.path < b.source.path ? -1 : 1));
}

/** Every tag with its articles in their given order, most used tags first, then by slug. */
export function groupByTag<T extends { tags: readonly Tag[] }>(articles: readonly T[]): Array<{ tag: Tag; list: T[] }> {
  const groups = new Map<string, { tag: Tag; list: T[] }>();
  for (const article of articles) {
    for (const tag of article.tags) {
      const group = groups.get(tag.slug) ?? { tag, list: [] };
      group.list.push(article);
      groups.set(tag.slug, group);
    }
  }
  return [...groups.values()].sort((a, b) => b.list.length - a.list.length || (a.tag.slug < b.tag.slug ? -1 : 1));
}

/** Every author with their articles in their given order, by key: the page and feeds of each. */
export function groupByAuthor<T extends { authors: readonly Author[] }>(articles: readonly T[]): Array<{ author: Author; list: T[] }> {
  const groups = new Map<string, { author: Author; list: T[] }>();
  for (const article of articles) {
    const seen = new Set<string>();
    for (const author of article.authors) {
      // An author named twice on one article lists it once.
      if (seen.has(author.key)) continue;
      seen.add(author.key);
      const group = groups.get(author.key) ?? { author, list: [] };
      group.list.push(article);
      groups.set(author.key, group);
    }
  }
  return [...groups.values()].sort((a, b) => (a.author.key < b.author.key ? -1 : a.author.key > b.author.key ? 1 : 0));
}
