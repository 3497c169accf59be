import { Feed } from "feed";
import { escapeXml } from "../xml/escape.js";
import { imageType, itemHtml, type FeedSpec } from "./spec.js";
import { cdataHtml, htmlTitle, XmlValues } from "./xml-values.js";

/** Atom 1.0 (RFC 4287) with xml:lang, a feed-level author, self and hub links and an XSL stylesheet. */
export function atom1(spec: FeedSpec): string {
  const v = new XmlValues();
  const feed = new Feed({
    id: spec.id,
    title: v.text(spec.title),
    description: v.text(spec.description),
    link: spec.homeUrl,
    feedLinks: { atom: spec.urls.atom },
    updated: spec.updated,
    generator: "Presswork",
    author: { name: v.text(spec.author.name) },
    stylesheet: spec.stylesheet,
    ...(spec.icon ? { favicon: spec.icon } : {}),
    ...(spec.logo ? { image: spec.logo } : {}),
    ...(spec.copyright ? { copyright: v.text(spec.copyright) } : {}),
    ...(spec.hub ? { hub: spec.hub } : {}),
  });
  const types = new Map<string, string>();
  for (const article of spec.articles) {
    const image = article.imageUrl && article.image ? { url: article.imageUrl, length: article.image.size } : undefined;
    if (image && article.image) types.set(image.url, imageType(article.image.path));
    feed.addItem({
      title: htmlTitle(article.title),
      id: article.id,
      link: article.url,
      date: article.updated,
      published: article.published,
      description: cdataHtml(htmlTitle(article.description)),
      content: cdataHtml(itemHtml(article, spec.fullContent)),
      author: article.authors.map((a) => ({ name: v.text(a.name), ...(a.email ? { email: v.text(a.email) } : {}), ...(a.url ? { link: a.url } : {}) })),
      category: article.tags.map((t) => ({ term: v.text(t.name) })),
      ...(image ? { image } : {}),
    });
  }
  const xml = v
    .fill(feed.atom1())
    .replace('<feed xmlns="http://www.w3.org/2005/Atom">', `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${escapeXml(spec.language)}">`);
  return fixEnclosureTypes(xml, types);
}

/** `feed` guesses an enclosure's type from its extension ("image/jpg"); put the real MIME type back. */
function fixEnclosureTypes(xml: string, types: ReadonlyMap<string, string>): string {
  return xml.replace(/<link rel="enclosure" href="([^"]*)"([^>]*?) type="[^"]*"/g, (match, href: string, rest: string) => {
    const type = types.get(href.replaceAll("&amp;", "&"));
    return type ? `<link rel="enclosure" href="${href}"${rest} type="${type}"` : match;
  });
}
