import type { Config } from "../config/schema.js";
import type { Article, Author, Tag } from "../content/article.js";
import { absoluteUrl, paths } from "../content/paths.js";
import { cacheKey, digest as contentDigest } from "../cache/key.js";
import { escapeXml } from "../xml/escape.js";
import { blockDir, readingDirection, type Direction } from "../markdown/direction.js";

/** The absolute URLs of one feed's three files. */
export interface FeedUrls {
  rss: string;
  atom: string;
  json: string;
}

/**
 * RFC 5005 links of a feed document: the current feed links to the newest
 * archive page (`prev`); an archive page is marked as one and links to the
 * current feed and to its older (`prev`) and newer (`next`) neighbours.
 * JSON Feed has one direction only: its `next_url` is `prev` here.
 */
export interface FeedHistory {
  archive: boolean;
  current?: FeedUrls;
  prev?: FeedUrls;
  next?: FeedUrls;
}

/** An author as feeds name them: with the page that lists their articles when they have no address of their own. */
export interface FeedAuthor {
  name: string;
  email?: string;
  url: string;
}

/** One feed's channel data, in all three formats. */
export interface FeedSpec {
  /** Permanent id of the feed: the URL of the page it mirrors (of the archive page itself for an archive page). */
  id: string;
  title: string;
  description: string;
  /** The site's URL, against which authors' pages are made absolute. */
  siteUrl: string;
  homeUrl: string;
  urls: FeedUrls;
  language: string;
  /** The newest change among its articles: never the build time. */
  updated: Date;
  /** Named on the feed so every Atom entry has an author even when an article names none. */
  author: { name: string };
  stylesheet: string;
  icon?: string;
  logo?: string;
  copyright?: string;
  hub?: string;
  history?: FeedHistory;
  fullContent: boolean;
  /** Whether Atom names each author's email address: only when the config says so, as it makes the address public. */
  authorEmails: boolean;
  /** The words an item writes itself (feeds.words). */
  words: { quickReads: string; readMore: string };
  articles: readonly Article[];
}

/** A feed of a set of articles: the site's, a tag's or an author's, with the path prefix of its files. */
export interface FeedOf {
  prefix: string;
  spec: FeedSpec;
}

/** More than this much HTML in an item (a 5 MB article) and the feeds carry its summary and a link instead. */
export const ITEM_CONTENT_MAX = 256 * 1024;

