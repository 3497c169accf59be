import { Feed } from "feed";
import type { Config } from "../config/schema.js";
import { tagUri } from "../content/ids.js";
import { paths } from "../content/paths.js";
import { escapeXml } from "../xml/escape.js";
import { completeAtom } from "./atom1.js";
import { issuesFeedTitle, phrase } from "./spec.js";
import { escapeRssText, htmlText, XmlValues } from "./xml-values.js";

/** A sent issue as its feed item. */
export interface IssueItem {
  number: number;
  subject: string;
  date: Date;
  url: string;
  articles: ReadonlyArray<{ title: string; url: string; description: string }>;
}

/** RSS, Atom and JSON feeds of the sent issues, newest first, so readers can follow the newsletter too. */
export function issueFeeds(config: Config, issues: readonly IssueItem[]): { rss: string; atom: string; json: string } {
  const newest = [...issues].sort((a, b) => b.number - a.number);
  const updated = newest[0]?.date ?? new Date(0);
  const abs = (path: string) => new URL(path, config.site.url).href;
  const files = paths.feeds("issues/");
  const title = issuesFeedTitle(config);
  const words = config.feeds.words;
  const description = phrase(words.issues, { newsletter: title });
  const items = newest.map((issue) => ({
    issue,
    id: tagUri(config, issue.date.toISOString().slice(0, 10), `issue-${issue.number}`),
    summary: summaryOf(issue),
    html: `<p>${escapeXml(phrase(words.issue, { number: issue.number }))}</p><ul>${issue.articles.map((a) => `<li><a href="${escapeXml(a.url)}">${escapeXml(a.title)}</a>: ${escapeXml(a.description)}</li>`).join("")}</ul><p><a href="${escapeXml(issue.url)}">${escapeXml(words.readIssue)}</a></p>`,
  }));
  const make = (v: XmlValues) => {
    const feed = new Feed({
      id: abs("issues/"),
      title: v.text(title),
      description: v.text(description),
      link: abs("issues/"),
      feedLinks: { rss: abs(files.rss), atom: abs(files.atom) },
      language: v.text(config.site.language),
      updated,
      generator: "Presswork",
      author: { name: v.text(config.site.title) },
      stylesheet: `${new URL(config.site.url).pathname}feed.xsl`,
      ...(config.feeds.hub ? { hub: config.feeds.hub } : {}),
    });
    return { feed, v };
  };
  const rss = make(new XmlValues(escapeRssText));
  for (const { issue, id, summary, html } of items) {
    rss.feed.addItem({ title: rss.v.text(issue.subject), id: rss.v.text(id), link: issue.url, date: issue.date, published: issue.date, description: rss.v.html(htmlText(summary)), content: rss.v.html(html) });
  }
  const atom = make(new XmlValues());
  for (const { issue, id, summary, html } of items) {
    atom.feed.addItem({ title: atom.v.html(htmlText(issue.subject)), id, link: issue.url, date: issue.date, published: issue.date, description: atom.v.html(htmlText(summary)), content: atom.v.html(html) });
  }
  const json = {
    version: "https://jsonfeed.org/version/1.1",
    title,
    home_page_url: abs("issues/"),
    feed_url: abs(files.json),
    description,
    language: config.site.language,
    authors: [{ name: config.site.title }],
    ...(config.feeds.hub ? { hubs: [{ type: "WebSub", url: config.feeds.hub }] } : {}),
    items: items.map(({ issue, id, summary, html }) => ({ id, url: issue.url, title: issue.subject, content_html: html, summary, date_published: issue.date.toISOString(), date_modified: issue.date.toISOString() })),
  };
  return {
    rss: rss.v.fill(rss.feed.rss2()),
    atom: atom.v.fill(completeAtom(atom.feed.atom1(), config.site.language, abs(files.atom), undefined)),
    json: `${JSON.stringify(json, null, 2)}\n`,
  };
}

/** One line on what an issue holds, for feed readers that show a summary. */
function summaryOf(issue: IssueItem): string {
  const count = issue.articles.length;
  const titles = issue.articles.map((a) => a.title).join("; ");
  return `Issue #${issue.number}, ${count} ${count === 1 ? "article" : "articles"}${count > 0 ? `: ${titles}` : ""}`;
}
