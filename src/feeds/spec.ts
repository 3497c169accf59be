import type { Config } from "../config/schema.js";
import type { Author } from "../content/article.js";
import { paths } from "../content/paths.js";
import type { Article } from "../markdown/article.js";
import { cacheKey } from "../cache/key.js";
import { escapeXml } from "../xml/escape.js";

/** One feed's channel data, in all three formats. */
export interface FeedSpec {
  /** Permanent id of the feed: the URL of the page it mirrors. */
  id: string;
  title: string;
  description: string;
  homeUrl: string;
  urls: { rss: string; atom: string; json: string };
  language: string;
  /** The newest change among its articles: never the build time. */
  updated: Date;
  /** Named on the feed so every Atom entry has an author even when an article names none. */
  author: Author;
  stylesheet: string;
  icon?: string;
  logo?: string;
  copyright?: string;
  hub?: string;
  fullContent: boolean;
  articles: readonly Article[];
}

/** The site-wide feed, or a tag's feed when `tag` is given, capped at the configured length. */
export function feedSpec(config: Config, articles: readonly Article[], tag?: { name: string; slug: string }): FeedSpec {
  const prefix = tag ? paths.tag(tag.slug) : "";
  const limit = tag ? config.feeds.tagLimit : config.feeds.limit;
  const list = articles.slice(0, limit);
  const abs = (path: string) => new URL(path, config.site.url).href;
  const feeds = paths.feeds(prefix);
  const updated = list.reduce((max, a) => (a.updated > max ? a.updated : max), new Date(0));
  const spec: FeedSpec = {
    id: abs(prefix),
    title: tag ? `${config.site.title}: ${tag.name}` : config.site.title,
    description: tag ? `Articles tagged ${tag.name} in ${config.site.title}` : config.site.description,
    homeUrl: abs(prefix),
    urls: { rss: abs(feeds.rss), atom: abs(feeds.atom), json: abs(feeds.json) },
    language: config.site.language,
    updated,
    author: { name: config.site.title },
    stylesheet: new URL(config.site.url).pathname + paths.stylesheet,
    fullContent: config.feeds.fullContent,
    articles: list,
  };
  if (config.site.icon) spec.icon = abs(config.site.icon.replace(/^\//, ""));
  if (config.site.logo) spec.logo = abs(config.site.logo.replace(/^\//, ""));
  if (config.site.copyright) spec.copyright = config.site.copyright;
  if (config.feeds.hub) spec.hub = config.feeds.hub;
  return spec;
}

/** The site-wide feed and one per tag, each with the path prefix of its files. */
export function allFeedSpecs(config: Config, articles: readonly Article[], tags: ReadonlyArray<{ tag: { name: string; slug: string }; list: readonly Article[] }>): Array<{ prefix: string; spec: FeedSpec }> {
  return [{ prefix: "", spec: feedSpec(config, articles) }, ...tags.map(({ tag, list }) => ({ prefix: paths.tag(tag.slug), spec: feedSpec(config, list, tag) }))];
}

/**
 * A digest of everything a feed's files are made from: the channel and its
 * articles, bodies by their digests. The same key means the same bytes, so
 * a rebuild writes only the feeds an edit reaches.
 */
export function feedKey(spec: FeedSpec): string {
  return cacheKey(JSON.stringify(spec, (key, value: unknown) => (key === "source" ? undefined : key === "body" ? (value as Article["body"]).digest : value)));
}

/**
 * The HTML of a feed item: the image, the Quick Reads, then the full body, or
 * the summary and a link to the article when feeds carry summaries only.
 */
export function itemHtml(article: Article, fullContent: boolean): string {
  const parts: string[] = [];
  if (article.imageUrl && article.image) {
    const caption = article.image.caption ? `<figcaption>${escapeXml(article.image.caption)}</figcaption>` : "";
    parts.push(`<figure><img src="${escapeXml(article.imageUrl)}" alt="${escapeXml(article.image.alt)}">${caption}</figure>`);
  }
  if (article.points.length > 0) {
    parts.push(`<section><h2>Quick Reads</h2><ul>${article.points.map((p) => `<li>${escapeXml(p)}</li>`).join("")}</ul></section>`);
  }
  if (fullContent) parts.push(article.body.html.feed);
  else parts.push(`<p>${escapeXml(article.description)}</p><p><a href="${escapeXml(article.url)}">Read the full article</a></p>`);
  return parts.join("\n");
}

/** MIME type of an image from its file name. */
export function imageType(path: string): string {
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  const types: Record<string, string> = { jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", gif: "image/gif", webp: "image/webp", avif: "image/avif", svg: "image/svg+xml" };
  return types[ext] ?? "application/octet-stream";
}
