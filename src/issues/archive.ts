import type { Config } from "../config/schema.js";
import { absoluteUrl } from "../content/paths.js";
import type { Article } from "../markdown/article.js";
import { issuePath, preheaderOf } from "./plan.js";
import type { SentRecord } from "./record.js";

/** An article as a sent issue's page shows it. */
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
  summary: string;
  image?: { url: string; alt: string; caption: string };
  /** The body as web HTML, read only when a page that shows it is rendered. */
  body: () => string;
  /** A digest of the body, which stands for it where only its identity matters (page keys). */
  bodyDigest: string;
}

/** What a sent issue's page on the site shows. */
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
}

/** What an issue's page shows, by the issue's number; undefined for a number never sent. */
export type IssueArchive = (number: number) => ArchivedIssue | undefined;

/**
 * The sent issues' pages as the record of sent issues describes them: the
 * subject and date recorded at send time, the articles it names as they are
 * now (an article deleted since is left out), the editor's note as its file
 * reads now. Pages get their data through this one function, so a stored
 * snapshot of each issue as sent can take its place.
 */
export function archiveFromRecord(record: SentRecord, articles: readonly Article[], config: Config, notes: ReadonlyMap<number, string>): IssueArchive {
  const byId = new Map(articles.map((a) => [a.id, a]));
  const full = config.newsletter?.content === "full";
  return (number) => {
    const sent = record.issues.find((i) => i.number === number);
    if (!sent) return undefined;
    const chosen = sent.articles.map((id) => byId.get(id)).filter((a): a is Article => a !== undefined);
    const date = new Date(sent.date);
    return {
      number,
      subject: sent.subject,
      date,
      url: absoluteUrl(issuePath(number), config.site.url),
      description: preheaderOf({ number, date, articles: chosen, more: 0 }),
      full,
      noteHtml: notes.get(number) ?? "",
      articles: chosen.map(archivedArticle),
    };
  };
}

function archivedArticle(article: Article): ArchivedArticle {
  return {
    id: article.id,
    title: article.title,
    subtitle: article.subtitle ?? "",
    url: article.url,
    path: article.path,
    tag: article.tags[0]?.name ?? "",
    authors: article.authors.map((a) => a.name),
    published: article.published,
    readingMinutes: article.body.readingMinutes,
    keyPoints: article.points,
    summary: article.description,
    ...(article.image && article.imageUrl ? { image: { url: article.imageUrl, alt: article.image.alt, caption: article.image.caption ?? "" } } : {}),
    body: () => article.body.html.web,
    bodyDigest: article.body.digest,
  };
}
