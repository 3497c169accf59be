import type { Element, Root } from "hast";
import type { VFile } from "vfile";
import { digest } from "../cache/key.js";
import type { BodyStats } from "./excerpt.js";
import { elementIds, ID_PREFIX, rebaseUrls, resolveLocalUrls, type LocalLinks, type Resolver } from "./links.js";
import { pointContents } from "./key-points.js";
import { escapeText } from "../xml/escape.js";
import { articleProcessor } from "./processor.js";
export { prepareFor } from "./processor.js";
import type { Direction } from "./direction.js";
import { eachElement } from "./walk.js";
import { fileError, fileWarning } from "../errors/rules.js";
import { EMAIL_COLUMN } from "../issues/limits.js";

/** The serialisations of one article body. */
export interface ArticleHtml {
  /** For the site: local links as site-root paths under the site's base path. */
  web: string;
  /** For feeds: every URL absolute, resolved against the article's own URL. */
  feed: string;
  /** For email: absolute like the feed, images sized to the column. */
  email: string;
}

/** Key points as inline HTML, one string a point, for each serialisation of a body. */
export type PointsHtml = { [K in keyof ArticleHtml]: string[] };

/** What rendering an article body yields. */
export interface RenderedBody extends BodyStats, LocalLinks {
  html: ArticleHtml;
  /** A hash of the three serialisations: stands for the body where only its identity matters. */
  digest: string;
  /** A hash of what pages other than its own show of the body: excerpt, reading time, key points. */
  statsDigest: string;
  /** Key points lifted from a Quick Reads section of the body, if it has one, as plain text. */
  keyPoints?: string[];
  /** The same points as inline HTML, links and emphasis kept, for each serialisation; absent when every point is plain text. */
  keyPointsHtml?: PointsHtml;
  /** Bytes of the feed's HTML, recorded at render so that capping a feed item needs not read it. */
  feedBytes?: number;
  /**
   * The ids of the elements of the web HTML and of its Quick Reads points (the site's article template shows them
   * above the body), and the names of their `<a name>` anchors: the parts a link to the article can name.
   */
  ids: string[];
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
  /** Link bare URLs in running text (GFM autolink literals). */
  bareUrls: boolean;
  /** The direction the site's language runs in: blocks that run the other way are marked. */
  direction: Direction;
}

/**
 * Parses an article once and serialises its one tree for each target.
 * Problems are messages on `file`, with their places.
 */
