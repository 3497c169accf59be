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

/** The folders whose every address the site may take (a topic, an author, an issue), its pages of one address, the numbered pages, and the files at its root. */
const SITE_FOLDERS = [paths.tags, paths.authors, "issues/"];
const SITE_PAGES: readonly string[] = [paths.archive, paths.subscribe, paths.feedsPage];
const NUMBERED = /^(page|feeds\/archive)\/\d+\//;
const SITE_FILES = [...Object.values(paths.feeds()), paths.stylesheet, "index.html", "404.html", "sitemap.xml", "robots.txt"];

/** Whether a site path is one the site may write pages or files of its own at, whatever the articles are (see SITE_FOLDERS). */
export function keptBySite(path: string): boolean {
  return SITE_FOLDERS.some((folder) => path.startsWith(folder)) || SITE_PAGES.includes(path) || NUMBERED.test(path) || SITE_FILES.some((file) => path === file || path.startsWith(`${file}/`));
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

/**
 * An article's old address (`aliases`) as the site path of the page that
 * redirects from it: written as a path on the site (`articles/old-name/`,
 * `/2019/05/launch.html`) or as a full URL under `siteUrl`. A folder gets
 * its trailing slash. Otherwise, what keeps it from being one.
 */
export function aliasPath(value: string, siteUrl: string): { path: string } | { problem: string } {
  const site = new URL(siteUrl);
  let url: URL;
  try {
    url = new URL(value.trim(), site);
  } catch {
    return { problem: "is not an address" };
  }
  if (url.origin !== site.origin || !url.pathname.startsWith(site.pathname)) return { problem: `is not an address on this site, whose pages are under ${site.href}` };
  if (url.search || url.hash) return { problem: "has a ? or a #: a page of the site stands for an address without them" };
  let segments: string[];
  try {
    segments = url.pathname.slice(site.pathname.length).split("/").map(decodeURIComponent);
  } catch {
    return { problem: "has a % that starts no character" };
  }
  // Decoded one part at a time: a %2F is no folder, and a %2E%2E no way up.
  if (segments.some((part) => part.includes("/") || part === "." || part === "..")) return { problem: "has a %2F or a %2E that stands for a / or a . of the path: write the address as it is" };
  const path = segments.join("/");
  if (path === "" || path === "index.html") return { problem: "is the home page" };
  const last = path.slice(path.lastIndexOf("/") + 1);
  if (last === "" || /\.html?$/.test(last)) return { path };
  // A static host serves anything else with a dot as a file of that kind (a download), never as a page.
  if (last.includes(".")) return { problem: `ends in ${last}: a static host serves that as a file to download, not as a page, so only an address ending in / or .html can send readers on` };
  return { path: `${path}/` };
}
