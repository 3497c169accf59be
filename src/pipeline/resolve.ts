import { posix } from "node:path";
import type { ArticleMeta } from "../content/article.js";
import { isPublished } from "../content/collection.js";
import { paths } from "../content/paths.js";
import { splitLocalUrl, type Resolution, type Resolver } from "../markdown/links.js";

/** Where an asset under an article's folder is published: next to the article's page. */
export function assetSitePath(article: ArticleMeta, assetPath: string): string | undefined {
  const relative = posix.relative(posix.dirname(article.source.path), assetPath);
  if (relative.startsWith("../")) return undefined;
  return paths.article(article.slug) + relative.split("/").map(encodeURIComponent).join("/");
}

/**
 * Resolves links between articles and to assets: `other.md`, `other/`,
 * `../other/index.md#part`, `photo.jpg`. A link to a draft, to an article
 * that is not yet published at `now`, or to a missing file is an error.
 */
export function makeResolver(articles: readonly ArticleMeta[], assets: ReadonlyMap<string, number>, now: Date): Resolver {
  const bySource = new Map(articles.map((a) => [a.source.path, a]));
  return (from: string, url: string): Resolution => {
    const { path, fragment } = splitLocalUrl(from, url);
    const target = bySource.get(path) ?? bySource.get(`${path.replace(/\/$/, "")}/index.md`);
    if (target) {
      if (target.draft) return { kind: "error", reason: `links to ${path}, which is a draft and will not be published` };
      if (!isPublished(target, now)) return { kind: "error", reason: `links to ${path}, which is not published until ${target.published.toISOString()}` };
      return { kind: "article", sitePath: paths.article(target.slug) + fragment };
    }
    if (path.endsWith(".md")) return { kind: "error", reason: `links to ${url}, but there is no article ${path}` };
    const owner = bySource.get(from);
    if (!assets.has(path) || !owner) return { kind: "error", reason: `links to ${url}, but there is no file ${path}` };
    const sitePath = assetSitePath(owner, path);
    if (sitePath === undefined) return { kind: "error", reason: `links to ${path}, outside the article's folder: move the file next to the article` };
    return { kind: "asset", sitePath, source: path };
  };
}
