import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import initSqlJs from "sql.js";

/** Debian's newsboat, which .ci/run installs (PRESSWORK_NEWSBOAT names another). */
export const NEWSBOAT = process.env["PRESSWORK_NEWSBOAT"] || "/usr/bin/newsboat";

/**
 * Why newsboat tests cannot run here, or undefined when they can. Under
 * .ci/run (PRESSWORK_CI=1) a missing newsboat is a failure, never a skip.
 */
export function newsboatMissing(): string | undefined {
  if (existsSync(NEWSBOAT)) return undefined;
  const why = `${NEWSBOAT} is missing: install Debian's newsboat (apt-get install -y newsboat), as .ci/run does`;
  if (process.env["PRESSWORK_CI"] === "1") throw new Error(why);
  return why;
}

/** An item as newsboat stores it in its cache. */
export interface NewsboatItem {
  guid: string;
  title: string;
  author: string;
  url: string;
  /** Whether newsboat shows it as new. */
  unread: boolean;
}

/**
 * Has newsboat fetch one feed file (through an `exec:cat` URL, as it would
 * a feed on the web) into a cache of its own, and reads back what it
 * stored: what its reader shows. Each feed gets its own cache because
 * newsboat keeps one item per guid across feeds.
 */
export async function newsboatItems(feedFile: string): Promise<NewsboatItem[]> {
  const reader = await newsboatReader(feedFile);
  try {
    return await reader.reload();
  } finally {
    await reader.remove();
  }
}

/** A newsboat whose cache lasts from one fetch to the next, as a reader's does. */
export interface NewsboatReader {
  /** Fetches the feed file again and returns every item the cache holds: one it had stored under the same guid keeps its state. */
  reload(): Promise<NewsboatItem[]>;
  /** Marks every stored item read, as a reader who has caught up. */
  readAll(): Promise<void>;
  /** Removes the cache. */
  remove(): Promise<void>;
}

/** A newsboat following one feed file, with a cache of its own. */
export async function newsboatReader(feedFile: string): Promise<NewsboatReader> {
  const SQL = await initSqlJs({ locateFile: (name) => join(createRequire(import.meta.url).resolve("sql.js"), "..", name) });
  const dir = await mkdtemp(join(tmpdir(), "presswork-newsboat-"));
  const cache = join(dir, "cache.db");
  await writeFile(join(dir, "urls"), `"exec:cat ${feedFile.replaceAll('"', '\\"')}"\n`);
  await writeFile(join(dir, "config"), "");
  return {
    async reload() {
      await promisify(execFile)(NEWSBOAT, ["-u", join(dir, "urls"), "-c", cache, "-C", join(dir, "config"), "-x", "reload"], { env: { ...process.env, HOME: dir }, timeout: 30_000 });
      const db = new SQL.Database(await readFile(cache));
      const [result] = db.exec("SELECT guid, title, author, url, unread FROM rss_item ORDER BY pubDate DESC, id");
      db.close();
      return (result?.values ?? []).map(([guid, title, author, url, unread]) => ({ guid: String(guid), title: String(title), author: String(author), url: String(url), unread: Number(unread) === 1 }));
    },
    async readAll() {
      const db = new SQL.Database(await readFile(cache));
      db.run("UPDATE rss_item SET unread = 0");
      await writeFile(cache, db.export());
      db.close();
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
