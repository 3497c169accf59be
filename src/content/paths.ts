/** Where things live on the site, as paths relative to the site root (no leading slash). */
export const paths = {
  home: "",
  page: (n: number) => (n <= 1 ? "" : `page/${n}/`),
  article: (slug: string) => `articles/${slug}/`,
  tags: "tags/",
  tag: (slug: string) => `tags/${slug}/`,
  tagPage: (slug: string, n: number) => (n <= 1 ? `tags/${slug}/` : `tags/${slug}/page/${n}/`),
  archive: "archive/",
  feeds: (prefix = "") => ({ rss: `${prefix}feed.xml`, atom: `${prefix}atom.xml`, json: `${prefix}feed.json` }),
  stylesheet: "feed.xsl",
} as const;

/** A page path as the file that holds it: "articles/x/" becomes "articles/x/index.html". */
export function fileFor(path: string): string {
  return path === "" || path.endsWith("/") ? `${path}index.html` : path;
}
