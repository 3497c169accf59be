import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseFeed } from "@rowanmanning/feed-parser";
import { afterAll, describe, expect, it } from "vitest";
import { build } from "../../src/pipeline/build.js";
import { jsonFeedErrors, xmllint } from "../helpers/feeds.js";
import { article, NOW, REPO, removeProjects, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

describe("feed settings", () => {
  it("cap the items, carry summaries only when asked, and announce a WebSub hub", async () => {
    const config = (await readFile(join(REPO, "presswork.config.yaml"), "utf8")).replace(
      "feeds:\n  limit: 20\n  tagLimit: 20\n  fullContent: true",
      "feeds:\n  limit: 3\n  tagLimit: 1\n  fullContent: false\n  hub: https://hub.example/",
    );
    const root = await tempProject({ samples: true, config });
    await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
    const read = (path: string) => readFile(join(root, "dist", path), "utf8");

    const atom = await read("atom.xml");
    expect(await xmllint(atom, "atom")).toEqual([]);
    expect(atom).toContain('<link rel="hub" href="https://hub.example/"/>');
    expect(await read("feed.xml")).toContain('<atom:link href="https://hub.example/" rel="hub"/>');
    const json = JSON.parse(await read("feed.json"));
    expect(jsonFeedErrors(JSON.stringify(json))).toEqual([]);
    expect(json.hubs).toEqual([{ type: "WebSub", url: "https://hub.example/" }]);

    const items = parseFeed(atom).items;
    expect(items).toHaveLength(3);
    expect(items[0]?.content).toContain("Read the full article");
    expect(items[0]?.content).not.toContain("How the line works");
    expect(parseFeed(await read("tags/networks/atom.xml")).items).toHaveLength(1);
  });

  it("leave the authors' email addresses out of every feed and page unless feeds.authorEmails publishes them in Atom", async () => {
    const sample = await readFile(join(REPO, "presswork.config.yaml"), "utf8");
    expect(sample).toContain("email: ada@signal-noise.example");
    const root = await tempProject({ samples: true });
    await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
    const files = (await readdir(join(root, "dist"), { recursive: true })).filter((p) => /\.(xml|json|html)$/.test(p));
    for (const path of files) expect(await readFile(join(root, "dist", path), "utf8"), path).not.toMatch(/(ada|mei)@signal-noise\.example/);
    expect(files).toContain("authors/ada/atom.xml");

    const published = await tempProject({ samples: true, config: sample.replace("  fullContent: true\n", "  fullContent: true\n  authorEmails: true\n") });
    await build({ root: published, now: NOW, out: join(published, "dist"), cacheDir: false });
    const atom = await readFile(join(published, "dist/authors/ada/atom.xml"), "utf8");
    expect(atom).toContain("<email>ada@signal-noise.example</email>");
    expect(await xmllint(atom, "atom")).toEqual([]);
    expect(await readFile(join(published, "dist/authors/ada/feed.xml"), "utf8")).not.toContain("ada@signal-noise.example");
  });

  it("write no empty summary for an article that has none: no summary in its front matter and no paragraph to take one from", async () => {
    const root = await tempProject({ articles: { "lists.md": article('title: "Only lists"\ndate: 2026-11-20', "## Heading\n\n- one\n- two\n") } });
    await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
    const atom = await readFile(join(root, "dist/atom.xml"), "utf8");
    const rss = await readFile(join(root, "dist/feed.xml"), "utf8");
    expect(atom).toContain("<title type=\"html\"><![CDATA[Only lists]]></title>");
    expect(atom).not.toContain("<summary");
    expect(rss).not.toContain("<description><![CDATA[]]></description>");
    expect(await xmllint(atom, "atom")).toEqual([]);
    const json = JSON.parse(await readFile(join(root, "dist/feed.json"), "utf8")) as { items: Array<Record<string, unknown>> };
    expect(json.items[0]?.["title"]).toBe("Only lists");
    expect(json.items[0]).not.toHaveProperty("summary");
  });
});

describe("a feed item's own blocks (the picture's caption, the Quick Reads, the summary)", () => {
  /** An article with a picture, key points and a summary, each in Arabic or in English, on a site in `language`: its JSON feed item's HTML. */
  const item = async (language: string) => {
    const config = (await readFile(join(REPO, "presswork.config.yaml"), "utf8")).replace("  language: en\n", `  language: ${language}\n`).replace("  fullContent: true\n", "  fullContent: false\n");
    const front = 'title: "Two desks"\ndate: 2026-11-20\nsummary: "ملخص المقال بالعربية."\nimage:\n  src: wafer.png\n  alt: A wafer.\n  caption: "صورة الرقاقة الأولى."\nkeyPoints: ["نقطة أولى مهمة.", "A point in English."]';
    const root = await tempProject({ config, articles: { "two-desks/index.md": article(front), "two-desks/wafer.png": await readFile(join(REPO, "articles/open-silicon-fab/wafer.png")) } });
    await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
    const feed = JSON.parse(await readFile(join(root, "dist/feed.json"), "utf8")) as { items: Array<{ content_html: string }> };
    return feed.items[0]?.content_html ?? "";
  };

  it("read right to left in a reader where their text does, as the body's paragraphs do; on a right-to-left site, English reads left to right too", async () => {
    const english = await item("en");
    expect(english).toContain('<figcaption dir="rtl">صورة الرقاقة الأولى.</figcaption>');
    expect(english).toContain('<li dir="rtl">نقطة أولى مهمة.</li><li>A point in English.</li>');
    expect(english).toContain('<p dir="rtl">ملخص المقال بالعربية.</p>');
    const arabic = await item("ar");
    expect(arabic).toContain('<li dir="rtl">نقطة أولى مهمة.</li><li dir="ltr">A point in English.</li>');
  });
});

describe("a feed item's body", () => {
  it("carries a code block as its text and a task's state as a mark: a reader has no styles for highlighting and drops checkboxes, which the page keeps", async () => {
    const body = "```python\nimport os\nimport sys\nprint(os.getcwd())\n```\n\n- [x] Ship it\n- [ ] Write it up\n";
    const root = await tempProject({ articles: { "code.md": article('title: "Code"\ndate: 2026-11-20', body) } });
    await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
    const feed = JSON.parse(await readFile(join(root, "dist/feed.json"), "utf8")) as { items: Array<{ content_html: string }> };
    const html = feed.items[0]?.content_html ?? "";
    // Each line starts a line: newsboat ran "import osimport sys" together where a line started with a span.
    expect(html).toContain('<pre><code class="hljs language-python">import os\nimport sys\nprint(os.getcwd())\n</code></pre>');
    expect(html).toMatch(/<li class="task-list-item">☑ Ship it<\/li>\s*<li class="task-list-item">☐ Write it up<\/li>/);
    const page = await readFile(join(root, "dist/articles/code/index.html"), "utf8");
    expect(page).toContain('<span class="hljs-keyword">import</span> os');
    expect(page).toMatch(/<input type="checkbox" checked disabled> Ship it/);
  });
});

describe("the feeds' own words (feeds.words)", () => {
  it("are the site's language where the config gives them: an item's Quick Reads and its link on, a tag's and an author's feed, the issues feed", async () => {
    const words = ["  words:", "    quickReads: Kurz gesagt", "    readMore: Den ganzen Artikel lesen", '    tagged: "Artikel zum Thema {tag} in {site}"', '    by: "Artikel von {author} in {site}"', '    issues: "Jede Ausgabe von {newsletter}"', '    issue: "Ausgabe Nr. {number}"', "    readIssue: Die Ausgabe lesen", ""].join("\n");
    const config = (await readFile(join(REPO, "presswork.config.yaml"), "utf8")).replace("  fullContent: true\n", `  fullContent: false\n${words}`);
    const root = await tempProject({ samples: true, config });
    const built = await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
    expect(built.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
    const json = async (path: string) => JSON.parse(await readFile(join(root, "dist", path), "utf8")) as { description: string; items: Array<{ content_html: string }> };
    const site = await json("feed.json");
    const html = site.items.map((item) => item.content_html).join("\n");
    expect(html).toContain("<h2>Kurz gesagt</h2>");
    expect(html).toContain(">Den ganzen Artikel lesen</a>");
    expect(html).not.toMatch(/Quick Reads|Read the full article/);
    expect((await json("tags/chips/feed.json")).description).toBe("Artikel zum Thema Chips in Signal & Noise");
    expect((await json("authors/ada/feed.json")).description).toBe("Artikel von Ada Okafor in Signal & Noise");
    const issues = await readFile(join(root, "dist/issues/atom.xml"), "utf8");
    expect(issues).toContain("Jede Ausgabe von Signal &amp; Noise Weekly");
    expect(issues).toMatch(/Ausgabe Nr\. 2[^<]*<\/p>/);
    expect(issues).toContain("Die Ausgabe lesen");
    expect(await xmllint(issues, "atom")).toEqual([]);
  });
});
