import type { Article } from "../content/article.js";
import { fileFor } from "../content/paths.js";
import type { ArchivedIssue } from "../issues/archive.js";
import { escapeXml } from "../xml/escape.js";

/** An address readers may still hold that no page has now, and the article to send them on to. */
export interface Redirect {
  /** Site path of the old address, e.g. "articles/old-name/". */
  from: string;
  to: Article;
}

/** An address sent issues gave an article whose page is gone, with no article to send readers on to. */
export interface GoneLink {
  path: string;
  title: string;
  /** The numbers of the issues that link to it. */
  issues: number[];
}

/**
 * The site's redirects: each published article's old addresses
 * (`aliases`), and each address a sent issue gave an article whose page
 * has moved since (the article of the same id has another address now, as
 * after a rename that kept `id`). With them, the addresses sent issues gave
 * that lead nowhere now: a link in a reader's inbox that finds no page.
 */
export function planRedirects(articles: readonly Article[], past: readonly ArchivedIssue[]): { redirects: Redirect[]; gone: GoneLink[] } {
  const pages = new Set(articles.map((a) => a.path));
  const byId = new Map(articles.map((a) => [a.id, a]));
  const targets = new Map<string, Article>();
  for (const article of articles) for (const alias of article.aliases ?? []) targets.set(alias, article);
  const gone = new Map<string, GoneLink>();
  for (const issue of past) {
    for (const sent of issue.articles) {
      if (pages.has(sent.path) || targets.has(sent.path)) continue;
      const moved = byId.get(sent.id);
      if (moved) targets.set(sent.path, moved);
      else {
        const link = gone.get(sent.path) ?? { path: sent.path, title: sent.title, issues: [] };
        link.issues.push(issue.number);
        gone.set(sent.path, link);
      }
    }
  }
  return { redirects: [...targets].map(([from, to]) => ({ from, to })), gone: [...gone.values()] };
}

/**
 * A site path (URL-encoded) of a file the article publishes beside its
 * page, moved to the redirect's old address: where sent emails and feed
 * readers still show it from. Undefined when the old address is a file
 * (`launch.html`), which had no folder of files.
 */
export function oldSitePath(redirect: Redirect, sitePath: string): string | undefined {
  if (!redirect.from.endsWith("/") || !sitePath.startsWith(redirect.to.path)) return undefined;
  return redirect.from.split("/").map(encodeURIComponent).join("/") + sitePath.slice(redirect.to.path.length);
}

/** The file of a redirect's page in the output. */
export function redirectFile(redirect: Redirect): string {
  return fileFor(redirect.from);
}

/**
 * The page at an old address: browsers go on to the article's page at
 * once (a static host has no other way to redirect), search engines take
 * that page as the one to list, and a reader whose browser does not follow
 * sees where the article is now. Browsers go by the path from the site's
 * root (`base`), as every page's links do, so a preview or a staging host
 * keeps its readers.
 */
export function redirectPage(redirect: Redirect, language: string, base: string): string {
  const url = escapeXml(redirect.to.url);
  const path = escapeXml(base + redirect.to.path);
  return `<!DOCTYPE html>
<html lang="${escapeXml(language)}">
<head>
<meta charset="utf-8">
<title>${escapeXml(redirect.to.title)}</title>
<link rel="canonical" href="${url}">
<meta name="robots" content="noindex">
<meta http-equiv="refresh" content="0; url=${path}">
</head>
<body>
<p>This article has moved to <a href="${path}">${url}</a>.</p>
</body>
</html>
`;
}
