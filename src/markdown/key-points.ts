import type { List, ListItem, Root } from "mdast";
import { toString } from "mdast-util-to-string";

/** Headings that open a Quick Reads section, compared without case or trailing punctuation. */
export const KEY_POINT_HEADINGS = ["quick reads", "key points", "tl;dr", "tldr"];

/**
 * Lifts a "Quick Reads" section (heading plus list) from the top of the body
 * and returns its points as plain text. The section must be the first block
 * after the front matter; anything else is left where it is.
 */
export function liftKeyPoints(tree: Root): string[] | undefined {
  const start = tree.children.findIndex((node) => node.type !== "yaml");
  const heading = tree.children[start];
  const list = tree.children[start + 1];
  if (heading?.type !== "heading" || list?.type !== "list") return undefined;
  const label = toString(heading).trim().toLowerCase().replace(/[:.!]+$/, "");
  if (!KEY_POINT_HEADINGS.includes(label)) return undefined;
  tree.children.splice(start, 2);
  return pointsOf(list);
}

function pointsOf(list: List): string[] {
  return list.children.map(plainText).filter((point) => point.length > 0);
}

/**
 * A point as one line of text: its blocks apart by a space, the items of a
 * list in it by "; ", inline HTML's tags left out (they would show as text).
 */
function plainText(node: ListItem | List): string {
  if (node.type === "list") return node.children.map(plainText).filter(Boolean).join("; ");
  return node.children
    .map((child) => (child.type === "list" ? plainText(child) : toString(child, { includeHtml: false })))
    .join(" ")
    .replace(/\s+/g, " ")
    .trim();
}
