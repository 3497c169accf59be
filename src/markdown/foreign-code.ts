import type { Root, Text } from "mdast";
import type { VFile } from "vfile";
import { fileWarning } from "../errors/rules.js";
import { quote } from "../validate/words.js";
import { eachMdastNode } from "./walk.js";

/** Template code and shortcodes of the tools articles come from: Hugo's, Liquid's (Jekyll), WordPress's; code spans and blocks are other nodes, and never looked at. */
// A WordPress shortcode has attributes (`[caption id="…"]`) or is closed (`[embed]…[/embed]`): `[audio cuts out]` in a transcript is neither.
const FOREIGN = /\{\{[<%][\s\S]*?[>%]\}\}|\{%[\s\S]*?%\}|\{\{[\s\S]*?\}\}|\[(caption|gallery|embed|video|audio|playlist)(?:\s+[\w-]+=[^\]]*)?\](?=[\s\S]*\[\/\1\])|\[(?:caption|gallery|embed|video|audio|playlist)\s+[\w-]+=[^\]]*\]/g;

/**
 * Warns of each piece of another tool's template code in an article's
 * text: `{% post_url … %}`, `{{< ref … >}}`, `[caption …]`. Presswork runs
 * none, so each would reach the page, the feeds and the email as it
 * stands, and the summary too when it opens the article.
 */
export function warnForeignCode(tree: Root, file: VFile): void {
  eachMdastNode(tree, (node) => {
    if (node.type === "text") check(node, file);
  });
}

function check(node: Text, file: VFile): void {
  for (const match of node.value.matchAll(FOREIGN)) {
    const code = match[0];
    const tool = code.startsWith("{{<") || code.startsWith("{{%") ? "a Hugo shortcode" : code.startsWith("[") ? "a WordPress shortcode" : "Liquid template code (Jekyll's)";
    const instead = /post_url|\bref\b|relref|\blink\b/.test(code)
      ? "link to the article by its file, as [text](other.md)"
      : /figure|img|image|caption|gallery/.test(code)
        ? "write the picture in Markdown, as ![what it shows](photo.jpg), a file next to the article"
        : "write what it stands for in Markdown, or put it in backticks if it is meant as code";
    const before = node.value.slice(0, match.index);
    const lines = before.split("\n");
    const start = node.position?.start;
    const place = start && { line: start.line + lines.length - 1, column: lines.length > 1 ? (lines.at(-1)?.length ?? 0) + 1 : start.column + before.length };
    fileWarning(file, "foreign-code", `${quote(code)} is ${tool}, which Presswork prints as it stands, on the page, in feeds and in the email: ${instead}`, place ? { place } : {});
  }
}
