import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parseFeed } from "@rowanmanning/feed-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/pipeline/build.js";
import { jsonFeedErrors, xmllintAll } from "../helpers/feeds.js";
import { article, NOW, put, REPO, removeProjects, snapshot, tempProject } from "../helpers/project.js";

const SITE = "https://signal-noise.example/";
let root: string;
let ids: string[];
const read = (path: string) => readFile(join(root, "dist", path), "utf8");
const local = (url: string) => url.slice(SITE.length);

/** The sample config with three items a feed: the sample's eight articles fill archive pages 1 and 2 and part of 3. */
async function threeAFeed(): Promise<string> {
  return (await readFile(join(REPO, "presswork.config.yaml"), "utf8")).replace("  limit: 20\n", "  limit: 3\n");
}

beforeAll(async () => {
  root = await tempProject({ samples: true, config: await threeAFeed() });
  const result = await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
  expect(result.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
  ids = result.articles.map((a) => a.id);
});
afterAll(removeProjects);

/** The href of each link of an XML feed by rel, and whether it is marked fh:archive. */
function history(xml: string): { links: Record<string, string>; archive: boolean } {
  const links: Record<string, string> = {};
  for (const [tag] of xml.matchAll(/<(?:atom:)?link [^>]*>/g)) {
    const rel = /rel="([^"]+)"/.exec(tag)?.[1];
    const href = /href="([^"]+)"/.exec(tag)?.[1];
    if (rel && href && rel !== "enclosure") links[rel] = href;
  }
  return { links, archive: /<fh:archive\b/.test(xml) };
}

describe("RFC 5005 archives of the site-wide feeds", () => {
  it("link the current feed to the newest page, and each page to its neighbours and to the current feed", async () => {
    for (const [file, current] of [["atom.xml", `${SITE}atom.xml`], ["feed.xml", `${SITE}feed.xml`]] as const) {
      const head = history(await read(file));
      expect(head.archive, file).toBe(false);
      expect(head.links["prev-archive"], file).toBe(`${SITE}feeds/archive/3/${file}`);
      const pages = [1, 2, 3].map(async (n) => history(await read(`feeds/archive/${n}/${file}`)));
      const [first, second, newest] = await Promise.all(pages);
      for (const page of [first, second, newest]) {
        expect(page?.archive, file).toBe(true);
        expect(page?.links["current"], file).toBe(current);
      }
      expect(first?.links["prev-archive"], file).toBeUndefined();
      expect(first?.links["next-archive"], file).toBe(`${SITE}feeds/archive/2/${file}`);
      expect(second?.links["prev-archive"], file).toBe(`${SITE}feeds/archive/1/${file}`);
      expect(newest?.links["next-archive"], file).toBeUndefined();
      expect(newest?.links["self"], file).toBe(`${SITE}feeds/archive/3/${file}`);
    }
  });

  it("give a reader that walks back from the current feed every article, each page holding its own", async () => {
    for (const file of ["atom.xml", "feed.xml"]) {
      const seen: string[] = [];
      let next: string | undefined = history(await read(file)).links["prev-archive"];
      let pages = 0;
      while (next) {
        const xml = await read(local(next));
        const items = parseFeed(xml).items.map((i) => i.id ?? "");
        expect(items.some((id) => seen.includes(id)), next).toBe(false);
        seen.push(...items);
        next = history(xml).links["prev-archive"];
        pages++;
      }
      expect(pages).toBe(3);
      expect(seen.sort()).toEqual([...ids].sort());
    }
    const json: string[] = [];
    let url: string | undefined = (JSON.parse(await read("feed.json")) as { next_url?: string }).next_url;
    while (url) {
      const page = JSON.parse(await read(local(url))) as { next_url?: string; items: Array<{ id: string }> };
      json.push(...page.items.map((i) => i.id));
      url = page.next_url;
    }
    expect(json.sort()).toEqual([...ids].sort());
  });

  it("are valid feeds, like the current ones", async () => {
    const files = (await readdir(join(root, "dist/feeds/archive"), { recursive: true })).filter((p) => /\.(xml|json)$/.test(p));
    expect(files).toHaveLength(9);
    const atom: Array<[string, string]> = [];
    const rss: Array<[string, string]> = [];
    for (const file of files) {
      const text = await read(`feeds/archive/${file}`);
      if (file.endsWith(".json")) expect(jsonFeedErrors(text), file).toEqual([]);
      else (file.endsWith("atom.xml") ? atom : rss).push([file, text]);
    }
    expect([atom.length, rss.length]).toEqual([3, 3]);
    expect(await xmllintAll(atom, "atom")).toEqual([]);
    expect(await xmllintAll(rss)).toEqual([]);
  });

  it("leave a full page as it is: a new article rewrites only the current feed and the newest page", async () => {
    const project = await tempProject({ samples: true, config: await threeAFeed() });
    const out = join(project, "dist");
    const cacheDir = join(project, "cache");
    await build({ root: project, now: NOW, out, cacheDir });
    /** Each archive file's inode and bytes: a rewritten file gets a new inode. */
    const pages = async () => {
      const files = (await readdir(join(out, "feeds/archive"), { recursive: true })).filter((p) => /\.(xml|json)$/.test(p)).sort();
      return new Map(await Promise.all(files.map(async (f) => [f.split("\\").join("/"), `${(await stat(join(out, "feeds/archive", f))).ino} ${await readFile(join(out, "feeds/archive", f), "utf8")}`] as const)));
    };
    const changed = (before: Map<string, string>, after: Map<string, string>) => [...after.keys()].filter((f) => before.get(f) !== after.get(f)).map((f) => f.split("/")[0]);
    const add = async (name: string, date: string) => {
      await put(join(project, "articles", `${name}.md`), article(`title: ${name}\ndate: ${date}`));
      const result = await build({ root: project, now: NOW, out, cacheDir });
      expect(result.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
      // What the rebuild kept is what a build from scratch makes.
      const fresh = join(project, `fresh-${name}`);
      await build({ root: project, now: NOW, out: fresh, cacheDir: false });
      const [a, b] = await Promise.all([snapshot(out), snapshot(fresh)]);
      expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
      for (const [path, bytes] of b) expect(a.get(path)?.equals(bytes), path).toBe(true);
    };

    const eight = await pages();
    await add("ninth", "2026-11-28T08:00:00Z");
    const nine = await pages();
    // Page 3 took the ninth article and is full: page 4 starts, empty, so that page 3's link to it never has to change.
    expect(new Set(changed(eight, nine))).toEqual(new Set(["3", "4"]));
    expect([...nine.keys()].filter((f) => !eight.has(f))).toEqual(["4/atom.xml", "4/feed.json", "4/feed.xml"]);
    expect(parseFeed(await readFile(join(out, "feeds/archive/4/atom.xml"), "utf8")).items).toHaveLength(0);

    await add("tenth", "2026-11-28T09:00:00Z");
    expect(new Set(changed(nine, await pages()))).toEqual(new Set(["4"]));
    expect(history(await readFile(join(out, "atom.xml"), "utf8")).links["prev-archive"]).toBe(`${SITE}feeds/archive/4/atom.xml`);
  });
});
