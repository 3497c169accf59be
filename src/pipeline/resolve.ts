import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { digest } from "../cache/key.js";
import type { ArticleMeta } from "../content/article.js";
import { fileFor, paths, withinArticleFolder } from "../content/paths.js";
import { setAside } from "../content/read.js";
import type { VFile } from "vfile";
import { fileWarning } from "../errors/rules.js";
import { elementIds, ID_PREFIX, missingPart, shownUrl, splitLocalUrl, type Resolution, type Resolver } from "../markdown/links.js";
import type { RenderedBody } from "../markdown/render.js";

/** What resolving a link needs to know of the article it leads to. Plain data, so a render worker can hold it. */
export interface LinkTarget {
  path: string;
  slug: string;
  draft: boolean;
  /** Publication time in milliseconds. */
  published: number;
  /** The article's front matter has errors: it has no address until they are fixed. */
  broken?: boolean;
}

/** The link targets of a set of articles, and of the article files among `sources` whose front matter could not be read. */
export function linkTargets(articles: readonly ArticleMeta[], sources: readonly string[] = []): LinkTarget[] {
  const read = new Set(articles.map((a) => a.source.path));
  const broken = sources.filter((path) => !read.has(path)).map((path) => ({ path, slug: "", draft: false, published: 0, broken: true }));
  return [...articles.map((a) => ({ path: a.source.path, slug: a.slug, draft: a.draft, published: a.published.getTime() })), ...broken];
}

/** A digest of everything makeResolver answers from: while it is the same, every link resolves as it did. */
export function resolverDigest(articles: readonly LinkTarget[], assets: ReadonlySet<string>, now: number): string {
  return digest(articles.map((a) => [a.path, a.slug, a.draft, a.published > now, a.broken === true]), [...assets]);
}

/**
 * Where an asset under an article's folder is published: next to the
 * article's page. Both paths are relative to the project root and
 * normalised, so the asset is under the folder when its path starts with it
 * (path.relative resolves both against the working folder first: a tenth of
 * a rebuild over thousands of articles with images).
 */
export function assetSitePath(article: { source: { path: string }; slug: string }, assetPath: string): string | undefined {
  const within = withinArticleFolder(article.source.path, assetPath);
  return within === undefined ? undefined : paths.article(article.slug) + within.split("/").map(encodeURIComponent).join("/");
}

/** Whether each link a render resolved (`resolved`, from `from`) resolves as it did then: its cached HTML still holds. */
export function resolvesAsBefore(resolve: Resolver, from: string, resolved: ReadonlyArray<readonly [url: string, resolution: Resolution]>): boolean {
  return resolved.every(([url, was]) => JSON.stringify(resolve(from, url)) === JSON.stringify(was));
}

/**
 * Resolves links between articles and to assets: `other.md`, `other/` (a
 * folder's index.md or the file other.md), `../other/index.md#part`,
 * `/articles/other.md` from the project's root, `photo.jpg`. A link to a
 * draft, to an article that is not yet published at `now`, or to a missing
 * file is an error; one to an article file that is elsewhere names it.
 */
