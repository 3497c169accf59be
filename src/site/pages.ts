import { createHash } from "node:crypto";
import type { Config } from "../config/schema.js";
import type { Article, Author, Tag } from "../content/article.js";
import { groupByAuthor, groupByTag } from "../content/collection.js";
import { dateFormat, dateLocale } from "../content/dates.js";
import { absoluteUrl, fileFor, paths } from "../content/paths.js";
import { issuesFeedTitle } from "../feeds/spec.js";
import type { ArchivedIssue } from "../issues/archive.js";
import { issuePath } from "../issues/plan.js";
import { ScopeDigests } from "./page-keys.js";
import { articleCard, articleScope, displayDate, siteScope, type ArticleCard } from "./scope.js";
import { renderTemplate, templateEngine, type DateSetting, type TemplateSources } from "../templates/liquid.js";

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
export function renderPages(specs: readonly PageSpec[], sources: TemplateSources, site: DateSetting): Map<string, string> {
  const render = pageRenderer(sources, site);
  return new Map(specs.map((spec) => [spec.file, render(spec)]));
}

/** Renders one page spec at a time with the site templates (see templateEngine for `site`), each template parsed once: for pages rendered in batches. */
export function pageRenderer(sources: TemplateSources, site: DateSetting): (spec: PageSpec) => string {
  const engine = templateEngine(sources, site);
  return (spec) => renderTemplate(engine, SITE_TEMPLATES, spec.template, spec.scope, sources);
}

/**
 * Lists every HTML page of the site with the data its template sees: home
 * and its pages, articles, topics, each topic's pages, the archive and 404,
 * and the newsletter's: each issue a send started, their index, the
 * subscribe page. Pure: the same articles give the same specs and keys, so
 * a page whose key did not change need not be rendered again. Bodies enter
 * the keys by their digests: planning reads no article HTML. With `only`,
 * just the article pages of those ids (and the issue pages that show their
 * bodies), for a rebuild that knows every other page unchanged. The
 * `upcoming` issue's page is always planned, and is linked from no other
 * page: its send has not started.
 */
