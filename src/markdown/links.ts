import { posix } from "node:path";
import type { Element, Root } from "hast";
import type { VFile } from "vfile";
import { eachElement } from "./walk.js";
import { fileError } from "../errors/rules.js";
import { closest } from "../validate/suggest.js";

/** Prefix the sanitiser puts on ids that come from the article, so they cannot clobber page globals. */
export const ID_PREFIX = "user-content-";

/** Where a document-relative URL in an article leads, or why it leads nowhere. */
export type Resolution =
  | { kind: "article"; sitePath: string }
  | { kind: "asset"; sitePath: string; source: string }
  | { kind: "error"; reason: string };

/** Resolves a URL written in `from` (a source path) that is relative to that file. */
export type Resolver = (from: string, url: string) => Resolution;

/** Elements and the attributes on them that hold URLs. */
const URL_ATTRIBUTES: Record<string, readonly string[]> = {
  a: ["href"],
  img: ["src", "srcSet"],
  source: ["src", "srcSet"],
  blockquote: ["cite"],
  q: ["cite"],
  del: ["cite"],
  ins: ["cite"],
};

/** One URL-valued attribute in the tree and its value with local URLs as site-root paths. */
export interface UrlSlot {
  node: Element;
  name: string;
  value: string;
}

/** What `resolveLocalUrls` found: assets to copy and each local URL with its resolution. */
export interface LocalLinks {
  assets: Array<[source: string, sitePath: string]>;
  resolved: Array<[url: string, resolution: Resolution]>;
  /** The links to a part of an article by its file (`other.md#part`), and to a part of this one its body lacks (`#part`), with their places: checked once every body is rendered (see checkArticleFragments). */
  fragments?: Array<[url: string, line: number, column: number]>;
  /** The links and pictures that name a place on the site by its address (`/tags/x/`, the site's own URL), with their places and whether each is a picture: checked against the pages the build makes (see checkSiteLinks). */
  siteLinks?: Array<[url: string, line: number, column: number, picture: boolean]>;
}

/**
 * Resolves every document-relative URL in the tree to a site-root path
 * (`/articles/x/photo.png`), reporting links to nothing with their place.
 * A link to a part of the same document is pointed at the sanitiser's
 * prefixed id when that is the one it has, and kept among the fragments
 * to check when it has neither. Returns the URL slots, so each
 * serialisation can point them at its own base.
 */