export function makeResolver(articles: readonly LinkTarget[], assets: ReadonlySet<string>, now: number): Resolver {
  const bySource = new Map(articles.map((a) => [a.path, a]));
  // What only a broken link's message needs, made for the first: an article by its file's name (a folder's for
  // index.md), the one a link to a file not where it points means; a file by its path in lower case, as a link that
  // names it in other letters works on a Mac's disk and on no web server.
  let byName: Map<string, string[]> | undefined;
  let byLowerCase: Map<string, string> | undefined;
  const elsewhere = (from: string, path: string) => {
    if (!byName) {
      byName = new Map();
      for (const { path: source } of articles) {
        const name = articleName(source);
        byName.set(name, [...(byName.get(name) ?? []), source]);
      }
    }
    const [only, ...more] = byName.get(articleName(path)) ?? [];
    return only === undefined || more.length > 0 ? "" : `: did you mean ${posix.relative(posix.dirname(from), only)}?`;
  };
  return (from: string, url: string): Resolution => {
    const { path, fragment } = splitLocalUrl(from, url);
    const bare = path.replace(/\/$/, "");
    const target = bySource.get(path) ?? bySource.get(`${bare}/index.md`) ?? (path.endsWith("/") ? bySource.get(`${bare}.md`) : undefined);
    if (target) {
      if (target.broken) return { kind: "error", reason: `links to ${path}, whose front matter has errors: fix them there, and this link works` };
      if (target.draft) return { kind: "error", reason: `links to ${path}, which is a draft and will not be published` };
      if (target.published > now) {
        const when = new Date(target.published).toISOString().replace("T", " ").replace(/:00\.000Z$/, " UTC");
        return { kind: "error", reason: `links to ${path}, which is not published until ${when}: readers would find nothing there until then. Link to it once it is out` };
      }
      return { kind: "article", sitePath: paths.article(target.slug) + fragment };
    }
    if (path.endsWith(".md")) {
      // A file under a folder such as _drafts/ is there, and no article (see readContent).
      const aside = setAside(path) ? ": a file or folder whose name starts with _ holds no article" : "";
      return { kind: "error", reason: `links to ${url}, but there is no article ${path}${elsewhere(from, path) || aside}` };
    }
    const owner = bySource.get(from);
    if (!assets.has(path) || !owner) {
      // www.example.com written without its scheme reads as a file next to the article.
      const web = /^www\.[^/\s]+\.[a-z]{2,}/i.test(url) ? `: for the web address, write https://${url}` : "";
      byLowerCase ??= new Map([...assets].map((asset) => [asset.toLowerCase(), asset]));
      const cased = assets.has(path) ? undefined : byLowerCase.get(path.toLowerCase());
      const named = cased ? `: the file is named ${posix.relative(posix.dirname(from), cased)}, and a web server tells names apart by case` : "";
      return { kind: "error", reason: `links to ${url}, but there is no file ${path}${web}${named}` };
    }
    const sitePath = assetSitePath({ source: { path: owner.path }, slug: owner.slug }, path);
    if (sitePath === undefined) return { kind: "error", reason: `links to ${path}, outside the article's folder: move the file next to the article` };
    return { kind: "asset", sitePath, source: path };
  };
}

/** The name an article file goes by: its file name without .md, or its folder's for an index.md. */
function articleName(path: string): string {
  const base = posix.basename(path, ".md");
  return base === "index" ? posix.basename(posix.dirname(path)) : base;
}

/** A rendered document's links that name a part (see resolveLocalUrls), and what each local link resolved to. */
type PartLinks = Pick<RenderedBody, "fragments" | "resolved">;

/**
 * Warns, on each article whose body links to a part of an article by its
 * file (`other.md#part`), about each part that article's body has no id
 * for: the link opens at the top of that page. The id must be the one the
 * page has: a footnote's or an anchor's carries the sanitiser's prefix
 * there, which only links within a body are pointed at. Run on every
 * build, on cached bodies too, as a link breaks when the heading it names
 * changes: against the ids each body's render recorded, so no HTML is
 * parsed. `pageIds` gives the ids the site's templates put on every page,
 * asked for only when some link names a part.
 */
export function checkArticleFragments(articles: ReadonlyArray<{ meta: { slug: string; source: { file: VFile } }; body: RenderedBody }>, pageIds: () => ReadonlySet<string>): void {
  if (!articles.some(({ body }) => body.fragments?.length)) return;
  const idsOf = articlePageIds(articles.map(({ meta, body }) => ({ slug: meta.slug, body })), pageIds());
  for (const { meta, body } of articles) warnMissingParts(meta.source.file, body, () => idsOf(paths.article(meta.slug)) ?? new Set(), idsOf);
}

/**
 * The same for an editor's note, on its issue's page: its links to a part
 * of the note (`#part`) or of an article (`other.md#part`). Run on every
 * build, as the note's HTML is remembered while an article's headings may
 * change. `note.web` is the note's HTML on the page.
 */
export async function checkNoteFragments(file: VFile, note: PartLinks & { web: string }, articles: ReadonlyArray<{ slug: string; body: RenderedBody }>, pageIds: () => ReadonlySet<string>): Promise<void> {
  if (!note.fragments?.length) return;
  const ids = pageIds();
  // The note's own ids, read from its HTML only for a link to a part of the note.
  const own = note.fragments.some(([url]) => url.startsWith("#")) ? elementIds((await import("hast-util-from-html")).fromHtml(note.web, { fragment: true })) : [];
  warnMissingParts(file, note, () => new Set([...ids, ...own]), articlePageIds(articles, ids));
}

