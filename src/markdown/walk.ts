import type { Element, Root } from "hast";
import type { Nodes as MdastNodes, Parent as MdastParent } from "mdast";

/**
 * Calls `each` on every element of a hast tree, parents before children, as
 * `visit(tree, "element", each)` does, without its cost: unist-util-visit
 * names a function for debugging at every node it enters, and our own
 * passes through that took a twentieth of rendering 5,000 articles.
 */
export function eachElement(tree: Root | Element, each: (node: Element) => void): void {
  for (const child of tree.children) {
    if (child.type !== "element") continue;
    each(child);
    eachElement(child, each);
  }
}

/** Whether a hast tree holds raw HTML (a `raw` node) anywhere. */
export function hasRaw(tree: Root | Element): boolean {
  return tree.children.some((child) => child.type === "raw" || (child.type === "element" && hasRaw(child)));
}

/** Calls `each` on every node under a Markdown (mdast) tree, parents before children. */
export function eachMdastNode(tree: MdastParent, each: (node: MdastNodes) => void): void {
  for (const child of tree.children) {
    each(child);
    if ("children" in child) eachMdastNode(child, each);
  }
}
