import type { Element, ElementContent, Root as HastRoot } from "hast";
import type { List, ListItem, Parent, Root } from "mdast";
import { toString } from "mdast-util-to-string";

/** Headings that open a Quick Reads section, compared without case or trailing punctuation. */
export const KEY_POINT_HEADINGS = ["quick reads", "key points", "tl;dr", "tldr"];

/**
 * Finds a "Quick Reads" section (heading plus list) at the top of the body:
 * the first block after the front matter. Returns where it starts and its
 * points as plain text, one per item of the list; the tree is left as it is.
 */
export function findKeyPoints(tree: Root): { start: number; list: List; points: string[] } | undefined {
  const start = tree.children.findIndex((node) => node.type !== "yaml");
  const heading = tree.children[start];
  const list = tree.children[start + 1];
  if (heading?.type !== "heading" || list?.type !== "list") return undefined;
  const label = toString(heading).trim().toLowerCase().replace(/[:.!]+$/, "");
  if (!KEY_POINT_HEADINGS.includes(label)) return undefined;
  return { start, list, points: list.children.map(plainText) };
}

/** Takes every footnote reference out of `node` and what it holds. */
export function dropNoteReferences(node: Parent): void {
  node.children = node.children.filter((child) => child.type !== "footnoteReference") as typeof node.children;
  for (const child of node.children) if ("children" in child) dropNoteReferences(child);
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

/**
 * Takes the section findKeyPoints found out of the body's HTML tree: its
 * heading and list, the first two elements. Returns the list's items, one
 * for each point; undefined, with the tree untouched, when the first two
 * elements are not a heading and a list.
 */
export function liftKeyPoints(tree: HastRoot): Element[] | undefined {
  const elements = tree.children.flatMap((node, index) => (node.type === "element" ? [{ node, index }] : [])).slice(0, 2);
  const [heading, list] = elements;
  if (!heading || !list || !/^h[1-6]$/.test(heading.node.tagName) || !["ul", "ol"].includes(list.node.tagName)) return undefined;
  tree.children.splice(0, list.index + 1);
  // The line break after the list, which would open the body.
  if (tree.children[0]?.type === "text" && tree.children[0].value.trim() === "") tree.children.shift();
  return list.node.children.filter((item): item is Element => item.type === "element");
}

/**
 * The contents of a lifted item, to serialise as its point: a paragraph's
 * words without the paragraph (a loose list's items hold them), the line
 * breaks between blocks as spaces, so a point reads as one line as its
 * text does.
 */
export function pointContents(item: Element): ElementContent[] {
  const blank = (node: ElementContent) => node.type === "text" && node.value.trim() === "";
  const nodes = item.children.flatMap((child) => (child.type === "element" && child.tagName === "p" ? child.children : blank(child) ? [{ type: "text" as const, value: " " }] : [child]));
  while (nodes[0] && blank(nodes[0])) nodes.shift();
  while (nodes.at(-1) && blank(nodes.at(-1) as ElementContent)) nodes.pop();
  return nodes;
}