export function planPages(config: Config, articles: readonly Article[], issues?: readonly ArchivedIssue[], only?: ReadonlySet<string>, upcoming?: ArchivedIssue): PageSpec[] {
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
  /** The feeds a page advertises as its own, before the site's: those at `prefix`, named `title`. */
  const feedsAt = (prefix: string, title: string) => {
    const files = paths.feeds(prefix);
    return { rss: site.base + files.rss, atom: site.base + files.atom, json: site.base + files.json, title };
  };
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
      /** Which subscribe form the footer holds (its name goes with the sign-up); "" for none: the subscribe page has its own. */
      footer_form: "footer",
    };
  };
  const issuePage = (issue: ArchivedIssue, older: ArchivedIssue | undefined, newer: ArchivedIssue | undefined) => {
    const path = issuePath(issue.number);
    // The footer's form takes the place of the email's unsubscribe link, named for the issue page.
    const pageMeta = { ...meta(issue.subject, path, issue.description), type: "article", footer_form: "issue" };
    const pictured = issue.articles.find((a) => a.image)?.image;
    if (pictured) pageMeta.image = { url: pictured.url, alt: pictured.alt };
    const shown = issueScope(issue, config, site.base);
    // The bodies it shows are not in its JSON (their HTML is read when the page is rendered): their digests stand for them.
    const key = createHash("sha1").update(JSON.stringify([shown, issue.full ? issue.articles.map((a) => a.bodyDigest) : []])).digest("base64");
    const scope = digests.register(withBodies(shown, issue), key);
    page(path, "issue", {
      page: pageMeta,
      issue: scope,
      newer: newer ? { title: newer.subject, path: site.base + issuePath(newer.number) } : null,
      older: older ? { title: older.subject, path: site.base + issuePath(older.number) } : null,
    });
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
  // A page that shows bodies in full changes with them: planned with the article pages of the bodies that changed.
  issues?.forEach((issue, index, list) => {
    if (!only || (issue.full && issue.articles.some((a) => only.has(a.id)))) issuePage(issue, list[index - 1], list[index + 1]);
  });
  if (upcoming) issuePage(upcoming, issues?.at(-1), undefined);
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
    paginate(list, config.pagination.perPage, (chunk, pager) => {
      const path = paths.tagPage(tag.slug, pager.current);
      const tagMeta = meta(`${tag.name} · ${config.site.title}`, path, `Articles tagged ${tag.name} in ${config.site.title}`);
      tagMeta.feeds = feedsAt(paths.tag(tag.slug), `${config.site.title}: ${tag.name}`);
      page(path, "tag", { page: tagMeta, tag: { name: tag.name, count: list.length, feeds: `${site.base}${paths.feedsPage}#tag-${tag.slug}` }, articles: listed(chunk), pager: pagerScope(pager, site.base, (n) => paths.tagPage(tag.slug, n)) });
    });
  }

  const authors = groupByAuthor(articles);
  for (const { author, list } of authors) {
    paginate(list, config.pagination.perPage, (chunk, pager) => {
      const path = paths.authorPage(author.key, pager.current);
      const authorMeta = meta(`${author.name} · ${config.site.title}`, path, `Articles by ${author.name} in ${config.site.title}`);
      authorMeta.feeds = feedsAt(paths.author(author.key), `${config.site.title}: ${author.name}`);
      page(path, "author", {
        page: authorMeta,
        author: { name: author.name, key: author.key, website: author.url ?? "", count: list.length, feeds: `${site.base}${paths.feedsPage}#author-${author.key}` },
        articles: listed(chunk),
        pager: pagerScope(pager, site.base, (n) => paths.authorPage(author.key, n)),
      });
    });
  }
  page(paths.feedsPage, "feeds", { page: meta(`Feeds · ${config.site.title}`, paths.feedsPage, `Follow ${config.site.title} in a feed reader`), sections: feedSections(config, tags, authors, issues !== undefined) });

  page(paths.archive, "archive", { page: meta(`Archive · ${config.site.title}`, paths.archive), months: byMonth(articles, config).map((m) => ({ label: m.label, articles: listed(m.list) })) });
  if (issues) {
    const issuesMeta = meta(`Newsletter · ${config.site.title}`, "issues/", `Every issue of ${site.newsletter.name}, as it was sent.`);
    issuesMeta.feeds = feedsAt("issues/", issuesFeedTitle(config));
    page("issues/", "issues", {
      page: issuesMeta,
      newsletter: { name: site.newsletter.name, rss: issuesMeta.feeds.rss, atom: issuesMeta.feeds.atom },
      issues: [...issues]
        .sort((a, b) => b.number - a.number)
        .map((i) => ({
          number: i.number,
          subject: i.subject,
          number_in_subject: numberInSubject(i),
          date: i.date.toISOString(),
          date_display: displayDate(i.date, config),
          url: site.base + issuePath(i.number),
          articles: i.articles.map((a) => ({ title: a.title, path: site.base + a.path })),
        })),
    });
  }
  if (site.newsletter.subscribe !== "") {
    page(paths.subscribe, "subscribe-page", {
      page: { ...meta(`Subscribe · ${site.newsletter.name}`, paths.subscribe, `Get ${site.newsletter.name} by email. ${config.site.description}`), footer_form: "" },
      issues: [...(issues ?? [])]
        .sort((a, b) => b.number - a.number)
        .slice(0, 3)
        .map((i) => ({ subject: i.subject, url: site.base + issuePath(i.number), date: i.date.toISOString(), date_display: displayDate(i.date, config) })),
    });
  }
  pageFile("404.html", "404", { page: meta(`Not found · ${config.site.title}`, "404.html") });
  return out;
}

/** Whether an issue's subject already says its number ("Signal & Noise #2: …"), so a list need not say it again. */
function numberInSubject(issue: ArchivedIssue): boolean {
  return new RegExp(`#${issue.number}(?!\\d)`).test(issue.subject);
}

/** How the issue template sees a sent issue: its articles as cards, without their bodies (see withBodies). */
function issueScope(issue: ArchivedIssue, config: Config, base: string) {
  return {
    number: issue.number,
    subject: issue.subject,
    number_in_subject: numberInSubject(issue),
    // Empty for the next issue, built before its send.
    date: issue.sent ? issue.date.toISOString() : "",
    date_display: issue.sent ? displayDate(issue.date, config) : "",
    full: issue.full,
    note_html: issue.noteHtml,
    articles: issue.articles.map((a, i) => ({
      title: a.title,
      subtitle: a.subtitle,
      path: base + a.path,
      tag: a.tag,
      authors: a.authors.join(", "),
      published: a.published.toISOString(),
      published_display: displayDate(a.published, config),
      reading_minutes: a.readingMinutes,
      key_points: a.keyPoints,
      key_points_html: a.keyPointsHtml,
      summary: a.summary,
      image: a.image && (i === 0 || issue.full) ? { path: new URL(a.image.url).pathname, alt: a.image.alt, caption: a.image.caption } : null,
    })),
  };
}

