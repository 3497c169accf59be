import type { Element, ElementContent, Root, Text } from "hast";
import { fromHtml } from "hast-util-from-html";
import { toHtml } from "hast-util-to-html";
import { toString } from "hast-util-to-string";
import type { EmailImage } from "./images.js";
import { readsRightToLeft } from "../markdown/direction.js";

/**
 * The light colours the email's body is styled with inline. They match the
 * email templates; the templates' dark-mode styles override them where a
 * client reads `<style>`.
 */
export const EMAIL_COLOURS = {
  ink: "#1d1d1f",
  muted: "#5f5f66",
  accent: "#b3261e",
  rule: "#e3e0d8",
  ruleStrong: "#c9c4b8",
  code: "#f3f1ec",
} as const;

const MONO = "Menlo, Consolas, 'Courier New', monospace";
const { ink, muted, accent, rule, ruleStrong, code } = EMAIL_COLOURS;

/** Inline styles by element: the body reads the same in a client that drops `<style>`. */
const STYLES: Record<string, string> = {
  p: "margin:0 0 16px",
  h2: "margin:28px 0 10px;font-size:20px;line-height:1.3;font-weight:700",
  h3: "margin:24px 0 8px;font-size:18px;line-height:1.3;font-weight:700",
  h4: "margin:20px 0 8px;font-size:16px;line-height:1.3;font-weight:700",
  h5: "margin:20px 0 8px;font-size:16px;line-height:1.3;font-weight:700",
  h6: "margin:20px 0 8px;font-size:16px;line-height:1.3;font-weight:700",
  ul: "margin:0 0 16px;padding:0 0 0 24px",
  ol: "margin:0 0 16px;padding:0 0 0 24px",
  blockquote: `margin:0 0 16px;padding:0 0 0 14px;border-left:3px solid ${ruleStrong};color:${muted};font-style:italic`,
  pre: `margin:0;padding:12px 14px;background-color:${code};color:${ink};font-family:${MONO};font-size:13px;line-height:1.5;white-space:pre-wrap`,
  code: `font-family:${MONO};font-size:14px;background-color:${code};padding:1px 4px`,
  table: "border-collapse:collapse;font-size:14px;line-height:1.4;word-break:normal",
  th: `padding:6px 10px;border-bottom:2px solid ${ruleStrong}`,
  td: `padding:6px 10px;border-bottom:1px solid ${rule}`,
  hr: `border:0;border-top:1px solid ${rule};margin:24px 0`,
  a: `color:${accent}`,
  sup: "font-size:12px;line-height:0;vertical-align:super",
  sub: "font-size:12px;line-height:0;vertical-align:sub",
  figure: "margin:0 0 16px",
  figcaption: `margin:6px 0 0;font-size:13px;line-height:1.4;color:${muted}`,
};

/** The styles of a list and a quote that run right to left: indent and rule on the right. */
const MIRRORED: Partial<Record<string, string>> = {
  ul: "margin:0 0 16px;padding:0 24px 0 0",
  ol: "margin:0 0 16px;padding:0 24px 0 0",
  blockquote: `margin:0 0 16px;padding:0 14px 0 0;border-right:3px solid ${ruleStrong};color:${muted};font-style:italic;text-align:right`,
};

/**
 * A box that scrolls sideways when what it holds is wider than the column.
 * Its width is 0 stretched to 100 %, so a wide table or a long code line
 * never widens the layout table around it (which would widen the message).
 */
const SCROLLER = "overflow-x:auto;width:0;min-width:100%;margin:0 0 16px";

/** Tokens longer than this get break opportunities, so a long URL wraps where word-break is not read (Yahoo). */
const LONG_TOKEN = 30;

/**
 * An article body (or an editor's note) as it goes into the email: styled
 * inline, so the message holds together in a client that drops `<style>`;
 * tables and code in boxes that scroll on their own instead of widening
 * the message; footnote references as "[1]" with the notes below under
 * "Notes"; task-list checkboxes as ☑ and ☐ (webmail strips inputs); each
 * paragraph, list item or cell that reads right to left with `dir="rtl"`
 * and aligned right (the others need nothing, and every byte counts
 * against Gmail's clipping); long URLs and words with `<wbr>` break opportunities; ids,
 * classes and highlighting spans, which no client needs, left out. The
 * input is sanitised HTML from the Markdown pipeline, so nothing here needs
 * escaping again.
 */
export function emailBody(html: string, images?: EmailImages): string {
  const tree = fromHtml(html, { fragment: true });
  tree.children = transformChildren(tree, false, images);
  return toHtml(tree);
}

/** How the email shows a body's local pictures (see emailImage), by the URL its HTML loads each from. */
export type EmailImages = Readonly<Record<string, EmailImage>>;

function transformChildren(parent: Root | Element, inPre: boolean, images: EmailImages | undefined): ElementContent[] {
  const out: ElementContent[] = [];
  for (const child of parent.children) {
    // Line breaks between blocks are bytes no client shows.
    if (child.type === "text" && !inPre && /^\s*\n\s*$/.test(child.value)) continue;
    if (child.type === "text") out.push(...(inPre ? [child] : breakLongTokens(child)));
    else if (child.type === "element") out.push(...transformElement(child, inPre, images));
  }
  return out;
}

