import { paths } from "../content/paths.js";
import { atom1 } from "./atom1.js";
import { jsonFeed } from "./json.js";
import { rss2 } from "./rss2.js";
import type { FeedSpec } from "./spec.js";

/** The three formats of one feed, keyed by output path. */
export function feedFiles(spec: FeedSpec, prefix = ""): Map<string, string> {
  const names = paths.feeds(prefix);
  return new Map([
    [names.rss, rss2(spec)],
    [names.atom, atom1(spec)],
    [names.json, jsonFeed(spec)],
  ]);
}