export function resolveLocalUrls(tree: Root, file: VFile, from: string, resolve: Resolver, idPrefix: string, siteUrl: string): LocalLinks & { slots: UrlSlot[] } {
  const found: LocalLinks = { assets: [], resolved: [] };
  const ids = elementIds(tree);
  const fragments: NonNullable<LocalLinks["fragments"]> = [];
  const siteLinks: NonNullable<LocalLinks["siteLinks"]> = [];
  const slots = mapUrls(tree, (url, node) => {
    const start = node.position?.start;
    if (start && !url.startsWith("//") && ((url.startsWith("/") && !isRootSourceLink(url)) || url.startsWith(siteUrl))) siteLinks.push([url, start.line, start.column, node.tagName !== "a"]);
    if (url.startsWith("#")) {
      const target = fragmentId(url);
      if (ids.has(idPrefix + target) && !ids.has(target)) return `#${idPrefix}${target}`;
      // A part the body lacks may be the page's own (its template's), which only the build knows.
      if (start && !leadsToPart(target, ids, idPrefix)) fragments.push([url, start.line, start.column]);
      return url;
    }
    if (url.startsWith("//")) return `https:${url}`;
    if (!isDocumentRelative(url) && !isRootSourceLink(url)) return url;
    const resolution = resolve(from, url);
    found.resolved.push([url, resolution]);
    if (resolution.kind === "error") {
      fileError(file, "broken-link", resolution.reason, { place: node.position });
      return url;
    }
    if (resolution.kind === "asset") {
      found.assets.push([resolution.source, resolution.sitePath]);
      // A link keeps what follows the file's name: a PDF's page (`report.pdf#page=2`), a query.
      const rest = url.search(/[?#]/);
      return `/${resolution.sitePath}${node.tagName === "a" && rest >= 0 ? url.slice(rest) : ""}`;
    }
    if (resolution.kind === "article" && resolution.sitePath.includes("#") && start) fragments.push([url, start.line, start.column]);
    return `/${resolution.sitePath}`;
  });
  return { ...found, ...(fragments.length > 0 ? { fragments } : {}), ...(siteLinks.length > 0 ? { siteLinks } : {}), slots };
}

/** The id a fragment (`#part`, or a URL ending in one) names, percent-decoded as a browser does. */
export function fragmentId(url: string): string {
  const raw = url.slice(url.indexOf("#") + 1);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * Whether a fragment's id leads to a part of a document with the given ids:
 * an id there (or that id with `idPrefix`, to which a link within the
 * document is pointed), or the top of the page, which HTML gives `#` and
 * `#top` without any id.
 */
function leadsToPart(target: string, ids: ReadonlySet<string>, idPrefix?: string): boolean {
  return target === "" || target.toLowerCase() === "top" || ids.has(target) || (idPrefix !== undefined && ids.has(idPrefix + target));
}

/**
 * Why a link to a part of a document (`#part`, `other.md#part`) leads to
 * none of its parts (headings, footnotes, anchors), with the id it most
 * likely means; undefined when it leads somewhere (see leadsToPart).
 * `where` names the document: "on this page", "in other.md". From another
 * page, a footnote's or an anchor's id is the one its page gives it, with
 * `pagePrefix`: that is the id meant.
 */
export function missingPart(url: string, ids: ReadonlySet<string>, where: string, idPrefix?: string, pagePrefix?: string): string | undefined {
  const target = fragmentId(url);
  if (leadsToPart(target, ids, idPrefix)) return undefined;
  const written = [...ids].map((id) => (idPrefix && id.startsWith(idPrefix) ? id.slice(idPrefix.length) : id));
  const hint = pagePrefix !== undefined && ids.has(pagePrefix + target) ? pagePrefix + target : closest(target, written);
  // A character no one can see or type (the variation selector an emoji leaves in a heading's id) is shown as a link writes it.
  const shown = hint?.replace(/[\u200b-\u200f\u2060\ufe00-\ufe0f]/g, (c) => encodeURIComponent(c));
  return `no heading ${where} has the id "${target}", so the link opens at the top of the page${shown ? `: did you mean #${shown}?` : ""}`;
}

/** The ids of a tree's elements, and the names of its `<a name>` anchors, which a fragment finds too. */
export function elementIds(tree: Root): Set<string> {
  const ids = new Set<string>();
  eachElement(tree, (node) => {
    const id = node.properties["id"];
    if (typeof id === "string") ids.add(id);
    const name = node.properties["name"];
    if (node.tagName === "a" && typeof name === "string") ids.add(name);
  });
  return ids;
}

/** A local URL as its author wrote it, where the Markdown parser percent-encoded it: for messages. */
export function shownUrl(url: string): string {
  try {
    return decodeURI(url);
  } catch {
    return url;
  }
}

/**
 * Points every site-root path (`/x`) in the slots at `base` and, when `page`
 * is given, every link to a part of the page or with a query alone at that page: the feed and email
 * serialisations use the site's absolute URL so each link works outside the site.
 */
export function rebaseUrls(slots: readonly UrlSlot[], base: string, page?: string): void {
  const rebase = (url: string) => {
    if (url.startsWith("/")) return base + url.slice(1);
    // A fragment or a query alone (`?page=2`) is the page's own: outside the site, the page's URL with it.
    if (page !== undefined && (url.startsWith("#") || url.startsWith("?"))) return page + url;
    return url;
  };
  for (const slot of slots) {
    slot.node.properties[slot.name] = slot.name === "srcSet" ? slot.value.split(", ").map((c) => mapCandidate(c, rebase).join("")).join(", ") : rebase(slot.value);
  }
}

/** Whether a URL is relative to the document it is in (not absolute, not site-root, not a fragment). */
export function isDocumentRelative(url: string): boolean {
  return url !== "" && !/^[a-z][a-z0-9+.-]*:/i.test(url) && !url.startsWith("/") && !url.startsWith("#") && !url.startsWith("?");
}

/**
 * Whether a URL is a link from the repository's root to an article's file
 * (`/articles/other.md`), as GitHub shows it working: resolved as the
 * article, where the site has no such path. Other `.md` paths from the root
 * (`/README.md`) may be pages of a larger site, and stay as written.
 */
export function isRootSourceLink(url: string): boolean {
  return /^\/articles\/[^?#]*\.md(?:[?#]|$)/i.test(url);
}

/** Resolves a document-relative URL against a source file's folder (a root source link against the project's root); returns the path and the fragment. */
export function splitLocalUrl(from: string, url: string): { path: string; fragment: string } {
  const cut = url.search(/[?#]/);
  const raw = cut >= 0 ? url.slice(0, cut) : url;
  const hash = url.indexOf("#");
  const fragment = hash >= 0 ? url.slice(hash) : "";
  let decoded = raw;
  try {
    decoded = decodeURI(raw);
  } catch {
    // keep the raw path: a stray % is a file name character
  }
  return { path: posix.normalize(decoded.startsWith("/") ? decoded.slice(1) : posix.join(posix.dirname(from), decoded)), fragment };
}

function mapUrls(tree: Root, map: (url: string, node: Element) => string): UrlSlot[] {
  const slots: UrlSlot[] = [];
  eachElement(tree, (node) => {
    const names = URL_ATTRIBUTES[node.tagName];
    if (!names) return;
    for (const name of names) {
      const value = node.properties[name];
      if (name === "srcSet" && (typeof value === "string" || Array.isArray(value))) {
        const candidates = (typeof value === "string" ? value.split(/,\s+/) : value.map(String)).flatMap((c) => mapCandidate(c, (url) => map(url, node)));
        if (candidates.length > 0) slots.push({ node, name, value: candidates.join(", ") });
        else delete node.properties[name];
      } else if (typeof value === "string") slots.push({ node, name, value: map(value, node) });
    }
  });
  return slots;
}

/** Maps the URL of one srcset candidate; the sanitiser does not check srcset, so only http(s) and local URLs stay. */
function mapCandidate(candidate: string, map: (url: string) => string): string[] {
  const [url = "", ...descriptor] = candidate.trim().split(/\s+/);
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^https?:/i.test(url)) return [];
  return [[map(url), ...descriptor].join(" ")];
}
