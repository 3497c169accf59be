import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { attr, elements, type Element } from "../helpers/html.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/pipeline/build.js";
import { xmllint } from "../helpers/feeds.js";
import { NOW, removeProjects, tempProject } from "../helpers/project.js";

let root: string;
const read = (path: string) => readFile(join(root, "dist", path), "utf8");

const meta = (html: string, key: string) => elements(html).find((e) => e.tagName === "meta" && (attr(e, "property") === key || attr(e, "name") === key));

beforeAll(async () => {
  root = await tempProject({ samples: true });
  await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
});
afterAll(removeProjects);

describe("the web archive", () => {
  const pages = ["index.html", "page/2/index.html", "articles/open-silicon-fab/index.html", "tags/chips/index.html", "tags/index.html", "archive/index.html", "404.html"];

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
    expect(html).toContain("<li>Yield on the first wafer was 61 %, better than the team expected.</li>");
    expect(html).not.toContain("<h2>Quick Reads</h2>\n<ul>");
    for (const img of els.filter((e) => e.tagName === "img")) expect(attr(img, "alt"), attr(img, "src")).toBeTruthy();
    expect(html).toContain('href="/articles/rust-in-the-kernel/"');
    expect(await readFile(join(root, "dist/articles/open-silicon-fab/die-shot.png"))).toHaveLength((await readFile(join(root, "articles/open-silicon-fab/die-shot.png"))).length);
  });

  it("lists articles newest first, paginated, with tag pages that offer their own feeds", async () => {
    const home = await read("index.html");
    const titles = [...home.matchAll(/<h2><a href="[^"]+">([^<]+)<\/a><\/h2>/g)].map((m) => m[1]);
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
    // Home, archive, topics; 12 topic pages; 8 articles; the newsletter's index, its 2 issues and the subscribe page.
    expect(sitemap.match(/<url>/g)).toHaveLength(3 + 12 + 8 + 4);
    expect(sitemap).toContain("<loc>https://signal-noise.example/issues/2/</loc><lastmod>2026-11-03T08:00:00.000Z</lastmod>");
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

  it("escapes text from front matter in pages", async () => {
    const html = await read("articles/chipmakers-r-and-d/index.html");
    expect(html).toContain("<h1>R&amp;D Spending Holds Up as Chipmakers Wait for &lt;Demand&gt; to Return</h1>");
  });
});
