import { posix } from "node:path";

/** Where things live on the site, as paths relative to the site root (no leading slash). */
export const paths = {
  home: "",
  page: (n: number) => (n <= 1 ? "" : `page/${n}/`),
  article: (slug: string) => `articles/${slug}/`,
  tags: "tags/",
  tag: (slug: string) => `tags/${slug}/`,
  tagPage: (slug: string, n: number) => (n <= 1 ? `tags/${slug}/` : `tags/${slug}/page/${n}/`),
  archive: "archive/",
  subscribe: "subscribe/",
  authors: "authors/",
  author: (key: string) => `authors/${key}/`,
  authorPage: (key: string, n: number) => (n <= 1 ? `authors/${key}/` : `authors/${key}/page/${n}/`),
  /** The page that lists every feed, for people who click a feed link. */
  feedsPage: "feeds/",
  /** RFC 5005 archive page `n` of the site-wide feeds, the oldest being 1. */
  feedArchive: (n: number) => `feeds/archive/${n}/`,
  feeds: (prefix = "") => ({ rss: `${prefix}feed.xml`, atom: `${prefix}atom.xml`, json: `${prefix}feed.json` }),
  stylesheet: "feed.xsl",
} as const;

/**
 * An asset's path within its article's folder, which its files are
 * published beside its page from; undefined for one outside it. Both paths
 * relative to the project root and normalised.
 */
export function withinArticleFolder(articlePath: string, assetPath: string): string | undefined {
  const folder = `${posix.dirname(articlePath)}/`;
  return assetPath.startsWith(folder) ? assetPath.slice(folder.length) : undefined;
}

/** A page path as the file that holds it: "articles/x/" becomes "articles/x/index.html". */
export function fileFor(path: string): string {
  return path === "" || path.endsWith("/") ? `${path}index.html` : path;
}

/** A site path of plain URL characters, with no `.` or `..` segment and no leading slash: one the URL parser would leave as it is. */
const PLAIN_PATH = /^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[\w.~%/-]*$/;
const canonical = new Map<string, boolean>();

/**
 * `new URL(path, siteUrl).href`, without the URL parser (a tenth of a
 * rebuild over thousands of articles) when the site URL is already in its
 * canonical form with a trailing slash and the path is plain.
 */
export function absoluteUrl(path: string, siteUrl: string): string {
  let plainBase = canonical.get(siteUrl);
  if (plainBase === undefined) {
    plainBase = siteUrl.endsWith("/") && URL.canParse(siteUrl) && new URL(siteUrl).href === siteUrl;
    canonical.set(siteUrl, plainBase);
  }
  return plainBase && PLAIN_PATH.test(path) ? siteUrl + path : new URL(path, siteUrl).href;
}
