import type { Paragraph, PhrasingContent, Root } from "mdast";
import { toString } from "mdast-util-to-string";

/** Words per minute used for reading time. */
const WORDS_PER_MINUTE = 230;

/** Plain-text facts about an article body. */
export interface BodyStats {
  /** The first paragraph with text, as plain text (no HTML tags, no image's alt), cut at a word boundary near `maxLength`. */
  excerpt: string;
  wordCount: number;
  readingMinutes: number;
}

/** Computes excerpt, word count and reading time from the Markdown tree. */
export function bodyStats(tree: Root, maxLength = 240): BodyStats {
  let first = "";
  for (const node of tree.children) {
    // Inline HTML's tags would show as text in a summary (`<abbr title=…>`), and a picture's alt is no sentence of the article.
    if (node.type === "paragraph") first = toString(raisedAndLowered(node), { includeHtml: false, includeImageAlt: false }).replace(/\s+/g, " ").trim();
    if (first) break;
  }
  const words = toString(tree, { includeImageAlt: false }).match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu)?.length ?? 0;
  return {
    excerpt: truncate(first, maxLength),
    wordCount: words,
    readingMinutes: Math.max(1, Math.round(words / WORDS_PER_MINUTE)),
  };
}

const SUPERSCRIPT: Record<string, string> = Object.fromEntries([..."0123456789+-=()ni"].map((c, i) => [c, "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ"[i] as string]));
const SUBSCRIPT: Record<string, string> = Object.fromEntries([..."0123456789+-=()"].map((c, i) => [c, "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎"[i] as string]));

/**
 * A paragraph whose `<sup>` and `<sub>` text is written raised or lowered,
 * as plain text can: `2<sup>10</sup>` is 2¹⁰ and `H<sub>2</sub>O` is H₂O,
 * where dropping the tags would make them 210 and H2O. A superscript
 * Unicode has no characters for is written after a caret (`x^a`).
 */
function raisedAndLowered(paragraph: Paragraph): Paragraph {
  const children: PhrasingContent[] = [];
  let within: Record<string, string> | undefined;
  for (const child of paragraph.children) {
    if (child.type === "html") {
      const tag = /^<(\/?)(sup|sub)\b[^>]*>$/i.exec(child.value.trim());
      if (tag) {
        within = tag[1] ? undefined : tag[2]?.toLowerCase() === "sup" ? SUPERSCRIPT : SUBSCRIPT;
        continue;
      }
    }
    if (within && child.type === "text") {
      const map = within;
      const all = [...child.value].every((c) => c in map);
      children.push({ ...child, value: all ? [...child.value].map((c) => map[c]).join("") : map === SUPERSCRIPT ? `^${child.value}` : child.value });
      continue;
    }
    children.push(child);
  }
  return { ...paragraph, children };
}

/** Shortens text to at most `max` characters at a word boundary, with an ellipsis. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  // The cut falls between two words when the next character is a space: the last word is whole.
  const space = text[max - 1] === " " ? cut.length : cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.]+$/, "")}…`;
}
