import { escapeXml, stripInvalidXml } from "../xml/escape.js";

/**
 * Carries text values through `feed`'s XML writer untouched. The writer
 * escapes attributes only for `"`, un-escapes `&amp;` in text and leaves
 * control characters in: each value goes in as an opaque token made of
 * characters XML forbids (so no input can forge one) and comes back out
 * escaped for XML once the document is written.
 */
export class XmlValues {
  private readonly values: string[] = [];

  /** A token standing for `value` in a text node or attribute. */
  text(value: string): string {
    this.values.push(value);
    return `\u0001${this.values.length - 1}\u0002`;
  }

  /** Replaces every token in the written document with its escaped value. */
  fill(xml: string): string {
    return xml.replace(/\u0001(\d+)\u0002/g, (_, index: string) => escapeXml(this.values[Number(index)] ?? ""));
  }
}

/** Makes HTML safe inside a CDATA section: `]]>` becomes `]]&gt;`, which HTML reads the same. */
export function cdataHtml(html: string): string {
  return stripInvalidXml(html).replaceAll("]]>", "]]&gt;");
}

/** A plain-text title as the HTML that RSS and Atom (type="html") titles hold. */
export function htmlTitle(title: string): string {
  return escapeXml(title);
}
