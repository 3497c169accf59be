import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { gfmFootnote } from "micromark-extension-gfm-footnote";
import { gfmStrikethrough } from "micromark-extension-gfm-strikethrough";
import { gfmTable } from "micromark-extension-gfm-table";
import { gfmTaskListItem } from "micromark-extension-gfm-task-list-item";
import { gfmFootnoteFromMarkdown } from "mdast-util-gfm-footnote";
import { gfmStrikethroughFromMarkdown } from "mdast-util-gfm-strikethrough";
import { gfmTableFromMarkdown } from "mdast-util-gfm-table";
import { gfmTaskListItemFromMarkdown } from "mdast-util-gfm-task-list-item";
import remarkParse from "remark-parse";
import { unified, type Processor } from "unified";
import { describe, expect, it } from "vitest";
import { remarkGfmParts } from "../../src/markdown/gfm.js";

/** The GFM parts as their packages ship them: tables tried at every block. */
function plainGfm(this: Processor): void {
  const data = this.data();
  (data.micromarkExtensions ??= []).push(gfmTable(), gfmStrikethrough(), gfmFootnote(), gfmTaskListItem());
  (data.fromMarkdownExtensions ??= []).push(gfmTableFromMarkdown(), gfmStrikethroughFromMarkdown(), gfmFootnoteFromMarkdown(), gfmTaskListItemFromMarkdown());
}

const ours = unified().use(remarkParse).use(remarkGfmParts, { bareUrls: false }).freeze();
const theirs = unified().use(remarkParse).use(plainGfm).freeze();

/** Tables where they may hide, and lines that look like them but are not. */
const CASES: Record<string, string> = {
  plain: "| a | b |\n| --- | --- |\n| 1 | 2 |\n",
  "no outer pipes": "a | b\n--- | ---\n1 | 2\n",
  "one column": "| a |\n| - |\n| 1 |\n",
  aligned: "| l | c | r |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n",
  "tabs in the delimiter row": "a\t|\tb\n-\t|\t-\n",
  "escaped pipe": "| a \\| b | c |\n| --- | --- |\n| `x \\| y` | z |\n",
  "at the end without a line ending": "| a |\n| - |",
  "head row last": "text\n\n| a | b |",
  "after a paragraph": "Some words.\n| a | b |\n| - | - |\n| 1 | 2 |\n",
  "rows then a paragraph": "| a |\n| - |\n| 1 |\nlazy words\n\nafter\n",
  "blank line ends it": "| a |\n| - |\n\n| 1 |\n",
  "in a blockquote": "> | a | b |\n> | - | - |\n> | 1 | 2 |\n",
  "lazy delimiter in a blockquote": "> | a | b |\n| - | - |\n",
  "in a list": "- item\n\n  | a | b |\n  | - | - |\n  | 1 | 2 |\n- next\n",
  "nested quote in a list": "1. > | a |\n   > | - |\n   > | 1 |\n",
  "in a footnote": "Text[^1].\n\n[^1]: note\n\n    | a |\n    | - |\n",
  "indented code, not a table": "    | a |\n    | - |\n",
  "setext heading": "Title | x\n---\n",
  "thematic break": "a | b\n***\n",
  "delimiter without hyphens": "| a |\n| : |\n",
  "mismatched cells": "| a | b |\n| - |\n",
  "delimiter row first": "| - | - |\n| a | b |\n",
  "two tables": "| a |\n| - |\n\n| b |\n| - |\n| 2 |\n",
  "CRLF": "| a | b |\r\n| - | - |\r\n| 1 | 2 |\r\n",
  "CR": "| a |\r| - |\r| 1 |\r",
  "prose with pipes": "This | that | other, and a long line of prose with a pipe in it.\nAnd the next line - with a dash.\n",
  "list markers that look like delimiters": "| a |\n- | - |\n",
  "html and a table": "<div>\n| a |\n| - |\n</div>\n\n| a |\n| - |\n",
};

const tree = (processor: typeof ours, text: string) => JSON.stringify(processor.parse(text));

describe("GFM tables tried only before a delimiter row", () => {
  it.each(Object.entries(CASES))("parse exactly as the GFM extension does: %s", (_, text) => {
    expect(tree(ours, text)).toBe(tree(theirs, text));
  });

  it("are compared on cases most of which hold a table", () => {
    expect(Object.values(CASES).filter((text) => tree(theirs, text).includes('"type":"table"')).length).toBeGreaterThan(15);
  });

  it("parse every sample article exactly as the GFM extension does", async () => {
    const dir = join(import.meta.dirname, "../../articles");
    const paths = (await readdir(dir, { recursive: true })).filter((path) => path.endsWith(".md"));
    expect(paths.length).toBeGreaterThanOrEqual(8);
    for (const path of paths) {
      const text = await readFile(join(dir, path), "utf8");
      expect(tree(ours, text), path).toBe(tree(theirs, text));
    }
  });
});
