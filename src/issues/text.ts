import { compile, type FormatCallback } from "html-to-text";
import type { Config, NewsletterConfig } from "../config/schema.js";
import { authorNames, type Article } from "../content/article.js";
import { displayDate } from "../site/scope.js";
import type { IssuePlan } from "./plan.js";
import { escapeText } from "../xml/escape.js";
import { emailBody } from "./email-body.js";
import { TOKENS } from "./tokens.js";

/** Links already written out in one text part: each URL appears once. */
interface Seen {
  urls: Set<string>;
}

/** A link's text, then its URL in angle brackets unless the text is the URL or the URL was written out before. */
const anchorOnce: FormatCallback = (elem, walk, builder) => {
  const href = (elem.attribs?.["href"] ?? "").replace(/^mailto:/, "");
  let text = "";
  builder.pushWordTransform((word) => {
    text += word;
    return word;
  });
  walk(elem.children, builder);
  builder.popWordTransform();
  const { urls } = (builder as unknown as { metadata: Seen }).metadata;
  if (!href || href.startsWith("#") || urls.has(href)) return;
  urls.add(href);
  if (sameUrl(text, href)) return;
  builder.addInline(` <${href}>`, { noWordTransform: true });
};

/** An image as its description: plain-text readers see what the picture shows. */
const imageAlt: FormatCallback = (elem, _walk, builder) => {
  const alt = (elem.attribs?.["alt"] ?? "").trim();
  if (alt) builder.addInline(`[Image: ${alt}]`, { noWordTransform: true });
};

/**
 * Text the HTML sets apart by its look alone, marked in words: ^ before a
 * power or an index (mc^2, x^n), _ before a subscript (H_2O), ~~ around
 * struck text (a retraction reads as one). Only a number or a single letter
 * is marked as a power or index: an ordinal (21st), ® or ™ reads as it is,
 * and a footnote's mark, already "[1]", stays so.
 */
const marked =
  (before: string, after = "", only?: RegExp): FormatCallback =>
  (elem, walk, builder) => {
    const text = elem.children?.length === 1 ? ((elem.children[0] as { data?: string }).data ?? "") : undefined;
    const mark = !only || (text !== undefined && only.test(text));
    if (mark) builder.addInline(before, { noWordTransform: true });
    walk(elem.children, builder);
    if (mark) builder.addInline(after, { noWordTransform: true });
  };

/** A power or an index: a number (with its sign) or one letter. */
const INDEX = /^[-+\u2212]?(?:\d+(?:[.,]\d+)?|\p{L})$/u;

/** A definition under its term, indented by two spaces. */
const definition: FormatCallback = (elem, walk, builder) => {
  builder.openBlock({ leadingLineBreaks: 1, reservedLineLength: 2 });
  walk(elem.children, builder);
  builder.closeBlock({ trailingLineBreaks: 1, blockTransform: (text) => text.split("\n").map((line) => (line ? `  ${line}` : line)).join("\n") });
};

const heading = (level: number) => ({ selector: `h${level}`, options: { uppercase: false, leadingLineBreaks: 2, trailingLineBreaks: 1 } });
const toText = compile({
  wordwrap: 78,
  formatters: { anchorOnce, imageAlt, superscript: marked("^", "", INDEX), subscript: marked("_", "", INDEX), struck: marked("~~", "~~"), definition },
  selectors: [
    { selector: "a", format: "anchorOnce" },
    { selector: "img", format: "imageAlt" },
    { selector: "sup", format: "superscript" },
    { selector: "sub", format: "subscript" },
    { selector: "del", format: "struck" },
    { selector: "s", format: "struck" },
    { selector: "dl", format: "block" },
    { selector: "dt", format: "block", options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: "dd", format: "definition" },
    ...[1, 2, 3, 4, 5, 6].map(heading),
    { selector: "ul", options: { itemPrefix: "- " } },
    { selector: "table", format: "dataTable", options: { uppercaseHeaderCells: false, maxColumnWidth: 40 } },
  ],
}) as unknown as (html: string, metadata: Seen) => string;

/** Email HTML (a body or a note) as plain text: links written out once, images by their alt text, tables as columns, headings as written, definitions under their terms, marks for what only a look tells. */
export function htmlText(html: string, seen: Seen = { urls: new Set() }): string {
  // The HTML's break opportunities in long URLs would break them over lines here, where nobody could follow them.
  return toText(html.replaceAll("<wbr>", ""), seen);
}

/** Text wrapped at 78 characters, as the HTML's text is, each of its lines apart; an address longer than that stays whole on a line of its own. */
function prose(text: string): string {
  return text
    .split("\n")
    .map((line) => htmlText(`<p>${escapeText(line)}</p>`))
    .join("\n");
}

function sameUrl(text: string, href: string): boolean {
  const bare = (url: string) => url.replace(/^https?:\/\//, "").replace(/\/$/, "");
  return text === href || bare(text) === bare(href);
}

const RULE = "-".repeat(60);

/** How the text part sees one article. */
export interface TextArticle {
  article: Article;
  /** The article's body as it went into the email (full text), or undefined for a summary. */
  body?: string;
  /** Show the article's picture: the lead's, or every article's in full text. */
  image: boolean;
}

/**
 * The text part: the same content as the HTML, readable as plain text. Each
 * article's own link once under its headline, every other URL once where
 * it is first linked, images by their descriptions, footnotes as [1] with
 * the notes below (as the HTML shows them). The greeting, empty when there
 * is no name to greet, sits on the line above what follows it.
 */
export function plainText(plan: IssuePlan, articles: readonly TextArticle[], config: Config, newsletter: NewsletterConfig, webUrl: string): string {
  const name = newsletter.name ?? config.site.title;
  const lines: string[] = [prose(name), `Issue #${plan.number} · ${displayDate(plan.date, config)}`, `View in your browser: ${webUrl}`, "", TOKENS.greeting];
  if (plan.note) lines.push(plan.note.text, "");
  if (articles.length > 3) lines.push("In this issue:", ...articles.map(({ article }, i) => prose(`${i + 1}. ${article.title}`)), "");
  for (const { article, body, image } of articles) {
    const seen: Seen = { urls: new Set([article.url]) };
    lines.push(RULE, "", prose(article.title));
    if (article.subtitle) lines.push(prose(article.subtitle));
    lines.push(prose(`${authorNames(article.authors)} · ${displayDate(article.published, config)} · ${article.body.readingMinutes} min read`), article.url, "");
    if (image && article.image) lines.push(prose(`[Image: ${article.image.alt}]`), ...(article.image.caption ? [prose(article.image.caption)] : []), "");
    if (article.points.length > 0) lines.push("Quick Reads", htmlText(emailBody(`<ul>${article.pointsHtml.email.map((p) => `<li>${p}</li>`).join("")}</ul>`), seen), "");
    lines.push(body === undefined ? prose(article.description) : htmlText(body, seen), "");
  }
  if (plan.more > 0) lines.push(RULE, "", prose(`${plan.more} more ${plan.more === 1 ? "article" : "articles"} on ${config.site.title}: ${config.site.url}`), "");
  lines.push(RULE, "", prose(newsletter.reason), `Unsubscribe: ${TOKENS.unsubscribe_url}`, prose(newsletter.postalAddress), "");
  return lines.join("\n").replace(/\n{3,}/g, "\n\n");
}
