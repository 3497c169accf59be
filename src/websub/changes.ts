import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { absoluteUrl } from "../content/paths.js";
import { PressworkError } from "../errors/error.js";
import { writeFileAtomic } from "../files/atomic.js";

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

/**
 * Reads the state a previous run left at `path` (`shown` in messages):
 * undefined when there is no file yet. Anything else there (a folder, a
 * file that is not this state) stops the run before any ping, untouched.
 */
export function readNotified(path: string, shown = path): NotifiedState | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw notState(shown, code === "EISDIR" ? "it is a folder" : `it cannot be read (${code ?? "unknown error"})`, error);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    // The parser's message quotes the file, which may hold secrets: it is not shown.
    throw notState(shown, "it is not JSON", error);
  }
  if (!isNotified(data)) throw notState(shown, "it is JSON, but not feed URLs with their digests");
  return data;
}

function isNotified(data: unknown): data is NotifiedState {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return false;
  return Object.entries(data).every(([url, digest]) => /^https?:\/\//.test(url) && typeof digest === "string" && /^[0-9a-f]{64}$/.test(digest));
}

function notState(shown: string, why: string, cause?: unknown): PressworkError {
  return new PressworkError("websub-state", `--state ${shown} is not the state file presswork websub writes (${why}); nothing was pinged and nothing was written`, { cause });
}

/** Writes the state for the next run, atomically; a write that fails leaves no temporary file behind. */
export function writeNotified(path: string, state: NotifiedState): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`);
}

/**
 * The state file as a run goes: each feed of the built site keeps the
 * digest the hub was last told of (a feed no longer built is dropped) until
 * the hub takes a ping for it, which is written at once, atomically, so a
 * run cut short (a hub that stops answering, a job out of time) loses no
 * ping the hub took. Feeds are in the site's order, whatever order the
 * hub answered in.
 */
export class NotifiedRecord {
  private readonly taken = new Set<string>();

  constructor(
    private readonly path: string,
    private readonly feeds: readonly BuiltFeed[],
    private readonly last: NotifiedState | undefined,
  ) {}

  /** Records that the hub took the ping for `url`, and writes the state. */
  took(url: string): void {
    this.taken.add(url);
    this.write();
  }

  /** Writes the state as it stands. */
  write(): void {
    const state: NotifiedState = {};
    for (const feed of this.feeds) {
      const digest = this.taken.has(feed.url) ? feed.digest : this.last?.[feed.url];
      if (digest !== undefined) state[feed.url] = digest;
    }
    writeNotified(this.path, state);
  }
}

/** The feeds whose bytes differ from what the hub was last told of, or all of them when nothing is known. */
export function changedFeeds(feeds: readonly BuiltFeed[], last: NotifiedState | undefined): BuiltFeed[] {
  return last ? feeds.filter((feed) => last[feed.url] !== feed.digest) : [...feeds];
}