/** The ids of each article's page by its site path (`articles/x/`): its template's and its body's, as its render recorded them, gathered when first asked for. */
function articlePageIds(articles: ReadonlyArray<{ slug: string; body: RenderedBody }>, pageIds: ReadonlySet<string>): (page: string) => ReadonlySet<string> | undefined {
  const bodies = new Map(articles.map(({ slug, body }) => [paths.article(slug), body]));
  const read = new Map<string, Set<string>>();
  return (page) => {
    const body = bodies.get(page);
    if (!body) return undefined;
    let ids = read.get(page);
    if (!ids) {
      ids = new Set([...pageIds, ...body.ids]);
      read.set(page, ids);
    }
    return ids;
  };
}

/**
 * Warns on `file` about each of a document's links to a part that its own
 * page (the ids `own` reads, only when a link needs them: most bodies link
 * to no part) or the article page it names lacks.
 */
function warnMissingParts(file: VFile, links: PartLinks, own: () => ReadonlySet<string>, idsOf: (page: string) => ReadonlySet<string> | undefined): void {
  for (const [url, line, column] of links.fragments ?? []) {
    // A part of this page its body lacks (see resolveLocalUrls): the page's template may have it.
    if (url.startsWith("#")) {
      const missing = missingPart(url, own(), "on this page", ID_PREFIX);
      if (missing) fileWarning(file, "broken-anchor", `links to ${shownUrl(url)}, but ${missing}`, { place: { line, column } });
      continue;
    }
    const resolution = links.resolved.find(([written]) => written === url)?.[1];
    if (resolution?.kind !== "article") continue;
    // An article this run does not render has no page to link to, which the link's own error says.
    const ids = idsOf(resolution.sitePath.slice(0, resolution.sitePath.indexOf("#")));
    if (!ids) continue;
    const missing = missingPart(url, ids, `in ${shownUrl(url.split(/[?#]/)[0] ?? url)}`, undefined, ID_PREFIX);
    if (missing) fileWarning(file, "broken-anchor", `links to ${shownUrl(url)}, but ${missing}`, { place: { line, column } });
  }
}

/**
 * The ids the site's pages have outside their bodies, as its Liquid
 * templates write them (`<main id="main">`, `<h2 id="quick-reads">`): those
 * written out, not made from a value. `dir` is the site's templates
 * folder: none when it is missing, which the build reports where it reads
 * the templates.
 */
export function siteTemplateIds(dir: string): Set<string> {
  if (!existsSync(dir)) return new Set();
  const texts = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".liquid"))
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), "utf8"));
  return new Set(texts.flatMap((text) => [...text.matchAll(/\bid="([^"{}]+)"/g)].map((match) => match[1] as string)));
}

/**
 * Warns about each link or picture of an article's body that names a place
 * of the site by its address (`/tags/x/`, `/wp-content/photo.jpg`, the
 * site's own URL) where the build makes no file: a page readers would not
 * find, a picture they would not see. A site-root address is the site's,
 * under its base path, as the pages write it (see rebaseUrls). `has` says
 * whether the build makes a file, by its path in the output folder.
 */
export function checkSiteLinks(articles: ReadonlyArray<{ source: { file: VFile }; body: RenderedBody }>, has: (path: string) => boolean, siteUrl: string): void {
  for (const { source, body } of articles) {
    for (const [url, line, column, picture] of body.siteLinks ?? []) {
      let file: string;
      try {
        file = decodeURIComponent((url.startsWith("/") ? url.slice(1) : url.slice(siteUrl.length)).replace(/[?#].*$/, ""));
      } catch {
        continue;
      }
      if (has(fileFor(file)) || has(`${file}/index.html`)) continue;
      const shown = shownUrl(url);
      fileWarning(source.file, "site-link", picture ? `shows ${shown}, which the site does not have: readers see no picture. Save the picture next to the article and write its file name` : `links to ${shown}, where the site has no page: readers find nothing there. Link to an article by its file (other.md), or to a page the site has`, { place: { line, column } });
    }
  }
}
