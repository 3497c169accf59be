import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { attr, elements, type Element } from "../helpers/html.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/pipeline/build.js";
import { xmllint } from "../helpers/feeds.js";
import { NOW, put, removeProjects, tempProject } from "../helpers/project.js";

let root: string;
const read = (path: string) => readFile(join(root, "dist", path), "utf8");

const meta = (html: string, key: string) => elements(html).find((e) => e.tagName === "meta" && (attr(e, "property") === key || attr(e, "name") === key));

beforeAll(async () => {
  root = await tempProject({ samples: true });
  await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
});
afterAll(removeProjects);

describe("the web archive", () => {
  const pages = ["index.html", "page/2/index.html", "articles/open-silicon-fab/index.html", "tags/chips/index.html", "tags/index.html", "authors/ada/index.html", "feeds/index.html", "archive/index.html", "404.html"];

  it("gives every page a language, a title, a canonical URL, a main landmark and feed autodiscovery", async () => {
    for (const path of pages) {
      const els = elements(await read(path));
      expect(attr(els.find((e) => e.tagName === "html") as Element, "lang"), path).toBe("en");
      expect(els.filter((e) => e.tagName === "main"), path).toHaveLength(1);
      expect(els.filter((e) => e.tagName === "h1"), path).toHaveLength(1);
      const canonical = els.find((e) => e.tagName === "link" && attr(e, "rel") === "canonical");
      expect(attr(canonical as Element, "href"), path).toMatch(/^https:\/\/signal-noise\.example\//);
      const alternates = els.filter((e) => e.tagName === "link" && attr(e, "rel") === "alternate").map((e) => attr(e, "type"));
      expect(alternates, path).toEqual(expect.arrayContaining(["application/rss+xml", "application/atom+xml", "application/feed+json"]));
    }
  });

  it("shows an article with its Quick Reads, byline, image with alt text and OpenGraph card", async () => {
    const html = await read("articles/open-silicon-fab/index.html");
    const els = elements(html);
    expect(attr(meta(html, "og:title") as Element, "content")).toBe("A Community Fab Tapes Out Its First Open-Source RISC-V Chip");
    expect(attr(meta(html, "og:image") as Element, "content")).toBe("https://signal-noise.example/articles/open-silicon-fab/wafer.png");
    expect(attr(meta(html, "twitter:card") as Element, "content")).toBe("summary_large_image");
    expect(html).toContain('<aside class="quick-reads" aria-labelledby="quick-reads">');
    expect(html).toContain('<li dir="auto">Yield on the first wafer was 61 %, better than the team expected.</li>');
    expect(html).not.toContain("<h2>Quick Reads</h2>\n<ul>");
    for (const img of els.filter((e) => e.tagName === "img")) expect(attr(img, "alt"), attr(img, "src")).toBeTruthy();
    expect(html).toContain('href="/articles/rust-in-the-kernel/"');
    expect(await readFile(join(root, "dist/articles/open-silicon-fab/die-shot.png"))).toHaveLength((await readFile(join(root, "articles/open-silicon-fab/die-shot.png"))).length);
  });

  it("lists articles newest first, paginated, with tag pages that offer their own feeds", async () => {
    const home = await read("index.html");
    const titles = [...home.matchAll(/<h2 dir="auto"><a href="[^"]+">([^<]+)<\/a><\/h2>/g)].map((m) => m[1]);
    expect(titles).toHaveLength(5);
    expect(titles[0]).toBe("A Community Fab Tapes Out Its First Open-Source RISC-V Chip");
    expect(home).toContain('<a rel="next" href="/page/2/">');
    const tag = await read("tags/chips/index.html");
    expect(tag).toContain('href="/tags/chips/feed.xml"');
  });

  it("publishes a valid sitemap of every page and a robots.txt that points to it", async () => {
    const sitemap = await read("sitemap.xml");
    expect(await xmllint(sitemap)).toEqual([]);
    expect(sitemap).toContain("<loc>https://signal-noise.example/articles/open-silicon-fab/</loc><lastmod>2026-11-24T08:30:00.000Z</lastmod>");
    // Home, archive, topics and feeds; 12 topics, 4 authors, 8 articles; the newsletter's index, its 2 issues and the subscribe page.
    expect(sitemap.match(/<url>/g)).toHaveLength(4 + 12 + 4 + 8 + 4);
    expect(sitemap).toContain("<loc>https://signal-noise.example/issues/2/</loc><lastmod>2026-11-03T08:00:00.000Z</lastmod>");
    expect(sitemap).toContain("<loc>https://signal-noise.example/authors/mei/</loc>");
    expect(sitemap).toContain("<loc>https://signal-noise.example/feeds/</loc>");
    expect(await read("robots.txt")).toContain("Sitemap: https://signal-noise.example/sitemap.xml");
  });

  it("gives the article template the word count, and lists none: a word added to a body changes no list page", async () => {
    const project = await tempProject({ samples: true });
    const template = (name: string) => join(project, "templates/site", name);
    await writeFile(template("article.liquid"), (await readFile(template("article.liquid"), "utf8")).replace("{{ article.reading_minutes }} min read", "{{ article.reading_minutes }} min read · {{ article.word_count }} words"));
    const built = await build({ root: project, now: NOW, out: join(project, "dist"), cacheDir: false });
    expect(built.files.flatMap((f) => f.messages.map(String))).toEqual([]);
    expect(await readFile(join(project, "dist/articles/open-silicon-fab/index.html"), "utf8")).toMatch(/min read · \d{2,} words/);
    await writeFile(template("card.liquid"), `${await readFile(template("card.liquid"), "utf8")}{{ article.word_count }}`);
    const refused = await build({ root: project, now: NOW, out: join(project, "dist"), cacheDir: false });
    expect(refused.files.flatMap((f) => f.messages.map((m) => `${f.path}: ${m.reason}`)).join("\n")).toMatch(/card\.liquid: .*undefined variable: article\.word_count/);
  });

  it("links every byline to the author's page, which lists their articles and offers their feeds", async () => {
    const article = elements(await read("articles/open-silicon-fab/index.html"));
    const byline = article.filter((e) => e.tagName === "a" && attr(e, "href")?.startsWith("/authors/")).map((e) => attr(e, "href"));
    expect(byline).toEqual(["/authors/ada/", "/authors/mei/"]);
    for (const href of byline) await expect(read(`${href?.slice(1)}index.html`)).resolves.toContain("<h1");
    const mei = await read("authors/mei/index.html");
    expect(mei).toContain('<h1 class="page-title">Mei Lin</h1>');
    expect([...mei.matchAll(/<h2 dir="auto"><a href="([^"]+)">/g)].map((m) => m[1])).toEqual(["/articles/open-silicon-fab/", "/articles/rust-in-the-kernel/", "/articles/quantum-error-correction/"]);
    expect(mei).toContain('<link rel="alternate" type="application/atom+xml" title="Signal &amp; Noise: Mei Lin (Atom)" href="/authors/mei/atom.xml">');
    expect(mei).toContain('href="/feeds/#author-mei"');
    // A name written in the front matter, not a key of the config, gets a page too.
    expect(await read("authors/guest-j-muller/index.html")).toContain("Guest: J. Müller");
    // An author's own address, when the config has one, is on their page.
    expect(await read("authors/tomas/index.html")).toContain('href="https://tomas-reyes.example/"');
  });

  it("lists every feed with its full address on the feeds page, where the site's feed links lead", async () => {
    const html = await read("feeds/index.html");
    const addresses = [...html.matchAll(/<code class="feed-url">([^<]+)<\/code>/g)].map((m) => m[1]);
    for (const path of ["feed.xml", "atom.xml", "feed.json", "issues/feed.xml", "issues/feed.json", "tags/chips/atom.xml", "authors/ada/feed.json"]) expect(addresses).toContain(`https://signal-noise.example/${path}`);
    expect(addresses).toHaveLength(3 * (1 + 1 + 12 + 4));
    expect(html).toContain("feed reader");
    for (const path of ["index.html", "articles/open-silicon-fab/index.html", "tags/chips/index.html"]) {
      const visible = elements(await read(path)).filter((e) => e.tagName === "a").map((e) => attr(e, "href") ?? "");
      expect(visible.filter((href) => /\.(xml|json)$/.test(href)), path).toEqual([]);
      expect(visible.some((href) => href.startsWith("/feeds/")), path).toBe(true);
    }
  });

  it("advertises a topic's, an author's and the newsletter's own feeds before the site's, for readers that take the first", async () => {
    const alternates = async (path: string) =>
      elements(await read(path))
        .filter((e) => e.tagName === "link" && attr(e, "rel") === "alternate")
        .map((e) => `${attr(e, "type")} ${attr(e, "href")}`);
    const feedsAt = (prefix: string) => [`application/rss+xml /${prefix}feed.xml`, `application/atom+xml /${prefix}atom.xml`, `application/feed+json /${prefix}feed.json`];
    for (const prefix of ["tags/chips/", "authors/ada/", "issues/"]) expect(await alternates(`${prefix}index.html`), prefix).toEqual([...feedsAt(prefix), ...feedsAt("")]);
    expect(await alternates("index.html")).toEqual(feedsAt(""));
    expect(await read("issues/index.html")).toContain('<link rel="alternate" type="application/rss+xml" title="Signal &amp; Noise Weekly (RSS)" href="/issues/feed.xml">');
  });

  it("escapes text from front matter in pages", async () => {
    const html = await read("articles/chipmakers-r-and-d/index.html");
    expect(html).toContain('<h1 dir="auto">R&amp;D Spending Holds Up as Chipmakers Wait for &lt;Demand&gt; to Return</h1>');
  });
});

describe("topics in other scripts", () => {
  it("get a page and feeds of their own, at addresses in their own letters, percent-encoded in feeds and the sitemap", async () => {
    const dir = await tempProject({ samples: true });
    await put(join(dir, "articles/science-week.md"), "---\ntitle: Science Week\ndate: 2026-11-20\ntags: [Наука, 日本語, Chips]\n---\n\nA week of science in two languages.\n");
    const result = await build({ root: dir, now: NOW, out: join(dir, "dist"), cacheDir: false });
    expect(result.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
    const page = await readFile(join(dir, "dist/articles/science-week/index.html"), "utf8");
    const hrefs = elements(page).filter((e) => e.tagName === "a").map((e) => attr(e, "href"));
    expect(hrefs).toContain("/tags/наука/");
    expect(hrefs).toContain("/tags/日本語/");
    const topic = await readFile(join(dir, "dist/tags/наука/index.html"), "utf8");
    expect(topic).toContain("Science Week");
    const rss = await readFile(join(dir, "dist/tags/日本語/feed.xml"), "utf8");
    expect(rss).toContain("<link>https://signal-noise.example/tags/%E6%97%A5%E6%9C%AC%E8%AA%9E/</link>");
    const sitemap = await readFile(join(dir, "dist/sitemap.xml"), "utf8");
    expect(sitemap).toContain("<loc>https://signal-noise.example/tags/%D0%BD%D0%B0%D1%83%D0%BA%D0%B0/</loc>");
  });
});

describe("a site in a language written right to left", () => {
  it("sets the direction of every page from the site's language: rtl for Arabic, ltr for English", async () => {
    const dir = await tempProject({ samples: true });
    const path = join(dir, "presswork.config.yaml");
    await writeFile(path, (await readFile(path, "utf8")).replace(/^(\s*)language: en\b.*$/m, "$1language: ar"));
    await build({ root: dir, now: NOW, out: join(dir, "dist"), cacheDir: false });
    for (const page of ["index.html", "articles/open-silicon-fab/index.html", "tags/index.html"]) {
      const html = elements(await readFile(join(dir, "dist", page), "utf8")).find((e) => e.tagName === "html") as Element;
      expect([attr(html, "lang"), attr(html, "dir")], page).toEqual(["ar", "rtl"]);
    }
    expect(attr(elements(await read("index.html")).find((e) => e.tagName === "html") as Element, "dir")).toBe("ltr");
  });
});
