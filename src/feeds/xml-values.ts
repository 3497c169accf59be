import { escapeXml, stripInvalidXml } from "../xml/escape.js";

/** How text is escaped in a document: named entities, or (RSS) hexadecimal character references. */
export type TextEscape = (value: string) => string;

const HEX: Record<string, string> = { "&": "&#x26;", "<": "&#x3C;", ">": "&#x3E;", '"': "&#x22;", "'": "&#x27;" };

/**
 * Escapes plain text as the RSS Advisory Board's profile asks, with
 * hexadecimal character references: the W3C validator takes `&amp;` or
 * `&lt;` in an RSS title for HTML, and `&#x26;` for text.
 */
export function escapeRssText(value: string): string {
  return stripInvalidXml(value).replace(/[&<>"']/g, (c) => HEX[c] ?? c);
}

/**
 * Carries values through `feed`'s XML writer untouched. The writer escapes
 * attributes only for `"`, un-escapes `&amp;` in text, leaves control
 * characters in and wraps every item title in CDATA: each value goes in as
 * an opaque token made of characters XML forbids (so no input can forge
 * one) and comes back out once the document is written. A text token that
 * is the whole of a CDATA section replaces the section, so a plain-text
 * title is character data, not markup to re-read. HTML goes in as a token
 * too, so the writer, which copies every string it is given at each level
 * of nesting, handles a few bytes instead of an article's body.
 */
export class XmlValues {
  private readonly values: string[] = [];

  constructor(private readonly escape: TextEscape = escapeXml) {}

  /** A token standing for `value`, escaped, in a text node, a CDATA section or an attribute. */
  text(value: string): string {
    this.values.push(value);
    return `\u0001${this.values.length - 1}\u0002`;
  }

  /**
   * A token standing for HTML in a CDATA section (`feed` puts descriptions
   * and content in one); empty for empty HTML, which `feed` then leaves out,
   * as it does an empty description.
   */
  html(value: string): string {
    if (value === "") return "";
    this.values.push(value);
    return `\u0003${this.values.length - 1}\u0002`;
  }

  /**
   * Replaces every token in the written document with its value, in one
   * pass: a document carries its items' bodies, and a second pass over them
   * took as long again.
   */
  fill(xml: string): string {
    return xml.replace(/<!\[CDATA\[\u0001(\d+)\u0002\]\]>|\u0001(\d+)\u0002|\u0003(\d+)\u0002/g, (_, cdata?: string, bare?: string, html?: string) => {
      const value = this.values[Number(cdata ?? bare ?? html)] ?? "";
      return html === undefined ? this.escape(value) : cdataSafe(value);
    });
  }
}

/** Makes HTML safe inside a CDATA section: `]]>` becomes `]]&gt;`, which HTML reads the same. */
function cdataSafe(html: string): string {
  return stripInvalidXml(html).replaceAll("]]>", "]]&gt;");
}

/** Plain text as the HTML that Atom's type="html" text constructs and RSS descriptions hold. */
export function htmlText(text: string): string {
  return escapeXml(text);
}
