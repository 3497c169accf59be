import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/pipeline/build.js";
import { feedFindings } from "../helpers/feed-rules.js";
import { newsboatItems, newsboatMissing, type NewsboatItem } from "../helpers/newsboat.js";
import { article, NOW, REPO, removeProjects, tempProject } from "../helpers/project.js";

let root: string;
const dist = () => join(root, "dist");
const read = (path: string) => readFile(join(dist(), path), "utf8");
/** A title with everything a reader could show wrongly; no HTML end tag, which the validator rightly calls HTML. */
const TRICKY = `Q&A: "Quotes", <angle> brackets & ]]> the rest's`;

beforeAll(async () => {
  // Three items a feed: the sample's eight articles then fill archive pages too.
  const config = (await readFile(join(REPO, "presswork.config.yaml"), "utf8")).replace("  limit: 20\n", "  limit: 3\n");
  root = await tempProject({ samples: true, config, articles: { "tricky.md": article(`title: ${JSON.stringify(TRICKY)}\ndate: 2026-11-27\ntags: [R and D]`) } });
  const result = await build({ root, now: NOW, out: dist(), cacheDir: false });
  expect(result.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
});
afterAll(removeProjects);

/** Every RSS and Atom file, with the JSON Feed beside it. */
async function xmlFeeds(): Promise<Array<{ xml: string; json: string }>> {
  const all = (await readdir(dist(), { recursive: true })).map((p) => p.split("\\").join("/"));
  return all
    .filter((p) => p.endsWith("/feed.xml") || p.endsWith("/atom.xml") || p === "feed.xml" || p === "atom.xml")
    .sort()
    .map((xml) => ({ xml, json: xml.replace(/(feed|atom)\.xml$/, "feed.json") }));
}

describe("what feed readers see", () => {
  it("covers the site, every tag, every author, every archive page and the issues", async () => {
    const paths = (await xmlFeeds()).map((f) => f.xml);
    for (const path of ["feed.xml", "atom.xml", "tags/r-and-d/feed.xml", "authors/ada/atom.xml", "feeds/archive/1/feed.xml", "feeds/archive/3/atom.xml", "issues/feed.xml", "issues/atom.xml"]) expect(paths).toContain(path);
  });

  const missing = newsboatMissing();
  if (missing) console.log(`skipped: newsboat titles (${missing})`);
  it.skipIf(Boolean(missing))("newsboat stores every title as the editor typed it, as JSON Feed carries it, in every RSS and Atom feed", { timeout: 120_000 }, async () => {
    const feeds = await xmlFeeds();
    // Four at a time: forty at once would each share the CPU with the others, and near newsboat's time limit on a busy machine.
    const stored: NewsboatItem[][] = [];
    for (let i = 0; i < feeds.length; i += 4) stored.push(...(await Promise.all(feeds.slice(i, i + 4).map(({ xml }) => newsboatItems(join(dist(), xml))))));
    let compared = 0;
    for (const [i, { xml, json }] of feeds.entries()) {
      const expected = (JSON.parse(await read(json)) as { items: Array<{ id: string; title: string }> }).items;
      const items = stored[i] ?? [];
      expect(items.map((item) => item.title).sort(), xml).toEqual(expected.map((item) => item.title).sort());
      compared += items.length;
    }
    const titles = stored.flat().map((item) => item.title);
    expect(titles).toContain(TRICKY);
    expect(titles).toContain("R&D Spending Holds Up as Chipmakers Wait for <Demand> to Return");
    expect(titles).toContain("Inside the Ship That Fixes the Internet's Undersea Cables");
    expect(titles.filter((t) => t.startsWith("Signal & Noise #1: "))).toHaveLength(2);
    expect(titles.join("\n")).not.toMatch(/&(amp|lt|gt|apos|quot|#x?[0-9a-f]+);/i);
    expect(compared).toBeGreaterThan(60);
  });

  it("gives the W3C feed validator nothing to warn about in any feed", async () => {
    for (const { xml } of await xmlFeeds()) expect(feedFindings(await read(xml)), xml).toEqual([]);
  });

  it("names the authors of an RSS item one way only, with dc:creator", async () => {
    const rss = await read("authors/mei/feed.xml");
    expect(rss).toContain("<dc:creator>Mei Lin</dc:creator>");
    expect(rss).not.toMatch(/<author>/);
  });

  it.skipIf(Boolean(missing))("shows both authors of a two-author article in newsboat, as the article's page names them", async () => {
    const stored = (await newsboatItems(join(dist(), "feed.xml"))).find((i) => i.url === "https://signal-noise.example/articles/open-silicon-fab/");
    expect(stored?.author).toBe("Ada Okafor, Mei Lin");
    const rss = await read("feed.xml");
    const item = rss.slice(rss.indexOf("<link>https://signal-noise.example/articles/open-silicon-fab/</link>"));
    expect(item.slice(0, item.indexOf("</item>")).match(/<dc:creator>/g)).toHaveLength(1);
    expect(await read("articles/open-silicon-fab/index.html")).toMatch(/By <a href="\/authors\/ada\/">Ada Okafor<\/a>, <a href="\/authors\/mei\/">Mei Lin<\/a>/);
  });
});

describe("the validator rules this suite applies", () => {
  const rss = (item: string, channel = '<atom:link href="https://x.example/feed.xml" rel="self" type="application/rss+xml"/>') =>
    `<?xml version="1.0"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title><link>https://x.example/</link><description>D</description>${channel}\n<item>${item}</item>\n</channel></rss>`;
  const rules = (xml: string) => feedFindings(xml).map((f) => f.rule);

  it.each([
    ["both author and dc:creator", rss("<title>A</title><author>a@x.example (A)</author><dc:creator>A</dc:creator>"), "DuplicateItemSemantics"],
    ["an escaped title in CDATA", rss("<title><![CDATA[R&amp;D]]></title>"), "ContainsHTML"],
    ["HTML in a title", rss("<title>A &lt;b&gt;bold&lt;/b&gt; move</title>"), "ContainsHTML"],
    ["< written as a named entity", rss("<title>Wait for &lt;Demand&gt;</title>"), "CharacterData"],
    ["content:encoded without a description before it", rss("<title>A</title><content:encoded><![CDATA[<p>x</p>]]></content:encoded>"), "NeedDescriptionBeforeContent"],
    ["a relative link in content", rss('<title>A</title><description><![CDATA[<a href="/x/">x</a>]]></description>'), "ContainsRelRef"],
    ["a script in content", rss("<title>A</title><description><![CDATA[<script>x</script>]]></description>"), "SecurityRisk"],
    ["no self link", rss("<title>A</title>", ""), "MissingAtomSelfLink"],
    ["a duplicate guid", rss('<title>A</title><guid isPermaLink="false">x</guid></item><item><title>B</title><guid isPermaLink="false">x</guid>'), "DuplicateValue"],
    ["an undeclared prefix", rss("<title>A</title><media:thumbnail/>"), "NotWellFormed"],
    ["an archive page without links", rss("<title>A</title>", '<atom:link href="https://x.example/a.xml" rel="self"/><fh:archive xmlns:fh="http://purl.org/syndication/history/1.0"/>'), "ArchiveIncomplete"],
  ])("catch %s", (_name, xml, rule) => {
    expect(rules(xml)).toContain(rule);
  });

  it("pass plain text written with hexadecimal references", () => {
    expect(feedFindings(rss("<title>R&#x26;D &#x3C;Demand&#x3E;</title><dc:creator>A</dc:creator><description>d</description><content:encoded>c</content:encoded>"))).toEqual([]);
  });
});
