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
}

/**
 * Has newsboat fetch one feed file (through an `exec:cat` URL, as it would
 * a feed on the web) into a cache of its own, and reads back what it
 * stored: what its reader shows. Each feed gets its own cache because
 * newsboat keeps one item per guid across feeds.
 */
export async function newsboatItems(feedFile: string): Promise<NewsboatItem[]> {
  const dir = await mkdtemp(join(tmpdir(), "presswork-newsboat-"));
  try {
    await writeFile(join(dir, "urls"), `"exec:cat ${feedFile.replaceAll('"', '\\"')}"\n`);
    await writeFile(join(dir, "config"), "");
    await promisify(execFile)(NEWSBOAT, ["-u", join(dir, "urls"), "-c", join(dir, "cache.db"), "-C", join(dir, "config"), "-x", "reload"], { env: { ...process.env, HOME: dir }, timeout: 30_000 });
    const SQL = await initSqlJs({ locateFile: (name) => join(createRequire(import.meta.url).resolve("sql.js"), "..", name) });
    const db = new SQL.Database(await readFile(join(dir, "cache.db")));
    const [result] = db.exec("SELECT guid, title, author, url FROM rss_item ORDER BY pubDate DESC, id");
    db.close();
    return (result?.values ?? []).map(([guid, title, author, url]) => ({ guid: String(guid), title: String(title), author: String(author), url: String(url) }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
