import { feedAuthor, type FeedAuthor, type FeedSpec, type ItemHtml } from "./spec.js";

/**
 * JSON Feed 1.1: `authors` arrays, `language`, stable ids and HTML content
 * on every item; `next_url` pages back through the archive, as the XML
 * feeds' RFC 5005 links do.
 */
export function jsonFeed(spec: FeedSpec, itemOf: ItemHtml): string {
  const next = spec.history?.prev?.json;
  const feed = {
    version: "https://jsonfeed.org/version/1.1",
    title: spec.title,
    home_page_url: spec.homeUrl,
    feed_url: spec.urls.json,
    ...(next ? { next_url: next } : {}),
    description: spec.description,
    language: spec.language,
    ...(spec.logo ? { icon: spec.logo } : {}),
    ...(spec.icon ? { favicon: spec.icon } : {}),
    authors: [{ name: spec.author.name }],
    ...(spec.hub ? { hubs: [{ type: "WebSub", url: spec.hub }] } : {}),
    items: spec.articles.map((article) => ({
      id: article.id,
      url: article.url,
      title: article.title,
      content_html: itemOf(article),
      ...(article.description ? { summary: article.description } : {}),
      ...(article.imageUrl ? { image: article.imageUrl } : {}),
      date_published: article.published.toISOString(),
      date_modified: article.updated.toISOString(),
      ...(article.authors.length > 0 ? { authors: article.authors.map((a) => jsonAuthor(feedAuthor(a, spec.siteUrl))) } : {}),
      ...(article.tags.length > 0 ? { tags: article.tags.map((t) => t.name) } : {}),
    })),
  };
  return `${JSON.stringify(feed, null, 2)}\n`;
}

function jsonAuthor(author: FeedAuthor): { name: string; url: string } {
  return { name: author.name, url: author.url };
}
