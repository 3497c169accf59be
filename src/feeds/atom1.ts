import { Feed } from "feed";
import { escapeXml } from "../xml/escape.js";
import { FEED_HISTORY_NS } from "./rss2.js";
import { feedAuthor, imageType, type FeedHistory, type FeedSpec, type ItemHtml } from "./spec.js";
import { htmlText, XmlValues } from "./xml-values.js";
import { PressworkError } from "../errors/error.js";

const ROOT = '<feed xmlns="http://www.w3.org/2005/Atom">';

/** Atom 1.0 (RFC 4287) with xml:lang, a feed-level author, self, hub and RFC 5005 archive links, and an XSL stylesheet. */
export function atom1(spec: FeedSpec, itemOf: ItemHtml): string {
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
      // Atom titles from `feed` are type="html": the plain title goes in as HTML that shows it as typed.
      title: v.html(htmlText(article.title)),
      id: article.id,
      link: article.url,
      date: article.updated,
      published: article.published,
      description: v.html(htmlText(article.description)),
      content: v.html(itemOf(article)),
      author: article.authors.map((a) => {
        const author = feedAuthor(a, spec.siteUrl);
        return { name: v.text(author.name), ...(spec.authorEmails && author.email ? { email: v.text(author.email) } : {}), link: author.url };
      }),
      category: article.tags.map((t) => ({ term: v.text(t.name) })),
      ...(image ? { image } : {}),
    });
  }
  return v.fill(completeAtom(withEnclosureTypes(feed.atom1(), types), spec.language, spec.urls.atom, spec.history));
}

/**
 * `feed` has no option for xml:lang, nor for links other than alternate,
 * self and hub, and drops extension elements from Atom: the root gets its
 * language (and the fh namespace of an archive page), and the RFC 5005
 * links and fh:archive go in after the self link, which `feed` always writes.
 */
export function completeAtom(xml: string, language: string, self: string, history: FeedHistory | undefined): string {
  const root = `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${escapeXml(language)}"${history?.archive ? ` xmlns:fh="${FEED_HISTORY_NS}"` : ""}>`;
  if (!xml.includes(ROOT)) throw new PressworkError("internal", "the Atom writer's root element is not the one expected");
  const withRoot = xml.replace(ROOT, root);
  if (!history) return withRoot;
  const selfLink = `<link rel="self" href="${escapeXml(self)}"/>`;
  const at = withRoot.indexOf(selfLink);
  if (at < 0) throw new PressworkError("internal", "the Atom writer's self link is not the one expected");
  const indent = /\n([ \t]*)$/.exec(withRoot.slice(0, at))?.[1] ?? "";
  const added = [
    ...(history.current ? [`<link rel="current" href="${escapeXml(history.current.atom)}"/>`] : []),
    ...(history.prev ? [`<link rel="prev-archive" href="${escapeXml(history.prev.atom)}"/>`] : []),
    ...(history.next ? [`<link rel="next-archive" href="${escapeXml(history.next.atom)}"/>`] : []),
    ...(history.archive ? ["<fh:archive/>"] : []),
  ];
  const end = at + selfLink.length;
  return withRoot.slice(0, end) + added.map((element) => `\n${indent}${element}`).join("") + withRoot.slice(end);
}

/**
 * `feed` writes an Atom enclosure's type as "image/" and the URL's
 * extension ("image/jpg", "image/svg") whatever type it is given: the real
 * MIME type goes back in, matched by the enclosure's URL.
 */
export function withEnclosureTypes(xml: string, types: ReadonlyMap<string, string>): string {
  return xml.replace(/<link rel="enclosure" href="([^"]*)"([^>]*?) type="[^"]*"/g, (match, href: string, rest: string) => {
    const type = types.get(href.replaceAll("&amp;", "&"));
    return type ? `<link rel="enclosure" href="${href}"${rest} type="${escapeXml(type)}"` : match;
  });
}
