import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseFeed } from "@rowanmanning/feed-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Article } from "../../src/content/article.js";
import { build } from "../../src/pipeline/build.js";
import { jsonFeedErrors, xmllint, xmllintAll } from "../helpers/feeds.js";
import { NOW, removeProjects, tempProject } from "../helpers/project.js";

let root: string;
let articles: Article[];
const read = (path: string) => readFile(join(root, "dist", path), "utf8");

beforeAll(async () => {
  root = await tempProject({ samples: true });
  const result = await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
  expect(result.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
  articles = result.articles;
});
afterAll(removeProjects);

async function feedPaths(): Promise<string[]> {
  const all = await readdir(join(root, "dist"), { recursive: true });
  return all.filter((p) => /(feed\.xml|atom\.xml|feed\.json)$/.test(p) && !p.startsWith("issues")).sort();
}

describe("feeds built from the sample articles", () => {
  it("writes a site-wide set, one set per tag and one per author", async () => {
    const paths = await feedPaths();
    expect(paths).toContain("feed.xml");
    expect(paths).toContain("atom.xml");
    expect(paths).toContain("feed.json");
    const tags = new Set(articles.flatMap((a) => a.tags.map((t) => t.slug)));
    for (const tag of tags) expect(paths).toContain(`tags/${tag}/atom.xml`);
    const authors = new Set(articles.flatMap((a) => a.authors.map((t) => t.key)));
    for (const author of authors) expect(paths).toContain(`authors/${author}/feed.json`);
    expect(paths).toHaveLength(3 * (tags.size + authors.size + 1));
  });

  it("are well-formed XML, and Atom is valid against the RFC 4287 RELAX NG schema", async () => {
    const atom: Array<[string, string]> = [];
    const rss: Array<[string, string]> = [];
    for (const path of await feedPaths()) {
      const text = await read(path);
      if (path.endsWith(".json")) expect(jsonFeedErrors(text), path).toEqual([]);
      else (path.endsWith("atom.xml") ? atom : rss).push([path, text]);
    }
    expect(atom.length).toBeGreaterThan(1);
    expect(rss.length).toBe(atom.length);
    expect(await xmllintAll(atom, "atom")).toEqual([]);
    expect(await xmllintAll(rss)).toEqual([]);
  });

  it("meets the RFC 4287 rules RELAX NG cannot check: an author and an alternate link for every entry", async () => {
    const atom = await read("atom.xml");
    expect(atom).toMatch(/<feed [^>]*xml:lang="en"/);
    expect(atom.split("</entry>")[0]).toContain("<author>");
    for (const entry of atom.split("<entry>").slice(1)) expect(entry).toMatch(/<link href="https:\/\/[^"]+"\/>/);
    expect(atom).toContain('<link rel="self" href="https://signal-noise.example/atom.xml"/>');
  });

  it("leaves out drafts and articles dated after the build", async () => {
    const json = JSON.parse(await read("feed.json")) as { items: Array<{ title: string }> };
    const titles = json.items.map((i) => i.title);
    expect(titles).not.toContain("Satellites That Talk Straight to Your Phone");
    expect(titles).not.toContain("The Year Ahead in Chips");
    expect(titles).toHaveLength(8);
  });

  it("parse back, with an independent parser, to the articles' own fields (RSS and Atom)", async () => {
    for (const path of ["feed.xml", "atom.xml"]) {
      const feed = parseFeed(await read(path));
      expect(feed.title).toBe("Signal & Noise");
      expect(feed.language).toBe("en");
      expect(feed.items).toHaveLength(articles.length);
      feed.items.forEach((item, index) => {
        const article = articles[index] as Article;
        expect(item.id, path).toBe(article.id);
        expect(item.title, path).toBe(article.title);
        expect(item.url, path).toBe(article.url);
        expect(item.published?.toISOString(), path).toBe(article.published.toISOString());
        if (path === "atom.xml") expect(item.updated?.toISOString(), path).toBe(article.updated.toISOString());
        expect(item.categories.map((c) => c.label ?? c.term), path).toEqual(article.tags.map((t) => t.name));
        // RSS names every author in one dc:creator, as the pages do; Atom gives each an author element.
        const names = article.authors.map((a) => a.name);
        expect(item.authors.map((a) => a.name), path).toEqual(path === "feed.xml" ? [names.join(", ")] : names);
        expect(item.content, path).toContain(article.body.html.feed.slice(0, 200));
      });
    }
  });

  it("parse back to the articles' fields as JSON Feed 1.1", async () => {
    const json = JSON.parse(await read("feed.json"));
    expect(json.version).toBe("https://jsonfeed.org/version/1.1");
    expect(json.language).toBe("en");
    expect(json.author).toBeUndefined();
    json.items.forEach((item: Record<string, unknown>, index: number) => {
      const article = articles[index] as Article;
      expect(item["id"]).toBe(article.id);
      expect(item["title"]).toBe(article.title);
      expect(item["date_published"]).toBe(article.published.toISOString());
      expect(item["date_modified"]).toBe(article.updated.toISOString());
      expect(item["authors"]).toEqual(article.authors.map((a) => ({ name: a.name, url: a.url ?? `https://signal-noise.example/authors/${a.key}/` })));
      expect(item["tags"]).toEqual(article.tags.map((t) => t.name));
      expect(item["author"]).toBeUndefined();
    });
  });

  it("carry the same permanent id for an article in every format", async () => {
    const rss = parseFeed(await read("feed.xml")).items.map((i) => i.id);
    const atom = parseFeed(await read("atom.xml")).items.map((i) => i.id);
    const json = (JSON.parse(await read("feed.json")).items as Array<{ id: string }>).map((i) => i.id);
    expect(rss).toEqual(atom);
    expect(json).toEqual(atom);
    expect(new Set(atom).size).toBe(atom.length);
  });

  it("use absolute URLs for every href, src and srcset in item content", async () => {
    for (const path of ["feed.xml", "atom.xml"]) {
      for (const item of parseFeed(await read(path)).items) {
        const urls = [...(item.content ?? "").matchAll(/\s(?:href|src|srcset)="([^"]*)"/g)].map((m) => m[1] ?? "");
        expect(urls.length).toBeGreaterThan(0);
        for (const url of urls) expect(url, `${path} ${item.title}`).toMatch(/^(https?:|mailto:)/);
      }
    }
  });

  it("take their updated time from the newest article change, not the clock", async () => {
    const newest = articles.reduce((max, a) => (a.updated > max ? a.updated : max), new Date(0));
    expect(parseFeed(await read("atom.xml")).updated?.toISOString()).toBe(newest.toISOString());
    expect(await read("feed.xml")).toContain(`<lastBuildDate>${newest.toUTCString()}</lastBuildDate>`);
  });

  it("describe their enclosure images with a real MIME type and size", async () => {
    const atom = await read("atom.xml");
    expect(atom).toMatch(/<link rel="enclosure" href="https:\/\/signal-noise\.example\/articles\/open-silicon-fab\/wafer\.png" type="image\/png" length="\d+"\/>/);
    expect(await read("feed.xml")).toMatch(/<enclosure length="\d+" type="image\/png" url="https:\/\/signal-noise\.example\/articles\/open-silicon-fab\/wafer\.png"\/>/);
  });

  it("point a browser at the XSL stylesheet, which is published", async () => {
    expect(await read("feed.xml")).toContain('<?xml-stylesheet href="/feed.xsl" type="text/xsl"?>');
    expect(await xmllint(await read("feed.xsl"))).toEqual([]);
  });
});
