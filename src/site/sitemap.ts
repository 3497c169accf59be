import type { Config } from "../config/schema.js";
import { absoluteUrl, paths } from "../content/paths.js";
import type { Article } from "../content/article.js";
import { escapeXml } from "../xml/escape.js";
import { groupByAuthor, groupByTag } from "../content/collection.js";

/** sitemap.xml: home, archive, topics, the feeds page, tag and author pages, every article with its last change, and `pages` (the newsletter's, say). */
export function sitemap(config: Config, articles: readonly Article[], pages: ReadonlyArray<{ path: string; lastmod?: Date }> = []): string {
  const url = (path: string, lastmod?: Date) =>
    `  <url><loc>${escapeXml(absoluteUrl(path, config.site.url))}</loc>${lastmod ? `<lastmod>${lastmod.toISOString()}</lastmod>` : ""}</url>`;
  const newest = articles.reduce<Date | undefined>((max, a) => (!max || a.updated > max ? a.updated : max), undefined);
  const lines = [
    url(paths.home, newest),
    url(paths.archive, newest),
    url(paths.tags, newest),
    url(paths.feedsPage),
    ...groupByTag(articles).map(({ tag, list }) => url(paths.tag(tag.slug), latest(list))),
    ...groupByAuthor(articles).map(({ author, list }) => url(paths.author(author.key), latest(list))),
    ...articles.map((a) => url(a.path, a.updated)),
    ...pages.map((p) => url(p.path, p.lastmod)),
  ];
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${lines.join("\n")}\n</urlset>\n`;
}

function latest(list: readonly Article[]): Date {
  return list.reduce((m, a) => (a.updated > m ? a.updated : m), new Date(0));
}

/** robots.txt pointing crawlers at the sitemap. */
export function robots(config: Config): string {
  return `User-agent: *\nAllow: /\nSitemap: ${new URL("sitemap.xml", config.site.url).href}\n`;
}
