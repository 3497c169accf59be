import type { Author } from "../content/article.js";
import { itemHtml, type FeedSpec } from "./spec.js";

/** JSON Feed 1.1: `authors` arrays, `language`, stable ids and HTML content on every item. */
export function jsonFeed(spec: FeedSpec): string {
  const feed = {
    version: "https://jsonfeed.org/version/1.1",
    title: spec.title,
    home_page_url: spec.homeUrl,
    feed_url: spec.urls.json,
    description: spec.description,
    language: spec.language,
    ...(spec.logo ? { icon: spec.logo } : {}),
    ...(spec.icon ? { favicon: spec.icon } : {}),
    authors: [authorOf(spec.author)],
    ...(spec.hub ? { hubs: [{ type: "WebSub", url: spec.hub }] } : {}),
    items: spec.articles.map((article) => ({
      id: article.id,
      url: article.url,
      title: article.title,
      content_html: itemHtml(article, spec.fullContent),
      summary: article.description,
      ...(article.imageUrl ? { image: article.imageUrl } : {}),
      date_published: article.published.toISOString(),
      date_modified: article.updated.toISOString(),
      ...(article.authors.length > 0 ? { authors: article.authors.map(authorOf) } : {}),
      ...(article.tags.length > 0 ? { tags: article.tags.map((t) => t.name) } : {}),
    })),
  };
  return `${JSON.stringify(feed, null, 2)}\n`;
}

function authorOf(author: Author): { name: string; url?: string } {
  return author.url ? { name: author.name, url: author.url } : { name: author.name };
}
