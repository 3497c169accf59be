import type { Element, Root as HastRoot } from "hast";
import type { raw as Raw } from "hast-util-raw";
import type { Root as MdastRoot } from "mdast";
import type { Options as HighlightOptions } from "rehype-highlight";
import rehypeSanitize from "rehype-sanitize";
import rehypeSlug from "rehype-slug";
import rehypeStringify from "rehype-stringify";
import remarkFrontmatter from "remark-frontmatter";
import remarkParse from "remark-parse";
import remarkRehype from "remark-rehype";
import { unified } from "unified";
import type { VFile } from "vfile";
import { bodyStats, type BodyStats } from "./excerpt.js";
import { remarkGfmParts, type GfmOptions } from "./gfm.js";
import { rehypeDirection, type Direction } from "./direction.js";
import { dropNoteReferences, findKeyPoints, liftKeyPoints } from "./key-points.js";
import { warnDropped } from "./dropped.js";
import { sanitizeSchema } from "./sanitize.js";
import { warnExtraCells } from "./table-cells.js";
import { warnForeignCode } from "./foreign-code.js";
import { hasRaw } from "./walk.js";
import { highlighter } from "./highlight.js";
import { PressworkError } from "../errors/error.js";
import { ID_PREFIX } from "./links.js";

declare module "vfile" {
  interface DataMap {
    /** The Quick Reads' points as plain text, one per item of its list. */
    keyPoints: string[];
    /** The Quick Reads' items, taken out of the body's HTML tree, one for each point: undefined for one whose HTML did not stay one item. */
    keyPointsItems: Array<Element | undefined>;
    /** Set before the run to keep a Quick Reads section in the body: an editor's note has no key points. */
    keyPointsKept: boolean;
    /** Set before the run when the front matter gives the key points: the body's section is left out, its links and pictures unread. */
    keyPointsUnread: boolean;
    stats: BodyStats;
  }
}

/**
 * remark plugin: finds the Quick Reads section, whose points go to
 * `file.data.keyPoints` as text, and records the stats of the body without it.
 * The section stays in the tree, so that its links are resolved and its HTML
 * cleaned as the body's are: rehypeLiftKeyPoints takes it out. Its footnote
 * references go: the notes are the body's, and numbered as the body has
 * them. A section the front matter's points stand for goes now, unread.
 */
function remarkArticle() {
  return (tree: MdastRoot, file: VFile) => {
    const section = file.data.keyPointsKept ? undefined : findKeyPoints(tree);
    if (section) {
      file.data.keyPoints = section.points;
      if (file.data.keyPointsUnread) tree.children.splice(section.start, 2);
      else dropNoteReferences(section.list);
    }
    warnExtraCells(tree, file);
    warnForeignCode(tree, file);
    const lifted = section && !file.data.keyPointsUnread;
    file.data.stats = bodyStats(lifted ? { ...tree, children: tree.children.filter((_, i) => i !== section.start && i !== section.start + 1) } : tree);
  };
}

/**
 * rehype plugin: takes the Quick Reads section remarkArticle found out of the
 * tree into `file.data.keyPointsItems`, before raw HTML is parsed. Each
 * item's raw HTML is then parsed and cleaned on its own, as the body's is,
 * so a point's unclosed tag cannot take in the body or the other points.
 */
function rehypeLiftKeyPoints() {
  return (tree: HastRoot, file: VFile) => {
    if (!file.data.keyPoints || file.data.keyPointsUnread) return;
    const items = liftKeyPoints(tree);
    // Not the heading and list it was in Markdown: the section stays in the body, where it shows as written.
    if (!items) {
      delete file.data.keyPoints;
      return;
    }
    file.data.keyPointsItems = items.map((item) => {
      // An end tag in a point can leave some of it outside its item: the point then shows as its text, all of it.
      const cleaned = (pointsCleaner.runSync({ type: "root", children: [item] }, file) as HastRoot).children.filter((node) => node.type !== "text" || node.value.trim() !== "");
      const [only] = cleaned;
      return cleaned.length === 1 && only?.type === "element" && only.tagName === "li" ? only : undefined;
    });
  };
}

let raw: typeof Raw | undefined;

