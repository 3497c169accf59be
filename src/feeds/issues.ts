import { Feed } from "feed";
import type { Config } from "../config/schema.js";
import { escapeXml } from "../xml/escape.js";
import { cdataHtml, htmlTitle, XmlValues } from "./xml-values.js";

/** A sent issue as its feed item. */
export interface IssueItem {
  number: number;
  subject: string;
  date: Date;
  url: string;
  articles: ReadonlyArray<{ title: string; url: string; description: string }>;
}

/** RSS and Atom feeds of the sent issues, newest first, so readers can follow the newsletter too. */
export function issueFeeds(config: Config, issues: readonly IssueItem[]): { rss: string; atom: string } {
  const newest = [...issues].sort((a, b) => b.number - a.number);
  const updated = newest[0]?.date ?? new Date(0);
  const host = new URL(config.site.url).hostname;
  const make = (v: XmlValues) => {
    const title = config.newsletter?.name ?? `${config.site.title} newsletter`;
    const feed = new Feed({
      id: new URL("issues/", config.site.url).href,
      title: v.text(title),
      description: v.text(`Every issue of ${title}`),
      link: new URL("issues/", config.site.url).href,
      feedLinks: { rss: new URL("issues/feed.xml", config.site.url).href, atom: new URL("issues/atom.xml", config.site.url).href },
      language: v.text(config.site.language),
      updated,
      generator: "Presswork",
      author: { name: v.text(config.site.title) },
      stylesheet: `${new URL(config.site.url).pathname}feed.xsl`,
    });
    for (const issue of newest) {
      const list = issue.articles.map((a) => `<li><a href="${escapeXml(a.url)}">${escapeXml(a.title)}</a>: ${escapeXml(a.description)}</li>`).join("");
      feed.addItem({
        title: htmlTitle(issue.subject),
        id: `tag:${host},${issue.date.toISOString().slice(0, 10)}:issue-${issue.number}`,
        link: issue.url,
        date: issue.date,
        published: issue.date,
        content: cdataHtml(`<p>Issue #${issue.number}</p><ul>${list}</ul><p><a href="${escapeXml(issue.url)}">Read the issue</a></p>`),
      });
    }
    return feed;
  };
  const rss = new XmlValues();
  const atom = new XmlValues();
  return {
    rss: rss.fill(make(rss).rss2()),
    atom: atom.fill(make(atom).atom1()).replace('<feed xmlns="http://www.w3.org/2005/Atom">', `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${escapeXml(config.site.language)}">`),
  };
}