function transformElement(node: Element, inPre: boolean, images: EmailImages | undefined): ElementContent[] {
  const p = node.properties;
  if (node.tagName === "a" && p["dataFootnoteRef"] !== undefined) return [text(`[${toString(node)}]`)];
  if (node.tagName === "a" && p["dataFootnoteBackref"] !== undefined) return [];
  if (node.tagName === "input") return p["type"] === "checkbox" ? [text(p["checked"] ? "☑" : "☐")] : [];
  if (node.tagName === "section" && p["dataFootnotes"] !== undefined) return [footnotes(node, images)];
  // Highlighting spans carry only classes, which no email client is sent styles for.
  if (node.tagName === "span" && classes(node).some((c) => c.startsWith("hljs"))) return transformChildren(node, inPre, images);
  if (node.tagName === "img" && images) sizePicture(node, images);
  const pre = inPre || node.tagName === "pre";
  node.children = transformChildren(node, pre, images);
  style(node, inPre);
  if (node.tagName === "table" || node.tagName === "pre") return [element("div", { style: SCROLLER }, [node])];
  return [node];
}

function style(node: Element, inPre: boolean): void {
  const p = node.properties;
  const task = classes(node).includes("task-list-item") || classes(node).includes("contains-task-list");
  delete p["id"];
  delete p["className"];
  delete p["ariaDescribedBy"];
  let css = node.tagName === "code" && inPre ? `font-family:${MONO}` : (STYLES[node.tagName] ?? "");
  if (node.tagName === "th" || node.tagName === "td") {
    const align = typeof p["align"] === "string" ? p["align"] : node.tagName === "th" ? "left" : undefined;
    if (align) css += `;text-align:${align}`;
    delete p["align"];
  }
  if (node.tagName === "img") {
    const width = Number(p["width"]) || 0;
    // With a height attribute, height:auto keeps the proportions where the width shrinks to a phone's.
    css = `display:block;width:100%;${width > 0 ? `max-width:${width}px;` : ""}${p["height"] !== undefined ? "height:auto;" : ""}border:0`;
  }
  if (task) css += node.tagName === "li" ? ";list-style-type:none" : ";padding-left:4px";
  // The column is aligned to the start side of the site's language: a block that reads the other way says so itself
  // (dir="ltr" from the render, on a right-to-left site), with its alignment, and a list or quote of right-to-left
  // text has its indent and rule on the right. Code reads left to right in any language.
  if (readsRightToLeft(node)) {
    p["dir"] = "rtl";
    css += `${css ? ";" : ""}text-align:right`;
  } else if (p["dir"] === "ltr" || node.tagName === "pre") {
    p["dir"] = "ltr";
    css += `${css ? ";" : ""}text-align:left`;
  }
  if (p["dir"] === "rtl" && MIRRORED[node.tagName]) css = MIRRORED[node.tagName] as string;
  if (css) p["style"] = css;
}

/**
 * A local picture as the email shows it: from its email-size copy when it
 * has one, at its width in the column (the author's when narrower, never
 * wider than the source) with the height in proportion; a copy replaces the
 * author's srcset too. Other pictures (remote ones, or of a size that could
 * not be read) stay as they are.
 */
function sizePicture(img: Element, images: EmailImages): void {
  const p = img.properties;
  const src = p["src"];
  if (typeof src !== "string" || !Object.hasOwn(images, src)) return;
  const image = images[src] as EmailImage;
  const authored = Number(p["width"]);
  const width = authored > 0 && authored < image.width ? authored : image.width;
  p["src"] = image.url;
  // Candidates the author listed would be the full-size originals again, in the clients that read them.
  if (image.copy) {
    delete p["srcSet"];
    delete p["sizes"];
  }
  p["width"] = width;
  p["height"] = width === image.width ? image.height : Math.max(1, Math.round((image.height * width) / image.width));
}

/**
 * GFM's footnotes section as the email shows it: a rule, "Notes", and each
 * note as a paragraph that starts with its number in brackets, the way the
 * references in the text read. The links back to the references are left
 * out: in-message anchors do not work in most clients.
 */
function footnotes(section: Element, images: EmailImages | undefined): Element {
  const notes: ElementContent[] = [];
  let n = 0;
  for (const list of section.children) {
    if (list.type !== "element" || list.tagName !== "ol") continue;
    for (const item of list.children) {
      if (item.type !== "element" || item.tagName !== "li") continue;
      n += 1;
      const body = transformChildren(item, false, images).filter((c) => c.type === "element" || c.value.trim() !== "");
      const first = body[0];
      if (first?.type === "element" && first.tagName === "p") first.children.unshift(text(`[${n}] `));
      else body.unshift(text(`[${n}] `));
      notes.push(...body);
    }
  }
  return element("div", { style: `margin:24px 0 0;padding:12px 0 0;border-top:1px solid ${rule};font-size:14px;line-height:1.5` }, [
    element("p", { style: "margin:0 0 8px;font-weight:700" }, [text("Notes")]),
    ...notes,
  ]);
}

/** Splits a text's tokens longer than LONG_TOKEN with `<wbr>` after URL punctuation, or every 20 characters where there is none. */
function breakLongTokens(node: Text): ElementContent[] {
  if (!/\S{31}/.test(node.value)) return [node];
  const out: ElementContent[] = [];
  for (const piece of node.value.split(/(\s+)/)) {
    if (piece.length <= LONG_TOKEN) {
      out.push(text(piece));
      continue;
    }
    const parts = piece.match(/[^/.?&=#_-]*[/.?&=#_-]+|[^/.?&=#_-]+$/g) ?? [piece];
    const chunks = parts.flatMap((part) => part.match(/.{1,20}/gu) ?? []);
    chunks.forEach((chunk, i) => {
      if (i > 0) out.push(element("wbr", {}, []));
      out.push(text(chunk));
    });
  }
  return out;
}

function classes(node: Element): string[] {
  const value = node.properties["className"];
  return Array.isArray(value) ? value.map(String) : [];
}

function text(value: string): Text {
  return { type: "text", value };
}

function element(tagName: string, properties: Element["properties"], children: ElementContent[]): Element {
  return { type: "element", tagName, properties, children };
}
