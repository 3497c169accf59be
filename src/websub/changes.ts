import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { absoluteUrl } from "../content/paths.js";

/** A feed file of the built site: its address on the site and a digest of its bytes. */
export interface BuiltFeed {
  path: string;
  url: string;
  digest: string;
}

const FEED_FILE = /(?:^|\/)(?:feed\.xml|atom\.xml|feed\.json)$/;

/** Every feed in a built site (site-wide, archive pages, topics, authors, issues), in path order. */
export function builtFeeds(outDir: string, siteUrl: string): BuiltFeed[] {
  const files = readdirSync(outDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(outDir.length + 1).split(sep).join("/"))
    .filter((path) => FEED_FILE.test(path))
    .sort();
  return files.map((path) => ({ path, url: absoluteUrl(path, siteUrl), digest: createHash("sha256").update(readFileSync(join(outDir, path))).digest("hex") }));
}

/** What the hub was last told: each feed's URL and the digest of the bytes it was told about. */
export type NotifiedState = Record<string, string>;

/** Reads the state a previous run left; undefined when there is none or it is not ours. */
export function readNotified(path: string): NotifiedState | undefined {
  try {
    const data = JSON.parse(readFileSync(path, "utf8")) as unknown;
    if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
    return Object.fromEntries(Object.entries(data).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
  } catch {
    return undefined;
  }
}

/** Writes the state for the next run, atomically. */
export function writeNotified(path: string, state: NotifiedState): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, path);
}

/** The feeds whose bytes differ from what the hub was last told of, or all of them when nothing is known. */
export function changedFeeds(feeds: readonly BuiltFeed[], last: NotifiedState | undefined): BuiltFeed[] {
  return last ? feeds.filter((feed) => last[feed.url] !== feed.digest) : [...feeds];
}
