import type { Config } from "../config/schema.js";
import { groupByTag } from "../content/collection.js";
import { dateFormat } from "../content/dates.js";
import { absoluteUrl, fileFor, paths } from "../content/paths.js";
import type { Article } from "../markdown/article.js";
import { ScopeDigests } from "./page-keys.js";
import { articleCard, articleScope, displayDate, siteScope, type ArticleCard } from "./scope.js";
import { renderTemplate, templateEngine, type TemplateSources } from "../templates/liquid.js";

/** Folder of the site templates, relative to the project root. */
export const SITE_TEMPLATES = "templates/site";

/** One page to render: its output file, its template and everything the template sees. */
export interface PageSpec {
  file: string;
  template: string;
  scope: Record<string, unknown>;
  /** A digest of the scope: the same for the same data, whatever the build. */
  key: string;
}

/** Renders page specs with the site templates; keys are output file paths under `dist/`. */
export function renderPages(specs: readonly PageSpec[], sources: TemplateSources): Map<string, string> {
  const render = pageRenderer(sources);
  return new Map(specs.map((spec) => [spec.file, render(spec)]));
}

/** Renders one page spec at a time with the site templates, each template parsed once: for pages rendered in batches. */
export function pageRenderer(sources: TemplateSources): (spec: PageSpec) => string {
  const engine = templateEngine(sources);
  return (spec) => renderTemplate(engine, SITE_TEMPLATES, spec.template, spec.scope, sources);
}

/**
 * Lists every HTML page of the site with the data its template sees: home
 * and its pages, articles, topics, each topic's pages, the archive and 404.
 * Pure: the same articles give the same specs and keys, so a page whose key
 * did not change need not be rendered again. Bodies enter the keys by their
 * digests: planning reads no article HTML. With `only`, just the article
 * pages of those ids, for a rebuild that knows every other page unchanged.
 */
export function planPages(config: Config, articles: readonly Article[], issues?: ReadonlyArray<{ number: number; subject: string; date: Date }>, only?: ReadonlySet<string>): PageSpec[] {
  const digests = new ScopeDigests();
  const site = digests.register(siteScope(config));
  const out: PageSpec[] = [];
  const cards = new Map<string, ArticleCard>();
  const cardOf = (a: Article) => {
    let card = cards.get(a.id);
    if (!card) {
      card = digests.register(articleCard(a, config));
      cards.set(a.id, card);
    }
    return card;
  };
  const listed = (list: readonly Article[]) => list.map(cardOf);
  const pageFile = (file: string, template: string, scope: Record<string, unknown>) => {
    const full = { site, ...scope };
    out.push({ file, template, scope: full, key: digests.of(full) });
  };
  const page = (path: string, template: string, scope: Record<string, unknown>) => pageFile(fileFor(path), template, scope);
  const meta = (title: string, path: string, description = config.site.description) => {
    const url = absoluteUrl(path, config.site.url);
    return {
      title,
      description,
      url,
      canonical: url,
      image: null as null | { url: string; alt: string },
      type: "website",
      feeds: null as null | { rss: string; atom: string; json: string; title: string },
    };
  };

  articles.forEach((article, index) => {
    if (only && !only.has(article.id)) return;
    const card = cardOf(article);
    const scope = digests.register(articleScope(card, article), `${digests.digestOf(card)}${article.body.digest}`);
    const older = articles[index + 1];
    const newer = articles[index - 1];
    const pageMeta = { ...meta(article.title, article.path, article.description), type: "article", canonical: article.canonical ?? article.url };
    if (scope.image) pageMeta.image = { url: scope.image.url, alt: scope.image.alt };
    page(article.path, "article", {
      page: pageMeta,
      article: scope,
      newer: newer ? { title: newer.title, path: site.base + newer.path } : null,
      older: older ? { title: older.title, path: site.base + older.path } : null,
    });
  });
  if (only) return out;

  paginate(articles, config.pagination.perPage, (chunk, pager) => {
    const path = paths.page(pager.current);
    page(path, "home", { page: meta(pager.current > 1 ? `${config.site.title}, page ${pager.current}` : config.site.title, path), articles: listed(chunk), pager: pagerScope(pager, site.base, paths.page) });
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
  if (issues) {
    page("issues/", "issues", {
      page: meta(`Newsletter · ${config.site.title}`, "issues/"),
      newsletter: { name: config.newsletter?.name ?? config.site.title, rss: `${site.base}issues/feed.xml`, atom: `${site.base}issues/atom.xml` },
      issues: [...issues]
        .sort((a, b) => b.number - a.number)
        .map((i) => ({ number: i.number, subject: i.subject, date: i.date.toISOString(), date_display: displayDate(i.date, config), url: `${site.base}issues/${i.number}/` })),
    });
  }
  pageFile("404.html", "404", { page: meta(`Not found · ${config.site.title}`, "404.html") });
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