function channel(config: Config, prefix: string, list: readonly Article[], title: string, description: string): FeedSpec {
  const abs = (path: string) => absoluteUrl(path, config.site.url);
  const feeds = paths.feeds(prefix);
  const spec: FeedSpec = {
    id: abs(prefix),
    title,
    description,
    siteUrl: config.site.url,
    homeUrl: abs(prefix),
    urls: { rss: abs(feeds.rss), atom: abs(feeds.atom), json: abs(feeds.json) },
    language: config.site.language,
    updated: newest(list),
    author: { name: config.site.title },
    stylesheet: new URL(config.site.url).pathname + paths.stylesheet,
    fullContent: config.feeds.fullContent,
    authorEmails: config.feeds.authorEmails,
    words: { quickReads: config.feeds.words.quickReads, readMore: config.feeds.words.readMore },
    articles: list,
  };
  if (config.site.icon) spec.icon = abs(config.site.icon.replace(/^\//, ""));
  if (config.site.logo) spec.logo = abs(config.site.logo.replace(/^\//, ""));
  if (config.site.copyright) spec.copyright = config.site.copyright;
  if (config.feeds.hub) spec.hub = config.feeds.hub;
  return spec;
}

function newest(list: readonly Article[]): Date {
  return list.reduce((max, a) => (a.updated > max ? a.updated : max), new Date(0));
}

/** The site-wide feed, or a tag's feed when `tag` is given, capped at the configured length. */
export function feedSpec(config: Config, articles: readonly Article[], tag?: Tag): FeedSpec {
  if (!tag) return channel(config, "", articles.slice(0, config.feeds.limit), config.site.title, config.site.description);
  return channel(config, paths.tag(tag.slug), articles.slice(0, config.feeds.tagLimit), `${config.site.title}: ${tag.name}`, phrase(config.feeds.words.tagged, { tag: tag.name, site: config.site.title }));
}

/** An author's feed, capped like a tag's. */
export function authorFeedSpec(config: Config, articles: readonly Article[], author: Author): FeedSpec {
  return channel(config, paths.author(author.key), articles.slice(0, config.feeds.tagLimit), `${config.site.title}: ${author.name}`, phrase(config.feeds.words.by, { author: author.name, site: config.site.title }));
}

/** One of the feeds' words (see FEED_WORDS) with its values in their braces. */
export function phrase(words: string, values: Record<string, string | number>): string {
  return words.replace(/\{(\w+)\}/g, (written, name: string) => (name in values ? String(values[name]) : written));
}

/**
 * The site-wide feed and, once it no longer holds every article, its RFC
 * 5005 archive pages. Articles are paged oldest first, `feeds.limit` to a
 * page (the length of the feed); the newest page is never full (it may be
 * empty), so a page, once full, keeps its articles and its links for good,
 * and a new article changes only the current feed and the newest page.
 * The current feed links to the newest page, and each page to its
 * neighbours and to the current feed.
 */
export function siteFeeds(config: Config, articles: readonly Article[]): FeedOf[] {
  const current = feedSpec(config, articles);
  const size = config.feeds.limit;
  if (articles.length <= size) return [{ prefix: "", spec: current }];
  const oldestFirst = [...articles].reverse();
  const count = Math.floor(articles.length / size) + 1;
  const urlsOf = (n: number): FeedUrls | undefined => (n >= 1 && n <= count ? feedUrls(config, paths.feedArchive(n)) : undefined);
  current.history = { archive: false, ...defined("prev", urlsOf(count)) };
  const pages: FeedOf[] = [];
  for (let n = 1; n <= count; n++) {
    const list = oldestFirst.slice((n - 1) * size, n * size).reverse();
    const prefix = paths.feedArchive(n);
    const spec = channel(config, prefix, list, `${config.site.title} (archive ${n})`, `Articles ${(n - 1) * size + 1} to ${n * size} of ${config.site.title}, counted from the first`);
    spec.homeUrl = absoluteUrl("", config.site.url);
    // An empty newest page is as new as the page before it: its time never moves back.
    if (list.length === 0) spec.updated = newest(oldestFirst.slice((n - 2) * size, (n - 1) * size));
    spec.history = { archive: true, current: current.urls, ...defined("prev", urlsOf(n - 1)), ...defined("next", urlsOf(n + 1)) };
    pages.push({ prefix, spec });
  }
  return [{ prefix: "", spec: current }, ...pages];
}

function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The absolute URLs of the three files of the feed at `prefix`. */
export function feedUrls(config: Config, prefix: string): FeedUrls {
  const feeds = paths.feeds(prefix);
  return { rss: absoluteUrl(feeds.rss, config.site.url), atom: absoluteUrl(feeds.atom, config.site.url), json: absoluteUrl(feeds.json, config.site.url) };
}

/** Every feed of the site: site-wide with its archive pages, one per tag and one per author. */
export function allFeedSpecs(
  config: Config,
  articles: readonly Article[],
  tags: ReadonlyArray<{ tag: Tag; list: readonly Article[] }>,
  authors: ReadonlyArray<{ author: Author; list: readonly Article[] }>,
): FeedOf[] {
  return [
    ...siteFeeds(config, articles),
    ...tags.map(({ tag, list }) => ({ prefix: paths.tag(tag.slug), spec: feedSpec(config, list, tag) })),
    ...authors.map(({ author, list }) => ({ prefix: paths.author(author.key), spec: authorFeedSpec(config, list, author) })),
  ];
}

/** The title of the issues' feeds: the newsletter's name. */
export function issuesFeedTitle(config: Config): string {
  return config.newsletter?.name ?? phrase(config.feeds.words.newsletter, { site: config.site.title });
}

/** How feeds name an article's author: the author's own address, else their page on the site. */
export function feedAuthor(author: Author, siteUrl: string): FeedAuthor {
  return { name: author.name, ...(author.email ? { email: author.email } : {}), url: author.url ?? absoluteUrl(paths.author(author.key), siteUrl) };
}

/**
 * A digest of everything a feed's files are made from: the channel and its
 * articles, bodies by their digests. The same key means the same bytes, so
 * a rebuild writes only the feeds an edit reaches. `known` gives an
 * article's digest when the caller has one already (its validated front
 * matter's, with its body's), which spares serialising thousands of
 * articles for the archive pages on every build.
 */
export function feedKey(spec: FeedSpec, known?: (article: Article) => string | undefined): string {
  return cacheKey(JSON.stringify(spec, (key, value: unknown) => (key === "articles" ? (value as readonly Article[]).map((a) => known?.(a) ?? articleDigest(a)) : value)));
}

const articleDigests = new WeakMap<Article, string>();

/** A digest of what feeds show of an article, its body by the body's digests: made once, though the article is in several feeds. */
function articleDigest(article: Article): string {
  let digest = articleDigests.get(article);
  if (digest === undefined) {
    digest = contentDigest(JSON.stringify(article, (key, value: unknown) => (key === "source" ? undefined : key === "body" ? `${(value as Article["body"]).digest} ${(value as Article["body"]).statsDigest}` : value)));
    articleDigests.set(article, digest);
  }
  return digest;
}

/** Whether an item carries the article's whole body: feeds ask for it, and it is not over ITEM_CONTENT_MAX. */
export function carriesBody(article: Article, fullContent: boolean): boolean {
  return fullContent && feedBytes(article) <= ITEM_CONTENT_MAX;
}

/** Bytes of an article's feed HTML. */
export function feedBytes(article: Article): number {
  return article.body.feedBytes ?? Buffer.byteLength(article.body.html.feed);
}

/** The HTML of each item of a feed, by its article. */
export type ItemHtml = (article: Article) => string;

/**
 * The HTML of a feed item: the image, the Quick Reads, then the full body, or
 * the summary and a link to the article when feeds carry summaries only or
 * the body is too large for a feed.
 */
export function itemHtml(article: Article, { fullContent, words }: Pick<FeedSpec, "fullContent" | "words">, site: Direction): string {
  // Each block takes the direction its text reads in, as the body's paragraphs do (see rehypeDirection): a reader knows no site's.
  const dir = (text: string) => {
    const direction = blockDir(readingDirection(text), site);
    return direction ? ` dir="${direction}"` : "";
  };
  const parts: string[] = [];
  if (article.imageUrl && article.image) {
    const { caption } = article.image;
    parts.push(`<figure><img src="${escapeXml(article.imageUrl)}" alt="${escapeXml(article.image.alt)}">${caption ? `<figcaption${dir(caption)}>${escapeXml(caption)}</figcaption>` : ""}</figure>`);
  }
  if (article.points.length > 0) {
    parts.push(`<section><h2>${escapeXml(words.quickReads)}</h2><ul>${article.pointsHtml.feed.map((p, i) => `<li${dir(article.points[i] ?? "")}>${p}</li>`).join("")}</ul></section>`);
  }
  if (carriesBody(article, fullContent)) parts.push(article.body.html.feed);
  else parts.push(`<p${dir(article.description)}>${escapeXml(article.description)}</p><p><a href="${escapeXml(article.url)}">${escapeXml(words.readMore)}</a></p>`);
  return parts.join("\n");
}

/** MIME type of an image from its file name. */
export function imageType(path: string): string {
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  const types: Record<string, string> = { jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", gif: "image/gif", webp: "image/webp", avif: "image/avif", svg: "image/svg+xml" };
  return types[ext] ?? "application/octet-stream";
}
