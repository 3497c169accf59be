import type { Config } from "../config/schema.js";
import { digest } from "../cache/key.js";
import { absoluteUrl } from "../content/paths.js";
import { escapeText } from "../xml/escape.js";
import type { Article } from "../content/article.js";
import type { FrozenArticle, FrozenIssue, FrozenPage } from "../state/store.js";
import { issuePath, preheaderOf } from "./plan.js";
import type { CompiledIssue } from "./render.js";

/** An article as an issue's page shows it. */
export interface ArchivedArticle {
  id: string;
  title: string;
  subtitle: string;
  /** Absolute URL of the article's page. */
  url: string;
  /** Site path of the article's page, e.g. "articles/x/". */
  path: string;
  tag: string;
  authors: string[];
  published: Date;
  readingMinutes: number;
  keyPoints: string[];
  /** The points as inline HTML for the site. */
  keyPointsHtml: string[];
  summary: string;
  image?: { url: string; alt: string; caption: string };
  /** The body as web HTML, read only when a page that shows it is rendered. */
  body: () => string;
  /** A digest of the body, which stands for it where only its identity matters (page keys). */
  bodyDigest: string;
}

/** What an issue's page on the site shows. */
export interface ArchivedIssue {
  number: number;
  subject: string;
  date: Date;
  /** Absolute URL of the issue's page. */
  url: string;
  /** The page's description: the issue's preheader. */
  description: string;
  /** Whether the issue carried its articles in full, which the page then shows too. */
  full: boolean;
  /** The editor's note as web HTML, or "". */
  noteHtml: string;
  articles: ArchivedArticle[];
  /**
   * Where the page's content comes from: `frozen` when the send stored it,
   * `today` for an issue frozen without it (carried over from an earlier
   * version), whose articles and note are read as they are now.
   */
  source: "frozen" | "today";
  /**
   * Whether its send has started. The next issue's page, built before,
   * shows no date: its send's clock is not known to the build, and a build
   * holds nothing of its own clock.
   */
  sent: boolean;
}

/** What an issue's page shows, by the issue's number; undefined for a number never sent. */
export type IssueArchive = (number: number) => ArchivedIssue | undefined;

/**
 * The pages of the issues a send started, from what each send froze: the
 * subject, date, preheader, articles and note stored in the state when the
 * send began, never today's articles or templates, so an edit made later
 * never rewrites a past issue. An issue frozen without its page (carried
 * over from an earlier version) falls back to its articles as they are now
 * (one deleted since is left out) and its note's file as it reads now.
 */
export function issueArchive(issues: readonly FrozenIssue[], articles: readonly Article[], config: Config, notes: ReadonlyMap<number, string>): IssueArchive {
  const byNumber = new Map(issues.map((i) => [i.number, i]));
  let byId: Map<string, Article> | undefined;
  const full = config.newsletter?.content === "full";
  return (number) => {
    const issue = byNumber.get(number);
    if (!issue) return undefined;
    const page = readablePage(issue);
    if (page) return archivedFromPage(issue, issue.content?.preheader ?? "", page, config);
    byId ??= new Map(articles.map((a) => [a.id, a]));
    const index = byId;
    const chosen = issue.articles.map((id) => index.get(id)).filter((a): a is Article => a !== undefined);
    const date = new Date(issue.date);
    return {
      number,
      subject: issue.subject,
      date,
      url: absoluteUrl(issuePath(number), config.site.url),
      description: issue.content?.preheader ?? preheaderOf({ number, date, articles: chosen, more: 0 }),
      full,
      noteHtml: notes.get(number) ?? "",
      articles: chosen.map((a) => ({ ...archivedFromFrozen(frozenArticle(a, config, false), config), body: () => a.body.html.web, bodyDigest: a.body.digest })),
      source: "today",
      sent: true,
    };
  };
}

/** The numbers of the issues whose pages fall back to today's articles: frozen without a page this version reads. */
export function unfrozenIssues(issues: readonly FrozenIssue[]): number[] {
  return issues.filter((i) => !readablePage(i)).map((i) => i.number);
}

/**
 * The page data to freeze with an issue when its send starts: each article
 * it holds as the email showed it (title, dek, tag, authors, Quick Reads,
 * summary, picture and, for an issue in full, its body as web HTML), and
 * the editor's note as web HTML.
 */
export function freezePage(compiled: CompiledIssue, config: Config, full: boolean): FrozenPage {
  return { version: 1, full, noteHtml: compiled.plan.note?.web ?? "", articles: compiled.plan.articles.map((a) => frozenArticle(a, config, full)) };
}

/**
 * The page of an issue about to be sent, from its compiled form: what the
 * page will show once the send has frozen the issue, but for the date of
 * the send, so its "view in browser" link works from the first message.
 */
export function upcomingIssue(compiled: CompiledIssue, config: Config): ArchivedIssue {
  const full = config.newsletter?.content === "full";
  const frozen: FrozenIssue = { number: compiled.plan.number, date: compiled.plan.date.toISOString(), subject: compiled.subject, articles: compiled.plan.articles.map((a) => a.id) };
  return { ...archivedFromPage(frozen, compiled.preheader, freezePage(compiled, config, full), config), sent: false };
}

function readablePage(issue: FrozenIssue): FrozenPage | undefined {
  return issue.page?.version === 1 ? issue.page : undefined;
}

function archivedFromPage(issue: FrozenIssue, preheader: string, page: FrozenPage, config: Config): ArchivedIssue {
  return {
    number: issue.number,
    subject: issue.subject,
    date: new Date(issue.date),
    url: absoluteUrl(issuePath(issue.number), config.site.url),
    description: preheader,
    full: page.full,
    noteHtml: page.noteHtml,
    articles: page.articles.map((a) => archivedFromFrozen(a, config)),
    source: "frozen",
    sent: true,
  };
}

function frozenArticle(article: Article, config: Config, full: boolean): FrozenArticle {
  const imagePath = article.image && article.imageUrl ? sitePathOf(article.imageUrl, config.site.url) : undefined;
  return {
    id: article.id,
    title: article.title,
    subtitle: article.subtitle ?? "",
    path: article.path,
    tag: article.tags[0]?.name ?? "",
    authors: article.authors.map((a) => a.name),
    published: article.published.toISOString(),
    readingMinutes: article.body.readingMinutes,
    keyPoints: article.points,
    keyPointsHtml: article.pointsHtml.web,
    summary: article.description,
    ...(article.image && imagePath !== undefined ? { image: { path: imagePath, alt: article.image.alt, caption: article.image.caption ?? "" } } : {}),
    ...(full ? { body: article.body.html.web } : {}),
  };
}

function archivedFromFrozen(article: FrozenArticle, config: Config): ArchivedArticle {
  const body = article.body ?? "";
  return {
    id: article.id,
    title: article.title,
    subtitle: article.subtitle,
    url: absoluteUrl(article.path, config.site.url),
    path: article.path,
    tag: article.tag,
    authors: article.authors,
    published: new Date(article.published),
    readingMinutes: article.readingMinutes,
    keyPoints: article.keyPoints,
    keyPointsHtml: article.keyPointsHtml ?? article.keyPoints.map(escapeText),
    summary: article.summary,
    ...(article.image ? { image: { url: absoluteUrl(article.image.path, config.site.url), alt: article.image.alt, caption: article.image.caption } } : {}),
    body: () => body,
    bodyDigest: digest(body),
  };
}

/** A URL of the site as its path from the site's root ("articles/x/photo.png"); another URL as it is. */
function sitePathOf(url: string, siteUrl: string): string {
  return url.startsWith(siteUrl) ? url.slice(siteUrl.length) : url;
}
