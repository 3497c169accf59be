import type { Config } from "../config/schema.js";
import { dateFormat, dateLocale, rememberedDate } from "../content/dates.js";
import { paths } from "../content/paths.js";
import { directionScope } from "../markdown/direction.js";
import type { Article } from "../content/article.js";

/** Formats an instant as a calendar date in the site's language and time zone, e.g. "29 November 2026" (see dateLocale). */
export function displayDate(date: Date, config: Config): string {
  const { language, timezone } = config.site;
  return rememberedDate(displayKey(date, config), () => dateFormat(dateLocale(language, timezone), { dateStyle: "long", timeZone: timezone }).format(date));
}

/** What displayDate remembers a date by: the instant, and the site's language and time zone, which decide how it is written. */
export function displayKey(date: Date, config: Config): string {
  return `long ${config.site.language} ${config.site.timezone} ${date.getTime()}`;
}

/** Site-wide values every template sees as `site`. */
export function siteScope(config: Config) {
  const base = new URL(config.site.url).pathname;
  const feeds = paths.feeds();
  return {
    title: config.site.title,
    description: config.site.description,
    url: config.site.url,
    base,
    language: config.site.language,
    ...directionScope(config.site.language),
    copyright: config.site.copyright ?? "",
    twitter: config.site.twitter ?? "",
    logo: config.site.logo ? new URL(config.site.logo, config.site.url).href : "",
    icon: config.site.icon ? base + config.site.icon.replace(/^\//, "") : "",
    stylesheet: `${base}style.css`,
    feeds: { rss: base + feeds.rss, atom: base + feeds.atom, json: base + feeds.json, page: base + paths.feedsPage },
    archive: `${base}${paths.archive}`,
    tags: `${base}${paths.tags}`,
    /** The newsletter, with empty strings when the config has none or no subscribe URL: templates test `!= ""`. */
    newsletter: {
      name: config.newsletter?.name ?? config.site.title,
      issues: config.newsletter ? `${base}issues/` : "",
      subscribe: config.newsletter?.subscribe?.url ?? "",
      subscribe_page: config.newsletter?.subscribe ? `${base}${paths.subscribe}` : "",
    },
  };
}

/** How a list template sees an article: snake_case fields, dates formatted, everything but the body. */
export function articleCard(article: Article, config: Config) {
  const base = new URL(config.site.url).pathname;
  return {
    id: article.id,
    title: article.title,
    subtitle: article.subtitle ?? "",
    url: article.url,
    path: base + article.path,
    description: article.description,
    published: article.published.toISOString(),
    published_display: displayDate(article.published, config),
    updated: article.updated.toISOString(),
    updated_display: displayDate(article.updated, config),
    was_updated: article.updated.getTime() > article.published.getTime(),
    authors: article.authors.map((a) => ({ name: a.name, url: base + paths.author(a.key) })),
    tags: article.tags.map((t) => ({ name: t.name, url: base + paths.tag(t.slug) })),
    key_points: article.points,
    key_points_html: article.pointsHtml.web,
    reading_minutes: article.body.readingMinutes,
    image:
      article.image && article.imageUrl
        ? { url: article.imageUrl, path: new URL(article.imageUrl).pathname, alt: article.image.alt, caption: article.image.caption ?? "" }
        : null,
  };
}

/** A list template's view of one article. */
export type ArticleCard = ReturnType<typeof articleCard>;

/**
 * How the article template sees an article: its card, its word count (left
 * off the card, so a word added to a body changes no list page) and its
 * HTML, ready for `| raw`. The HTML is read only when the page is rendered,
 * so planning thousands of pages whose files are still right never loads
 * their bodies.
 */
export function articleScope(card: ArticleCard, article: Article): ArticleCard & { readonly word_count: number; readonly html: string } {
  return {
    ...card,
    word_count: article.body.wordCount,
    get html() {
      return article.body.html.web;
    },
  };
}
