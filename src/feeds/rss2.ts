import { Feed } from "feed";
import { authorNames } from "../content/article.js";
import { imageType, type FeedSpec, type ItemHtml } from "./spec.js";
import { escapeRssText, htmlText, XmlValues } from "./xml-values.js";

/** The namespace of RFC 5005's fh:archive. */
export const FEED_HISTORY_NS = "http://purl.org/syndication/history/1.0";

/**
 * RSS 2.0 with content:encoded after a description, one dc:creator naming
 * every author as the pages do (readers such as newsboat and FreshRSS show
 * only one of several; never `author` as well: one form of
 * authorship, as the W3C validator asks), titles as plain text, atom:link
 * self, hub and RFC 5005 archive links, and an XSL stylesheet.
 */
export function rss2(spec: FeedSpec, itemOf: ItemHtml): string {
  const v = new XmlValues(escapeRssText);
  const feed = new Feed({
    id: spec.id,
    title: v.text(spec.title),
    description: v.text(spec.description),
    link: spec.homeUrl,
    feedLinks: { rss: spec.urls.rss },
    language: v.text(spec.language),
    updated: spec.updated,
    generator: "Presswork",
    docs: "https://www.rssboard.org/rss-specification",
    stylesheet: spec.stylesheet,
    ...(spec.logo ? { image: spec.logo } : {}),
    ...(spec.copyright ? { copyright: v.text(spec.copyright) } : {}),
    ...(spec.hub ? { hub: spec.hub } : {}),
  });
  if (spec.history) {
    // `feed` writes only the self and hub links; a channel extension of the same name replaces its list, in place.
    const link = (rel: string, href: string, type?: string) => ({ _attributes: { href: v.text(href), rel, ...(type ? { type } : {}) } });
    const { current, prev, next, archive } = spec.history;
    const links = [
      link("self", spec.urls.rss, "application/rss+xml"),
      ...(spec.hub ? [link("hub", spec.hub)] : []),
      ...(current ? [link("current", current.rss, "application/rss+xml")] : []),
      ...(prev ? [link("prev-archive", prev.rss, "application/rss+xml")] : []),
      ...(next ? [link("next-archive", next.rss, "application/rss+xml")] : []),
    ];
    feed.addExtension({ name: "atom:link", objects: links as unknown as Record<string, unknown> });
    if (archive) feed.addExtension({ name: "fh:archive", objects: { _attributes: { "xmlns:fh": FEED_HISTORY_NS } } });
  }
  for (const article of spec.articles) {
    feed.addItem({
      // A token that is the whole CDATA section `feed` puts titles in: it comes out as escaped text.
      title: v.text(article.title),
      id: v.text(article.id),
      link: article.url,
      date: article.updated,
      published: article.published,
      description: v.html(htmlText(article.description)),
      content: v.html(itemOf(article)),
      category: article.tags.map((t) => ({ name: v.text(t.name) })),
      ...(article.authors.length > 0
        ? { extensions: [{ name: "dc:creator", objects: { _text: v.text(authorNames(article.authors)) } }] }
        : {}),
      ...(article.imageUrl && article.image ? { image: { url: article.imageUrl, type: imageType(article.image.path), length: article.image.size } } : {}),
    });
  }
  return v.fill(feed.rss2());
}
