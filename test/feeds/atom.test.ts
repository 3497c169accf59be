import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { completeAtom, withEnclosureTypes } from "../../src/feeds/atom1.js";
import { build } from "../../src/pipeline/build.js";
import { jsonFeedErrors, xmllint } from "../helpers/feeds.js";
import { article, NOW, REPO, removeProjects, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

describe("what the feed package cannot be told, put right after it writes", () => {
  it("gives a JPEG or SVG enclosure its real type in Atom and RSS, where the package guesses image/jpg and image/svg", async () => {
    const photo = await readFile(join(REPO, "articles/open-silicon-fab/wafer.png"));
    const root = await tempProject({
      articles: {
        "jpeg/index.md": article("title: A JPEG\ndate: 2026-11-02\nimage: { src: photo.jpg, alt: A photo }"),
        "jpeg/photo.jpg": photo,
        "vector/index.md": article("title: A drawing\ndate: 2026-11-01\nimage: { src: plan.svg, alt: A plan }"),
        "vector/plan.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>',
      },
    });
    await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
    const atom = await readFile(join(root, "dist/atom.xml"), "utf8");
    expect(atom).toMatch(/<link rel="enclosure" href="https:\/\/signal-noise\.example\/articles\/jpeg\/photo\.jpg" type="image\/jpeg" length="\d+"\/>/);
    expect(atom).toMatch(/<link rel="enclosure" href="https:\/\/signal-noise\.example\/articles\/vector\/plan\.svg" type="image\/svg\+xml" length="\d+"\/>/);
    expect(await xmllint(atom, "atom")).toEqual([]);
    const rss = await readFile(join(root, "dist/feed.xml"), "utf8");
    expect(rss).toMatch(/<enclosure length="\d+" type="image\/jpeg" url="https:\/\/signal-noise\.example\/articles\/jpeg\/photo\.jpg"\/>/);
    expect(rss).toMatch(/type="image\/svg\+xml"/);
  });

  it("leaves an enclosure it has no type for as the package wrote it", () => {
    const xml = '<link rel="enclosure" href="https://x.example/a.bin" length="3" type="image/bin"/>';
    expect(withEnclosureTypes(xml, new Map())).toBe(xml);
  });

  it("puts xml:lang on the root and the archive links after the self link, and refuses output it does not recognise", () => {
    const written = '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n    <id>x</id>\n    <link rel="self" href="https://x.example/a&amp;b.xml"/>\n    <entry/>\n</feed>';
    const urls = (n: number) => ({ rss: `r${n}`, atom: `https://x.example/${n}.xml`, json: `j${n}` });
    const done = completeAtom(written, "en-GB", "https://x.example/a&b.xml", { archive: true, current: urls(0), prev: urls(1), next: urls(3) });
    expect(done).toContain('<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-GB" xmlns:fh="http://purl.org/syndication/history/1.0">');
    expect(done).toContain(
      '<link rel="self" href="https://x.example/a&amp;b.xml"/>\n    <link rel="current" href="https://x.example/0.xml"/>\n    <link rel="prev-archive" href="https://x.example/1.xml"/>\n    <link rel="next-archive" href="https://x.example/3.xml"/>\n    <fh:archive/>\n    <entry/>',
    );
    expect(() => completeAtom(written.replace("<feed xmlns", "<feed  xmlns"), "en", "https://x.example/a&b.xml", undefined)).toThrow("root element");
    expect(() => completeAtom(written, "en", "https://x.example/other.xml", { archive: false })).toThrow("self link");
  });

  it("publishes the issues as JSON Feed too, valid and with the RSS feed's items", async () => {
    const root = await tempProject({ samples: true });
    await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
    const json = await readFile(join(root, "dist/issues/feed.json"), "utf8");
    expect(jsonFeedErrors(json)).toEqual([]);
    const feed = JSON.parse(json) as { feed_url: string; items: Array<{ title: string; url: string }> };
    expect(feed.feed_url).toBe("https://signal-noise.example/issues/feed.json");
    expect(feed.items.map((i) => i.url)).toEqual(["https://signal-noise.example/issues/2/", "https://signal-noise.example/issues/1/"]);
    expect(feed.items[0]?.title).toMatch(/^Signal & Noise #2: /);
  });
});
