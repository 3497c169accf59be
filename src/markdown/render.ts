import type { Root } from "hast";
import { toHtml } from "hast-util-to-html";
import { visit } from "unist-util-visit";
import type { VFile } from "vfile";
import type { BodyStats } from "./excerpt.js";
import { rebaseUrls, resolveLocalUrls, type LocalLinks, type Resolver } from "./links.js";
import { articleProcessor, ID_PREFIX } from "./processor.js";

/** Bump when a change to the pipeline changes rendered HTML, so cached renders are not reused. */
export const PIPELINE_VERSION = 1;

/** The serialisations of one article body. */
export interface ArticleHtml {
  /** For the site: local links as site-root paths under the site's base path. */
  web: string;
  /** For feeds: every URL absolute, resolved against the article's own URL. */
  feed: string;
  /** For email: absolute like the feed, images sized to the column. */
  email: string;
}

/** What rendering an article body yields. */
export interface RenderedBody extends BodyStats, LocalLinks {
  html: ArticleHtml;
  /** Key points lifted from a Quick Reads section of the body, if it has one. */
  keyPoints?: string[];
}

/** Where the article lives, for resolving its links. */
export interface RenderTarget {
  /** Site-root path of the site, e.g. "/" or "/news/". */
  basePath: string;
  /** Absolute URL of the site, ending in "/". */
  siteUrl: string;
  /** Absolute URL of this article's page. */
  pageUrl: string;
  resolve: Resolver;
}

/** Width of the email's content column in CSS pixels. */
export const EMAIL_COLUMN = 600;

/**
 * Parses an article once and serialises its one tree for each target.
 * Problems are messages on `file`, with their places.
 */
export function renderBody(file: VFile, from: string, target: RenderTarget): RenderedBody {
  const tree = articleProcessor.runSync(articleProcessor.parse(file), file) as Root;
  const links = resolveLocalUrls(tree, file, from, target.resolve, ID_PREFIX);
  const { stats, keyPoints } = file.data;
  const html: ArticleHtml = {
    web: serialise(tree, (copy) => {
      rebaseUrls(copy, target.basePath);
      lazyImages(copy);
    }),
    feed: serialise(tree, (copy) => rebaseUrls(copy, target.siteUrl, target.pageUrl)),
    email: serialise(tree, (copy) => {
      rebaseUrls(copy, target.siteUrl, target.pageUrl);
      fitImages(copy, EMAIL_COLUMN);
    }),
  };
  const body: RenderedBody = { ...(stats ?? { excerpt: "", wordCount: 0, readingMinutes: 1 }), ...links, html };
  if (keyPoints) body.keyPoints = keyPoints;
  return body;
}

function serialise(tree: Root, adapt: (copy: Root) => void): string {
  const copy = structuredClone(tree);
  adapt(copy);
  return toHtml(copy);
}

function lazyImages(tree: Root): void {
  visit(tree, "element", (node) => {
    if (node.tagName !== "img") return;
    node.properties["loading"] = "lazy";
    node.properties["decoding"] = "async";
  });
}

/** Email clients ignore most CSS: images get an explicit width and a max-width so they never overflow the column. */
function fitImages(tree: Root, column: number): void {
  visit(tree, "element", (node) => {
    if (node.tagName !== "img") return;
    const width = Number(node.properties["width"]);
    if (!(width > 0 && width <= column)) node.properties["width"] = column;
    delete node.properties["height"];
    node.properties["style"] = "max-width:100%;height:auto;display:block;border:0";
    if (typeof node.properties["alt"] !== "string") node.properties["alt"] = "";
  });
}
