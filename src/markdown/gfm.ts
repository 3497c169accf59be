import type { Construct, Extension, TokenizeContext } from "micromark-util-types";
import type { Processor } from "unified";
import { gfmAutolinkLiteral } from "micromark-extension-gfm-autolink-literal";
import { gfmFootnote } from "micromark-extension-gfm-footnote";
import { gfmStrikethrough } from "micromark-extension-gfm-strikethrough";
import { gfmTable } from "micromark-extension-gfm-table";
import { gfmTaskListItem } from "micromark-extension-gfm-task-list-item";
import { gfmAutolinkLiteralFromMarkdown } from "mdast-util-gfm-autolink-literal";
import { gfmFootnoteFromMarkdown } from "mdast-util-gfm-footnote";
import { gfmStrikethroughFromMarkdown } from "mdast-util-gfm-strikethrough";
import { gfmTableFromMarkdown } from "mdast-util-gfm-table";
import { gfmTaskListItemFromMarkdown } from "mdast-util-gfm-task-list-item";

/** Options for the GitHub Flavored Markdown parts. */
export interface GfmOptions {
  /**
   * Link bare URLs such as https://example.com in running text. It costs
   * about 40 % of parse time (measured in bench/), so it is opt-in;
   * `<https://…>` and `[text](url)` always link.
   */
  bareUrls: boolean;
}

/**
 * remark plugin: GFM tables, footnotes, strikethrough and task lists, and
 * bare-URL autolinking when asked for. remark-gfm offers no way to leave
 * the autolinking out, hence the parts.
 */
export function remarkGfmParts(this: Processor, options: GfmOptions): void {
  const data = this.data();
  const micromark = (data.micromarkExtensions ??= []);
  const fromMarkdown = (data.fromMarkdownExtensions ??= []);
  const rows: DelimiterRows = {};
  const parse = this.parser;
  if (parse) {
    this.parser = (document, file) => {
      rows.lines = delimiterRowLines(document);
      try {
        return parse(document, file);
      } finally {
        rows.lines = undefined;
      }
    };
  }
  micromark.push(tablesWhereDelimited(rows), gfmStrikethrough(), gfmFootnote(), gfmTaskListItem());
  fromMarkdown.push(gfmTableFromMarkdown(), gfmStrikethroughFromMarkdown(), gfmFootnoteFromMarkdown(), gfmTaskListItemFromMarkdown());
  if (options.bareUrls) {
    micromark.push(gfmAutolinkLiteral());
    fromMarkdown.push(gfmAutolinkLiteralFromMarkdown());
  }
}

/** The lines (1-based) of the document being parsed that may be a table's delimiter row; unknown outside a parse. */
interface DelimiterRows {
  lines?: ReadonlySet<number> | undefined;
}

/** A delimiter row, after any blockquote markers and indentation: pipes, colons, spaces and at least one hyphen. */
const DELIMITER_ROW = /^[ \t>]*[|: \t-]*$/;

function delimiterRowLines(document: string): Set<number> {
  const lines = new Set<number>();
  document.split(/\r\n|\r|\n/).forEach((line, i) => {
    if (line.includes("-") && DELIMITER_ROW.test(line)) lines.add(i + 1);
  });
  return lines;
}

/**
 * GFM tables, tried only where one can start. The table construct is tried
 * at the start of every block and reads the whole line before the next line
 * tells it whether this is a table: over prose, a tenth of the parse. A
 * table's head row is always followed by its delimiter row, so a line whose
 * next line cannot be one starts no table and is not tried. Rows after a
 * table's head are tried as before.
 */
function tablesWhereDelimited(rows: DelimiterRows): Extension {
  const table = gfmTable().flow?.null as Construct;
  const tokenize: Construct["tokenize"] = function (this: TokenizeContext, effects, ok, nok) {
    if (rows.lines && !rows.lines.has(this.now().line + 1) && !continuesTable(this)) return nok;
    return table.tokenize.call(this, effects, ok, nok);
  };
  return { flow: { null: { ...table, tokenize } } };
}

/** Whether the block starting here would be a table's body row: the last event, line endings and indents aside, is a table's head or row. */
function continuesTable(context: TokenizeContext): boolean {
  for (let index = context.events.length - 1; index >= 0; index--) {
    const type = context.events[index]?.[1].type;
    if (type !== "lineEnding" && type !== "linePrefix") return type === "tableHead" || type === "tableRow";
  }
  return false;
}