export function renderBody(file: VFile, from: string, target: RenderTarget): RenderedBody {
  const processor = articleProcessor({ bareUrls: target.bareUrls, direction: target.direction });
  const tree = processor.runSync(processor.parse(file), file) as Root;
  // The Quick Reads' items join the body while their links are resolved and their images checked.
  const items = file.data.keyPointsItems ?? [];
  const lifted = items.filter((item): item is Element => item !== undefined);
  tree.children.push(...lifted);
  const { slots, ...links } = resolveLocalUrls(tree, file, from, target.resolve, ID_PREFIX, target.siteUrl);
  const images: Element[] = [];
  /** Code blocks and tables, which scroll sideways on a narrow screen. */
  const scrollers: Element[] = [];
  eachElement(tree, (node) => {
    if (node.tagName === "pre" || node.tagName === "table") scrollers.push(node);
    if (node.tagName === "h1") {
      fileWarning(file, "heading-order", "a level-1 heading in the body: the title is the page's only h1. Start sections with ##", { place: node.position });
    }
    if (node.tagName !== "img") return;
    images.push(node);
    const alt = node.properties["alt"];
    if (typeof alt !== "string" || alt.trim() === "") {
      fileError(file, "image-alt", "image without alt text: describe it, as in ![What the photo shows](photo.jpg)", { place: node.position });
    }
  });
  tree.children.splice(tree.children.length - lifted.length);
  const sizes = images.map((img) => [img.properties["width"], img.properties["height"]] as const);
  const pointNodes = items.map((item) => item && pointContents(item));
  // The body's, and those of the Quick Reads the article page shows above it (an empty point is not shown); as a browser
  // reads them back (it reads a carriage return as a line feed).
  const shownPoints = pointNodes.flatMap((nodes, i) => (nodes && file.data.keyPoints?.[i] !== "" ? nodes : []));
  const ids = [...elementIds({ type: "root", children: [...tree.children, ...shownPoints] })].map((id) => id.replace(/\r\n?/g, "\n"));
  const points: PointsHtml = { web: [], feed: [], email: [] };
  const serialise = (base: string, page: string | undefined, mode: ImageMode) => {
    rebaseUrls(slots, base, page);
    images.forEach((img, i) => setImageMode(img, sizes[i] ?? [undefined, undefined], mode));
    // On the site, a block that may scroll takes keyboard focus, so that arrow keys can scroll it.
    for (const node of scrollers) {
      if (mode === "web") node.properties["tabIndex"] = 0;
      else delete node.properties["tabIndex"];
    }
    const serialised = processor.stringify(tree, file);
    // On the site, the points show on other pages too (an issue's): a link to a part of the article goes to its page.
    // Every slot is pointed again, the body's too: the next serialisation points them all from their values as resolved.
    if (mode === "web" && lifted.length > 0) rebaseUrls(slots, base, new URL(target.pageUrl).pathname);
    // A point whose HTML did not stay one item shows as its text.
    points[mode] = pointNodes.map((nodes, i) => (nodes ? processor.stringify({ type: "root", children: nodes }, file) : escapeText(file.data.keyPoints?.[i] ?? "")));
    return serialised;
  };
  const web = serialise(target.basePath, undefined, "web");
  plainForReaders(tree);
  const feed = serialise(target.siteUrl, target.pageUrl, "feed");
  // The email's URLs are the feed's: only images differ between the two.
  const html: ArticleHtml = { web, feed, email: images.length > 0 ? serialise(target.siteUrl, target.pageUrl, "email") : feed };
  if (images.length === 0) points.email = points.feed;
  const { stats, keyPoints } = file.data;
  const shown = stats ?? { excerpt: "", wordCount: 0, readingMinutes: 1 };
  const body: RenderedBody = { ...shown, ...links, html, digest: digest(html.web, html.feed, html.email), statsDigest: digest(shown.excerpt, shown.readingMinutes, keyPoints ?? null, points), feedBytes: Buffer.byteLength(feed), ids };
  if (keyPoints) {
    // An empty item is no point; its HTML goes with it.
    const kept = keyPoints.flatMap((point, i) => (point === "" ? [] : [i]));
    body.keyPoints = kept.map((i) => keyPoints[i] as string);
    const pointsHtml = { web: kept.map((i) => points.web[i] ?? ""), feed: kept.map((i) => points.feed[i] ?? ""), email: kept.map((i) => points.email[i] ?? "") };
    // Points that are plain text are shown as their text (see toArticle): only points with markup keep their HTML in the render cache.
    if (pointNodes.some((nodes) => nodes?.some((node) => node.type !== "text"))) body.keyPointsHtml = pointsHtml;
  }
  return body;
}

/**
 * The body as a feed reader or a mail client shows it, which the site's
 * styles never reach: highlighting spans unwrapped, as no reader has styles
 * for their classes (and newsboat runs a code block's lines together where
 * a line starts with one); a task's checkbox, which readers' sanitisers
 * drop, as ☑ or ☐.
 */
function plainForReaders(parent: Root | Element): void {
  parent.children = parent.children.flatMap((child): Array<typeof child> => {
    if (child.type !== "element") return [child];
    plainForReaders(child);
    const classes = child.properties["className"];
    if (child.tagName === "span" && Array.isArray(classes) && classes.some((c) => String(c).startsWith("hljs"))) return child.children;
    if (child.tagName === "input" && child.properties["type"] === "checkbox") return [{ type: "text", value: child.properties["checked"] ? "☑" : "☐" }];
    return [child];
  }) as typeof parent.children;
}

type ImageMode = "web" | "feed" | "email";
type Size = readonly [width: unknown, height: unknown];

/**
 * Sets the attributes of an image for one serialisation: lazy loading on the
 * web; in email, where clients ignore most CSS, an explicit width no wider
 * than the column and a max-width so it never overflows a phone screen.
 */
function setImageMode(img: Element, [width, height]: Size, mode: ImageMode): void {
  const p = img.properties;
  for (const name of ["loading", "decoding", "style", "width", "height"]) delete p[name];
  if (width !== undefined) p["width"] = width as number;
  if (height !== undefined) p["height"] = height as number;
  if (typeof p["alt"] !== "string") p["alt"] = "";
  if (mode === "web") {
    p["loading"] = "lazy";
    p["decoding"] = "async";
  } else if (mode === "email") {
    const w = Number(width);
    p["width"] = w > 0 && w <= EMAIL_COLUMN ? w : EMAIL_COLUMN;
    delete p["height"];
    p["style"] = `width:100%;max-width:${p["width"]}px;height:auto;display:block;border:0`;
  }
}
