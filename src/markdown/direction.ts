import type { Element, Root } from "hast";
import { toString } from "hast-util-to-string";
import { eachElement } from "./walk.js";

/** Elements that hold a paragraph of text, whose direction their own text decides. */
const DIRECTIONAL = new Set(["p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "th", "td", "figcaption", "dt", "dd"]);
/** A letter of a right-to-left script: Hebrew, Arabic, Syriac, Thaana, N'Ko and their presentation forms. */
const RTL = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]/;

/**
 * Whether an element is a block of text that reads right to left: its first
 * letter is of a right-to-left script, as `dir="auto"` decides (Unicode's
 * first strong character).
 */
export function readsRightToLeft(node: Element): boolean {
  if (!DIRECTIONAL.has(node.tagName)) return false;
  const text = toString(node);
  if (!RTL.test(text)) return false;
  const first = /\p{L}/u.exec(text)?.[0];
  return first !== undefined && RTL.test(first);
}

/**
 * `dir="rtl"` on each block of a body that reads right to left (an Arabic
 * article on an English site, a Hebrew quote in an English one), and on
 * each list whose items all do, so it runs and aligns as its script does
 * wherever the HTML goes: the page, a feed reader, an email.
 */
export function rehypeDirection() {
  return (tree: Root) => {
    eachElement(tree, (node) => {
      if (readsRightToLeft(node)) node.properties["dir"] = "rtl";
    });
    // A list of such items runs right to left too, so its bullets or numbers stand on the right, inside the column.
    eachElement(tree, (node) => {
      if (node.tagName !== "ul" && node.tagName !== "ol") return;
      const items = node.children.filter((child): child is Element => child.type === "element" && child.tagName === "li");
      if (items.length > 0 && items.every((item) => item.properties["dir"] === "rtl")) node.properties["dir"] = "rtl";
    });
  };
}
