import type { Element, Root as HastRoot } from "hast";
import type { raw as Raw } from "hast-util-raw";
import type { Root as MdastRoot } from "mdast";
import rehypeHighlight, { type Options as HighlightOptions } from "rehype-highlight";
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
import { liftKeyPoints } from "./key-points.js";
import { warnDropped } from "./dropped.js";
import { sanitizeSchema } from "./sanitize.js";
import { hasRaw } from "./walk.js";
import { PressworkError } from "../errors/error.js";

/** Prefix the sanitiser puts on ids that come from the article, so they cannot clobber page globals. */
export const ID_PREFIX = "user-content-";

declare module "vfile" {
  interface DataMap {
    keyPoints: string[];
    stats: BodyStats;
  }
}

/** remark plugin: lifts the Quick Reads section into `file.data.keyPoints` and records body stats. */
function remarkArticle() {
  return (tree: MdastRoot, file: VFile) => {
    const points = liftKeyPoints(tree);
    if (points) file.data.keyPoints = points;
    file.data.stats = bodyStats(tree);
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
  const highlight = rehypeHighlight(options);
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
function createProcessor(gfm: GfmOptions) {
  return unified()
    .use(remarkParse)
    .use(remarkFrontmatter, ["yaml"])
    .use(remarkGfmParts, gfm)
    .use(remarkArticle)
    .use(remarkRehype, { allowDangerousHtml: true, clobberPrefix: "" })
    .use(rehypeRawWhenPresent)
    .use(rehypeSanitize, { ...sanitizeSchema, clobberPrefix: ID_PREFIX })
    .use(rehypeSlugAndHighlight, { detect: false, plainText: ["text", "txt", "plain"] })
    .use(rehypeStringify)
    .freeze();
}

const processors = new Map<boolean, ReturnType<typeof createProcessor>>();

/** The article processor for the given GFM options, built once. */
export function articleProcessor(gfm: GfmOptions): ReturnType<typeof createProcessor> {
  let processor = processors.get(gfm.bareUrls);
  if (!processor) {
    processor = createProcessor(gfm);
    processors.set(gfm.bareUrls, processor);
  }
  return processor;
}
