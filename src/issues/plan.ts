import type { Config, NewsletterConfig } from "../config/schema.js";
import { truncate } from "../markdown/excerpt.js";
import type { Article } from "../content/article.js";
import type { SentIssue, SentRecord } from "./record.js";

/** An issue to send or to show: its number, date, articles and the words around them. */
export interface IssuePlan {
  number: number;
  date: Date;
  /** Articles in the issue, newest first. */
  articles: Article[];
  /** New articles left out by the size cap; the email links to the site for them. */
  more: number;
  /** The editor's note for this number, as email HTML, as text and as web HTML (for the issue's page). */
  note?: { html: string; text: string; web: string };
}

/**
 * Chooses the next issue: in `digest` mode every published article not in an
 * earlier issue and newer than the last one, newest first, up to
 * `maxArticles`; in `each` mode the oldest article not in an earlier issue
 * and of the last one's article's date or later, alone (see sinceIssue).
 * Undefined when there is nothing new. The plan is dated by its newest
 * article.
 */
export function planNextIssue(articles: readonly Article[], record: SentRecord, newsletter: NewsletterConfig, now: Date): IssuePlan | undefined {
  const sent = new Set(record.issues.flatMap((i) => i.articles));
  const last = record.issues.at(-1);
  const since = last ? sinceIssue(last, sent, articles, newsletter) : -Infinity;
  const fresh = articles.filter((a) => !sent.has(a.id) && a.published.getTime() > since && a.published.getTime() <= now.getTime());
  if (fresh.length === 0) return undefined;
  const chosen = newsletter.mode === "each" ? fresh.slice(-1) : fresh.slice(0, newsletter.maxArticles);
  // Dated by its newest article, not the clock, so a preview is the same on every build; sending sets the real date.
  const date = new Date(Math.max(...chosen.map((a) => a.updated.getTime())));
  return { number: (last?.number ?? 0) + 1, date, articles: chosen, more: newsletter.mode === "each" ? 0 : fresh.length - chosen.length };
}

/**
 * How new an article must be to come after `last`: newer than its send, in
 * a digest (which gathered all that was out then); in `each` mode as new as
 * its article, as those published before the send but after that article
 * (or on its date) wait for issues of their own.
 */
function sinceIssue(last: SentIssue, sent: ReadonlySet<string>, articles: readonly Article[], newsletter: NewsletterConfig): number {
  const sentAt = new Date(last.date).getTime();
  if (newsletter.mode !== "each") return sentAt;
  // Its article, or when that is gone (deleted, a draft again) the newest article still here of any issue.
  const inLast = articles.filter((a) => last.articles.includes(a.id));
  const times = (inLast.length > 0 ? inLast : articles.filter((a) => sent.has(a.id))).map((a) => a.published.getTime());
  // A millisecond before: another article of the same date (a day, written without a time) comes next.
  return times.length > 0 ? Math.max(...times) - 1 : sentAt;
}

/**
 * Published articles the last issue of a digest should have carried by
 * their date but did not, and that no issue will: dated after the issue
 * before it and not after it went out, in no issue and not left out to fit
 * Gmail's size, while it had room for more (so none was left out for the
 * cap). Such an article was a draft when the issue went out, undrafted since
 * with the date `presswork new` gave it.
 */
export function missedByLastIssue(articles: readonly Article[], record: SentRecord, newsletter: NewsletterConfig): { article: Article; issue: SentIssue }[] {
  const last = record.issues.at(-1);
  const leftOut = last?.leftOut ?? [];
  if (!last || newsletter.mode !== "digest" || last.articles.length + leftOut.length >= newsletter.maxArticles) return [];
  const sent = new Set([...record.issues.flatMap((i) => i.articles), ...leftOut]);
  const before = record.issues.at(-2);
  const from = before ? new Date(before.date).getTime() : -Infinity;
  const to = new Date(last.date).getTime();
  return articles.filter((a) => !sent.has(a.id) && a.published.getTime() > from && a.published.getTime() <= to).map((article) => ({ article, issue: last }));
}

/** A sent issue as it was planned, from the record; articles that no longer exist are left out. */
export function planSentIssue(issue: SentIssue, articles: readonly Article[]): IssuePlan {
  const byId = new Map(articles.map((a) => [a.id, a]));
  const chosen = issue.articles.map((id) => byId.get(id)).filter((a): a is Article => a !== undefined);
  return { number: issue.number, date: new Date(issue.date), articles: chosen, more: 0 };
}

/** The preheader: the text inbox lists show after the subject. From the lead's Quick Reads or summary. */
export function preheaderOf(plan: IssuePlan): string {
  const lead = plan.articles[0];
  if (!lead) return "";
  const text = lead.points[0] ?? lead.description;
  const others = plan.articles.length > 1 ? ` Plus ${plan.articles.length - 1} more.` : "";
  return truncate(text, 110 - others.length) + others;
}

/** Site path of an issue's web version. */
export function issuePath(number: number): string {
  return `issues/${number}/`;
}

/** The scope the subject template sees: site, issue and lead article. */
export function subjectScope(plan: IssuePlan, config: Config) {
  const lead = plan.articles[0];
  return {
    site: { title: config.site.title, url: config.site.url },
    issue: { number: plan.number, count: plan.articles.length },
    lead: { title: lead?.title ?? "", summary: lead?.description ?? "" },
  };
}
