import { Feed } from "feed";
import { imageType, itemHtml, type FeedSpec } from "./spec.js";
import { cdataHtml, htmlTitle, XmlValues } from "./xml-values.js";

/** RSS 2.0 with content:encoded, dc:creator for every author, atom:link self and an XSL stylesheet. */
export function rss2(spec: FeedSpec): string {
  const v = new XmlValues();
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
  for (const article of spec.articles) {
    const withEmail = article.authors.find((a) => a.email);
    feed.addItem({
      title: htmlTitle(article.title),
      id: v.text(article.id),
      link: article.url,
      date: article.updated,
      published: article.published,
      description: cdataHtml(htmlTitle(article.description)),
      content: cdataHtml(itemHtml(article, spec.fullContent)),
      category: article.tags.map((t) => ({ name: v.text(t.name) })),
      ...(withEmail?.email ? { author: [{ name: v.text(withEmail.name), email: v.text(withEmail.email) }] } : {}),
      extensions: [{ name: "dc:creator", objects: article.authors.map((a) => ({ _text: v.text(a.name) })) as unknown as Record<string, unknown> }],
      ...(article.imageUrl && article.image ? { image: { url: article.imageUrl, type: imageType(article.image.path), length: article.image.size } } : {}),
    });
  }
  return v.fill(feed.rss2());
}
