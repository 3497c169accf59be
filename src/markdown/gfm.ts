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
  micromark.push(gfmTable(), gfmStrikethrough(), gfmFootnote(), gfmTaskListItem());
  fromMarkdown.push(gfmTableFromMarkdown(), gfmStrikethroughFromMarkdown(), gfmFootnoteFromMarkdown(), gfmTaskListItemFromMarkdown());
  if (options.bareUrls) {
    micromark.push(gfmAutolinkLiteral());
    fromMarkdown.push(gfmAutolinkLiteralFromMarkdown());
  }
}
