import type { Element, Root } from "hast";
import { toString } from "hast-util-to-string";
import { eachElement } from "./walk.js";

/** Elements that hold a paragraph of text, whose direction their own text decides. */
const DIRECTIONAL = new Set(["p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "th", "td", "figcaption", "dt", "dd"]);
/** A letter of a right-to-left script: Hebrew, Arabic, Syriac, Thaana, N'Ko and their presentation forms. */
const RTL = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]/;

/** A direction text runs in. */
export type Direction = "ltr" | "rtl";

/** The direction a language is written in, as the Unicode locale data gives it: rtl for Arabic, Hebrew, Persian, Urdu. */
export function textDirection(language: string): Direction {
  try {
    const locale = new Intl.Locale(language) as Intl.Locale & { getTextInfo?: () => { direction?: string }; textInfo?: { direction?: string } };
    // getTextInfo() since Node 22 (V8 12.x); the textInfo getter before it.
    return (locale.getTextInfo?.() ?? locale.textInfo)?.direction === "rtl" ? "rtl" : "ltr";
  } catch {
    return "ltr";
  }
}

/**
 * What templates see of the language's direction: `direction` for `dir`,
 * and the physical sides its lines start and end on, for email, whose
 * clients (Outlook, older Gmail apps) know neither `text-align:start` nor
 * `padding-inline-start`.
 */
export function directionScope(language: string): { direction: Direction; start: "left" | "right"; end: "left" | "right" } {
  const direction = textDirection(language);
  return direction === "rtl" ? { direction, start: "right", end: "left" } : { direction, start: "left", end: "right" };
}

/**
 * The direction a block of text reads in, by its first letter, as
 * `dir="auto"` decides (Unicode's first strong character); undefined for an
 * element that holds no paragraph of text, or no letter.
 */
export function blockDirection(node: Element): Direction | undefined {
  return DIRECTIONAL.has(node.tagName) ? readingDirection(toString(node)) : undefined;
}

/** The direction a text reads in, by its first letter (see blockDirection); undefined when it has none. */
export function readingDirection(text: string): Direction | undefined {
  const first = /\p{L}/u.exec(text)?.[0];
  return first === undefined ? undefined : RTL.test(first) ? "rtl" : "ltr";
}

/**
 * The `dir` a block of text that reads in `direction` takes on a site
 * written in `site` (see rehypeDirection): rtl always, ltr on a
 * right-to-left site; none where the site's own direction serves.
 */
export function blockDir(direction: Direction | undefined, site: Direction): Direction | undefined {
  return direction === "rtl" || (direction === "ltr" && site === "rtl") ? direction : undefined;
}

/** Whether an element is a block of text that reads right to left: its first letter is of a right-to-left script. */
export function readsRightToLeft(node: Element): boolean {
  return blockDirection(node) === "rtl";
}

/**
 * `dir="rtl"` on each block of a body that reads right to left (an Arabic
 * article on an English site, a Hebrew quote in an English one), so it runs
 * and aligns as its script does wherever the HTML goes: the page, a feed
 * reader, an email. On a site that runs right to left, `dir="ltr"` on each
 * block that reads left to right, whose end punctuation would otherwise
 * stand at its start. A list whose items all take one direction takes it
 * too, so its bullets or numbers stand inside the column.
 */
export function rehypeDirection(options: { site: Direction }) {
  return (tree: Root) => {
    eachElement(tree, (node) => {
      const dir = blockDir(blockDirection(node), options.site);
      if (dir) node.properties["dir"] = dir;
    });
    eachElement(tree, (node) => {
      if (node.tagName !== "ul" && node.tagName !== "ol") return;
      const items = node.children.filter((child): child is Element => child.type === "element" && child.tagName === "li");
      const first = items[0]?.properties["dir"];
      if (typeof first === "string" && items.every((item) => item.properties["dir"] === first)) node.properties["dir"] = first;
    });
  };
}
