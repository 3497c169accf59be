/** Characters XML 1.0 forbids: C0 controls but tab, LF and CR; lone surrogates; U+FFFE and U+FFFF. */
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Removes the characters that no XML document may contain. */
export function stripInvalidXml(value: string): string {
  return value.replace(INVALID_XML, "");
}

// The apostrophe by number: what is escaped here often ends up as HTML (an Atom title of type="html", a feed item's
// alt text), and HTML 4, which some feed readers still parse with, knows no `&apos;`.
const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for an element's content in HTML: quotes stay as they are, for HTML 4 knows no `&apos;`. */
export function escapeText(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Escapes text for an XML or HTML text node or a double-quoted attribute, dropping characters XML forbids. */
export function escapeXml(value: string): string {
  return stripInvalidXml(value).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}
