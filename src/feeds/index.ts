import { paths } from "../content/paths.js";
import { atom1 } from "./atom1.js";
import { jsonFeed } from "./json.js";
import { rss2 } from "./rss2.js";
import { itemHtml, type FeedSpec } from "./spec.js";
import { textDirection } from "../markdown/direction.js";

/** The three formats of one feed, keyed by output path. Each item's HTML is made once for the three, so each body is read once. */
export function feedFiles(spec: FeedSpec, prefix = ""): Map<string, string> {
  const names = paths.feeds(prefix);
  const direction = textDirection(spec.language);
  const items = new Map(spec.articles.map((article) => [article, itemHtml(article, spec, direction)]));
  const itemOf = (article: FeedSpec["articles"][number]) => items.get(article) ?? itemHtml(article, spec, direction);
  return new Map([
    [names.rss, rss2(spec, itemOf)],
    [names.atom, atom1(spec, itemOf)],
    [names.json, jsonFeed(spec, itemOf)],
  ]);
}
