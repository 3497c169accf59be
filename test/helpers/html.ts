import { parse, type DefaultTreeAdapterMap } from "parse5";

/** An element of a parsed HTML document. */
export type Element = DefaultTreeAdapterMap["element"];

/** Every element of an HTML document, in document order, parsed as a browser would. */
export function elements(html: string): Element[] {
  const out: Element[] = [];
  const walk = (node: DefaultTreeAdapterMap["node"]) => {
    if ("tagName" in node) out.push(node);
    if ("childNodes" in node) node.childNodes.forEach(walk);
  };
  walk(parse(html));
  return out;
}

/** An attribute's value. */
export const attr = (el: Element, name: string): string | undefined => el.attrs.find((a) => a.name === name)?.value;