/**
 * An issue's scope with each card's body HTML as `html`, read from the
 * cache each time a template (or a copy of the scope for the page thread)
 * asks for it: empty but for an issue sent in full. Added once the scope's
 * digest is taken, which the bodies' digests stand in.
 */
function withBodies<T extends { articles: object[] }>(scope: T, issue: ArchivedIssue): T {
  scope.articles.forEach((card, i) => {
    const article = issue.articles[i];
    Object.defineProperty(card, "html", { get: () => (issue.full && article ? scopeIds(article.body(), `a${i + 1}-`) : ""), enumerable: true });
  });
  return scope;
}

/**
 * An article's body HTML with every id it sets (`id`, `name`), and every
 * reference to one (`href="#…"`, the ARIA references), given `prefix`: on
 * an issue's page several bodies share one document, where two footnotes 1
 * or two headings "Background" would have one id, and the second article's
 * links would jump into the first. Only tags are rewritten: a tag shown in
 * text is escaped there.
 */
function scopeIds(html: string, prefix: string): string {
  const TAG = /<[a-zA-Z][^>]*>/g;
  const own = new Set<string>();
  for (const [tag] of html.matchAll(TAG)) for (const [, id] of tag.matchAll(/\s(?:id|name)="([^"]*)"/g)) own.add(id as string);
  // Only what the body itself sets: a link to the page's own #main or #top stays as it is.
  const scoped = (id: string) => (own.has(id) ? prefix + id : id);
  return html.replace(TAG, (tag) =>
    tag
      .replace(/(\s(?:id|name|aria-describedby|aria-labelledby)=")([^"]*)"/g, (_, head: string, ids: string) => `${head}${ids.replace(/[^\s]+/g, scoped)}"`)
      .replace(/(\shref="#)([^"]*)"/g, (_, head: string, id: string) => `${head}${scoped(id)}"`),
  );
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
  const format = dateFormat(dateLocale(config.site.language, config.site.timezone), { month: "long", year: "numeric", timeZone: config.site.timezone });
  const months: Array<{ label: string; list: Article[] }> = [];
  for (const article of articles) {
    const label = format.format(article.published);
    const last = months.at(-1);
    if (last?.label === label) last.list.push(article);
    else months.push({ label, list: [article] });
  }
  return months;
}

/** One feed on the feeds page: what it follows, and the address of each of its formats. */
interface FeedEntry {
  id: string;
  name: string;
  description: string;
  links: Array<{ format: string; url: string }>;
}

/**
 * The feeds page's sections: everything, the newsletter, each topic and each
 * author, every feed with the full address to copy into a reader. No
 * counts: the page changes only when a topic or an author comes or goes.
 */
function feedSections(config: Config, tags: ReadonlyArray<{ tag: Tag }>, authors: ReadonlyArray<{ author: Author }>, newsletter: boolean) {
  const entry = (id: string, prefix: string, name: string, description: string): FeedEntry => {
    const files = paths.feeds(prefix);
    return {
      id,
      name,
      description,
      links: [
        { format: "RSS", url: absoluteUrl(files.rss, config.site.url) },
        { format: "Atom", url: absoluteUrl(files.atom, config.site.url) },
        { format: "JSON Feed", url: absoluteUrl(files.json, config.site.url) },
      ],
    };
  };
  const sections = [{ id: "everything", title: "Everything", feeds: [entry("site", "", config.site.title, `Every article, newest first (the latest ${config.feeds.limit}; readers that keep history can go back through the archive pages linked from the feed).`)] }];
  if (newsletter) sections.push({ id: "newsletter", title: "The newsletter", feeds: [entry("issues", "issues/", issuesFeedTitle(config), "Every issue of the newsletter as it was sent, for those who would rather read it in a feed reader.")] });
  if (tags.length > 0) sections.push({ id: "topics", title: "Topics", feeds: tags.map(({ tag }) => entry(`tag-${tag.slug}`, paths.tag(tag.slug), tag.name, `Articles tagged ${tag.name}.`)) });
  if (authors.length > 0) sections.push({ id: "authors", title: "Authors", feeds: authors.map(({ author }) => entry(`author-${author.key}`, paths.author(author.key), author.name, `Articles by ${author.name}.`)) });
  return sections;
}
