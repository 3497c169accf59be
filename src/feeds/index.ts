import type { Config } from "../config/schema.js";
import { paths } from "../content/paths.js";
import type { Article } from "../markdown/article.js";
import { atom1 } from "./atom1.js";
import { jsonFeed } from "./json.js";
import { rss2 } from "./rss2.js";
import { feedSpec, type FeedSpec } from "./spec.js";

/** The three formats of one feed, keyed by output path. */
export function feedFiles(spec: FeedSpec, prefix = ""): Map<string, string> {
  const names = paths.feeds(prefix);
  return new Map([
    [names.rss, rss2(spec)],
    [names.atom, atom1(spec)],
    [names.json, jsonFeed(spec)],
  ]);
}

/** Site-wide feeds and one set per tag, keyed by output path under `dist/`. */
export function allFeeds(config: Config, articles: readonly Article[], tags: ReadonlyArray<{ tag: { name: string; slug: string }; list: readonly Article[] }>): Map<string, string> {
  const out = feedFiles(feedSpec(config, articles));
  for (const { tag, list } of tags) {
    for (const [path, text] of feedFiles(feedSpec(config, list, tag), paths.tag(tag.slug))) out.set(path, text);
  }
  return out;
}