/**
 * Loads the raw-HTML parser (parse5, a sixth of the Markdown pipeline's code)
 * when one of `texts` may hold raw HTML, which always starts with `<`: an
 * edit to an article without any does not load it. Call before rendering.
 */
export async function prepareFor(texts: Iterable<string>): Promise<void> {
  if (raw) return;
  for (const text of texts) {
    if (!text.includes("<")) continue;
    raw = (await import("hast-util-raw")).raw;
    return;
  }
}

/**
 * rehype plugin: parses raw HTML into the tree, only when the article has
 * any, so it can be sanitised, and warns of each element the sanitiser
 * will leave out of it.
 */
function rehypeRawWhenPresent() {
  return (tree: HastRoot, file: VFile) => {
    if (!hasRaw(tree)) return tree;
    if (!raw) throw new PressworkError("internal", `${file.path} holds raw HTML, but prepareFor was not given its text`);
    const parsed = raw(tree, { file }) as HastRoot;
    warnDropped(parsed, file);
    return parsed;
  };
}

/** A Quick Reads item, lifted out of the body, parsed and cleaned as the body is. */
const pointsCleaner = unified().use(rehypeRawWhenPresent).use(rehypeSanitize, { ...sanitizeSchema, clobberPrefix: ID_PREFIX }).freeze();

/** Elements rehype-slug gives ids to. */
const HEADINGS = new Set(["h1", "h2", "h3", "h4", "h5", "h6"]);

/**
 * rehype plugin: rehype-slug, then rehype-highlight, each over the headings
 * or the code blocks alone. Each walks every node of the tree it is given,
 * with the path to it, to find the few it changes: over a whole article, a
 * tenth of its render. Given a root that holds every heading in document
 * order (a heading inside another already has its id when it comes again,
 * and keeps it), and one that holds the outermost `pre` elements, they
 * change the same nodes the same way.
 */
function rehypeSlugAndHighlight(options: HighlightOptions) {
  const slug = rehypeSlug();
  const highlight = highlighter(options);
  return (tree: HastRoot, file: VFile) => {
    const headings: Element[] = [];
    const blocks: Element[] = [];
    const walk = (parent: HastRoot | Element, inPre: boolean) => {
      for (const child of parent.children) {
        if (child.type !== "element") continue;
        if (HEADINGS.has(child.tagName)) headings.push(child);
        const pre = child.tagName === "pre";
        if (pre && !inPre) blocks.push(child);
        walk(child, inPre || pre);
      }
    };
    walk(tree, false);
    slug({ type: "root", children: headings });
    highlight({ type: "root", children: blocks }, file);
  };
}

/**
 * The one processor for article bodies: Markdown with GFM and front matter,
 * to a sanitised HTML tree with heading ids and highlighted code, serialised
 * by rehype-stringify. Run in two steps (see renderBody): `runSync` to the
 * tree, then `stringify` once for each target the tree is pointed at.
 */
function createProcessor(options: BodyOptions) {
  return unified()
    .use(remarkParse)
    .use(remarkFrontmatter, ["yaml"])
    .use(remarkGfmParts, options)
    .use(remarkArticle)
    .use(remarkRehype, { allowDangerousHtml: true, clobberPrefix: "" })
    .use(rehypeLiftKeyPoints)
    .use(rehypeRawWhenPresent)
    .use(rehypeSanitize, { ...sanitizeSchema, clobberPrefix: ID_PREFIX })
    .use(rehypeSlugAndHighlight, { detect: false, plainText: ["text", "txt", "plain"] })
    .use(rehypeDirection, { site: options.direction })
    .use(rehypeStringify)
    .freeze();
}

/** What a body's HTML follows from beside its text: the GFM options and the direction the site's language runs in. */
export interface BodyOptions extends GfmOptions {
  direction: Direction;
}

const processors = new Map<string, ReturnType<typeof createProcessor>>();

/** The article processor for the given options, built once. */
export function articleProcessor(options: BodyOptions): ReturnType<typeof createProcessor> {
  const key = `${options.bareUrls} ${options.direction}`;
  let processor = processors.get(key);
  if (!processor) {
    processor = createProcessor(options);
    processors.set(key, processor);
  }
  return processor;
}
