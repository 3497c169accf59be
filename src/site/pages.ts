import type { Config } from "../config/schema.js";
import { groupByTag } from "../content/collection.js";
import { dateFormat } from "../content/dates.js";
import { fileFor, paths } from "../content/paths.js";
import type { Article } from "../markdown/article.js";
import { articleScope, siteScope } from "./scope.js";
import { renderTemplate, templateEngine, type TemplateSources } from "./templates.js";

/** Folder of the site templates, relative to the project root. */
export const SITE_TEMPLATES = "templates/site";

/** Renders every HTML page of the site; keys are output file paths under `dist/`. */
export function renderPages(config: Config, articles: readonly Article[], sources: TemplateSources): Map<string, string> {
  const engine = templateEngine(sources);
  const site = siteScope(config);
  const out = new Map<string, string>();
  const scopes = new Map(articles.map((a) => [a.id, articleScope(a, config)]));
  const listed = (list: readonly Article[]) => list.map((a) => scopes.get(a.id));
  const page = (path: string, template: string, scope: Record<string, unknown>) =>
    out.set(fileFor(path), renderTemplate(engine, SITE_TEMPLATES, template, { site, ...scope }));
  const meta = (title: string, path: string, description = config.site.description) => ({
    title,
    description,
    url: new URL(path, config.site.url).href,
    canonical: new URL(path, config.site.url).href,
    image: null as null | { url: string; alt: string },
    type: "website",
    feeds: null as null | { rss: string; atom: string; json: string; title: string },
  });

  paginate(articles, config.pagination.perPage, (chunk, pager) => {
    const path = paths.page(pager.current);
    page(path, "home", { page: meta(pager.current > 1 ? `${config.site.title}, page ${pager.current}` : config.site.title, path), articles: listed(chunk), pager: pagerScope(pager, site.base, paths.page) });
  });

  articles.forEach((article, index) => {
    const scope = scopes.get(article.id);
    const older = articles[index + 1];
    const newer = articles[index - 1];
    const pageMeta = { ...meta(article.title, article.path, article.description), type: "article", canonical: article.canonical ?? article.url };
    if (scope?.image) pageMeta.image = { url: scope.image.url, alt: scope.image.alt };
    page(article.path, "article", {
      page: pageMeta,
      article: scope,
      newer: newer ? scopes.get(newer.id) : null,
      older: older ? scopes.get(older.id) : null,
    });
  });

  const tags = groupByTag(articles);
  page(paths.tags, "tags", {
    page: meta(`Tags · ${config.site.title}`, paths.tags),
    tags: tags.map(({ tag, list }) => ({ name: tag.name, url: site.base + paths.tag(tag.slug), count: list.length })),
  });
  for (const { tag, list } of tags) {
    const feeds = paths.feeds(paths.tag(tag.slug));
    paginate(list, config.pagination.perPage, (chunk, pager) => {
      const path = paths.tagPage(tag.slug, pager.current);
      const tagMeta = meta(`${tag.name} · ${config.site.title}`, path, `Articles tagged ${tag.name} in ${config.site.title}`);
      tagMeta.feeds = { rss: site.base + feeds.rss, atom: site.base + feeds.atom, json: site.base + feeds.json, title: `${config.site.title}: ${tag.name}` };
      page(path, "tag", { page: tagMeta, tag: { name: tag.name, count: list.length }, articles: listed(chunk), pager: pagerScope(pager, site.base, (n) => paths.tagPage(tag.slug, n)) });
    });
  }

  page(paths.archive, "archive", { page: meta(`Archive · ${config.site.title}`, paths.archive), months: byMonth(articles, config).map((m) => ({ label: m.label, articles: listed(m.list) })) });
  out.set("404.html", renderTemplate(engine, SITE_TEMPLATES, "404", { site, page: meta(`Not found · ${config.site.title}`, "404.html") }));
  return out;
}

interface Pager {
  current: number;
  total: number;
}

function paginate<T>(list: readonly T[], perPage: number, each: (chunk: readonly T[], pager: Pager) => void): void {
  const total = Math.max(1, Math.ceil(list.length / perPage));
  for (let n = 1; n <= total; n++) each(list.slice((n - 1) * perPage, n * perPage), { current: n, total });
}

function pagerScope(pager: Pager, base: string, pathOf: (n: number) => string) {
  return {
    current: pager.current,
    total: pager.total,
    newer: pager.current > 1 ? base + pathOf(pager.current - 1) : "",
    older: pager.current < pager.total ? base + pathOf(pager.current + 1) : "",
  };
}

function byMonth(articles: readonly Article[], config: Config): Array<{ label: string; list: Article[] }> {
  const format = dateFormat(config.site.language, { month: "long", year: "numeric", timeZone: config.site.timezone });
  const months: Array<{ label: string; list: Article[] }> = [];
  for (const article of articles) {
    const label = format.format(article.published);
    const last = months.at(-1);
    if (last?.label === label) last.list.push(article);
    else months.push({ label, list: [article] });
  }
  return months;
}
