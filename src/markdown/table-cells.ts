import type { Root, Table } from "mdast";
import type { VFile } from "vfile";
import { fileWarning } from "../errors/rules.js";
import { eachMdastNode } from "./walk.js";

/**
 * Warns of each table row with more cells than the table's header: GFM
 * leaves the extra cells out of the HTML, words and all. Most often a `|`
 * inside a cell (in code too) that was meant as text.
 */
export function warnExtraCells(tree: Root, file: VFile): void {
  eachMdastNode(tree, (node) => {
    if (node.type === "table") checkTable(node, file);
  });
}

function checkTable(table: Table, file: VFile): void {
  const columns = table.children[0]?.children.length ?? 0;
  for (const row of table.children.slice(1)) {
    // Empty cells past the header (a row closed with || ) lose nothing.
    const extra = row.children.slice(columns).filter((cell) => cell.children.length > 0).length;
    if (extra === 0) continue;
    fileWarning(
      file,
      "table-cells",
      `this table row has ${columns + extra} cells and the table's header ${columns}: the last ${extra === 1 ? "one is" : `${extra} are`} left out. A | meant as text, in code too, is written \\|`,
      { place: row.position },
    );
  }
}
