import { VFile } from "vfile";
import { describe, expect, it } from "vitest";
import { prepareFor, renderBody } from "../../src/markdown/render.js";
import { checkSiteLinks, makeResolver, type LinkTarget } from "../../src/pipeline/resolve.js";

const NOW = Date.parse("2026-11-29T12:00:00Z");
const articles: LinkTarget[] = [
  { path: "articles/town-fibre.md", slug: "town-fibre", draft: false, published: Date.parse("2026-11-05T00:00:00Z") },
  { path: "articles/open-fab/index.md", slug: "open-silicon-fab", draft: false, published: Date.parse("2026-11-24T08:30:00Z") },
  { path: "articles/secret.md", slug: "secret", draft: true, published: Date.parse("2026-11-01T00:00:00Z") },
  { path: "articles/later.md", slug: "later", draft: false, published: Date.parse("2026-12-24T09:00:00Z") },
];
const assets = new Set(["articles/open-fab/report.pdf", "articles/open-fab/wafer.png", "articles/open-fab/photo one.png", "articles/shared/logo.png"]);
const resolve = makeResolver(articles, assets, NOW);

describe("makeResolver", () => {
  it("leads a link to another article's file to its page, by the slug, not the file name", () => {
    expect(resolve("articles/open-fab/index.md", "../town-fibre.md")).toEqual({ kind: "article", sitePath: "articles/town-fibre/" });
    expect(resolve("articles/town-fibre.md", "open-fab/index.md")).toEqual({ kind: "article", sitePath: "articles/open-silicon-fab/" });
    expect(resolve("articles/town-fibre.md", "open-fab/")).toEqual({ kind: "article", sitePath: "articles/open-silicon-fab/" });
    expect(resolve("articles/town-fibre.md", "open-fab")).toEqual({ kind: "article", sitePath: "articles/open-silicon-fab/" });
  });

  it("leads a folder-style link to a file article (other/ for other.md), and a link from the project's root (/articles/other.md, as GitHub shows it) to the article", () => {
    expect(resolve("articles/open-fab/index.md", "../town-fibre/")).toEqual({ kind: "article", sitePath: "articles/town-fibre/" });
    expect(resolve("articles/open-fab/index.md", "/articles/town-fibre.md#prices")).toEqual({ kind: "article", sitePath: "articles/town-fibre/#prices" });
    expect(resolve("articles/town-fibre.md", "/articles/open-fab/index.md")).toEqual({ kind: "article", sitePath: "articles/open-silicon-fab/" });
    expect(resolve("articles/town-fibre.md", "/articles/gone.md")).toEqual({ kind: "error", reason: "links to /articles/gone.md, but there is no article articles/gone.md" });
  });

  it("names the article a link to a file that is not there means, when one article has that name", () => {
    expect(resolve("articles/open-fab/index.md", "town-fibre.md")).toEqual({ kind: "error", reason: "links to town-fibre.md, but there is no article articles/open-fab/town-fibre.md: did you mean ../town-fibre.md?" });
    expect(resolve("articles/town-fibre.md", "../open-fab.md")).toEqual({ kind: "error", reason: "links to ../open-fab.md, but there is no article open-fab.md: did you mean open-fab/index.md?" });
  });

  it("keeps the fragment, drops the query", () => {
    expect(resolve("articles/town-fibre.md", "open-fab/index.md#the-first-wafer")).toEqual({ kind: "article", sitePath: "articles/open-silicon-fab/#the-first-wafer" });
    expect(resolve("articles/open-fab/index.md", "../town-fibre.md?ref=x#prices")).toEqual({ kind: "article", sitePath: "articles/town-fibre/#prices" });
  });

  it("refuses links to drafts, to articles not yet published at the build's time, and to articles that do not exist", () => {
    expect(resolve("articles/town-fibre.md", "secret.md")).toEqual({ kind: "error", reason: "links to articles/secret.md, which is a draft and will not be published" });
    expect(resolve("articles/town-fibre.md", "later.md")).toEqual({ kind: "error", reason: "links to articles/later.md, which is not published until 2026-12-24 09:00 UTC: readers would find nothing there until then. Link to it once it is out" });
    expect(makeResolver(articles, assets, Date.parse("2026-12-25T00:00:00Z"))("articles/town-fibre.md", "later.md")).toEqual({ kind: "article", sitePath: "articles/later/" });
    expect(resolve("articles/town-fibre.md", "gone.md")).toEqual({ kind: "error", reason: "links to gone.md, but there is no article articles/gone.md" });
    expect(resolve("articles/town-fibre.md", "_drafts/sequel.md")).toEqual({ kind: "error", reason: "links to _drafts/sequel.md, but there is no article articles/_drafts/sequel.md: a file or folder whose name starts with _ holds no article" });
  });

  it("publishes a file next to its article beside the article's page, its name encoded", () => {
    expect(resolve("articles/open-fab/index.md", "wafer.png")).toEqual({ kind: "asset", sitePath: "articles/open-silicon-fab/wafer.png", source: "articles/open-fab/wafer.png" });
    expect(resolve("articles/open-fab/index.md", "photo%20one.png")).toEqual({ kind: "asset", sitePath: "articles/open-silicon-fab/photo%20one.png", source: "articles/open-fab/photo one.png" });
  });

  it("refuses files outside the article's folder, and files that do not exist", () => {
    expect(resolve("articles/open-fab/index.md", "../shared/logo.png")).toEqual({ kind: "error", reason: "links to articles/shared/logo.png, outside the article's folder: move the file next to the article" });
    expect(resolve("articles/open-fab/index.md", "missing.png")).toEqual({ kind: "error", reason: "links to missing.png, but there is no file articles/open-fab/missing.png" });
  });

  it("names the file a link means in other letters, which a Mac's disk finds and a web server does not", () => {
    expect(resolve("articles/open-fab/index.md", "Wafer.PNG")).toEqual({ kind: "error", reason: "links to Wafer.PNG, but there is no file articles/open-fab/Wafer.PNG: the file is named wafer.png, and a web server tells names apart by case" });
    expect(resolve("articles/town-fibre.md", "shared/LOGO.png")).toEqual({ kind: "error", reason: "links to shared/LOGO.png, but there is no file articles/shared/LOGO.png: the file is named shared/logo.png, and a web server tells names apart by case" });
  });
});

describe("links in a rendered body", () => {
  /** The body of an article at `path`, whose page is at `page` on https://news.example/, as a build renders it; with its messages. */
  const rendered = async (path: string, page: string, markdown: string) => {
    await prepareFor([markdown]);
    const file = new VFile({ path, value: markdown });
    const body = renderBody(file, path, { basePath: "/", siteUrl: "https://news.example/", pageUrl: `https://news.example/${page}`, bareUrls: true, direction: "ltr", resolve });
    return { body, messages: file.messages.map(String) };
  };

  it("lead a link from the project's root to an article's file to its page, in every serialisation; any other site path stays as written", async () => {
    const { body, messages } = await rendered("articles/later.md", "articles/later/", "See [the fibre story](/articles/town-fibre.md#prices), [the fab](/articles/open-fab/index.md), [about us](/about/) and [the guide](/README.md).");
    expect(messages).toEqual([]);
    // A .md path outside articles/ may be a page of a larger site the archive is part of: it stays as written.
    expect(body.html.web).toContain('<a href="/articles/town-fibre/#prices">the fibre story</a>, <a href="/articles/open-silicon-fab/">the fab</a>, <a href="/about/">about us</a> and <a href="/README.md">the guide</a>');
    expect(body.html.feed).toContain('<a href="https://news.example/articles/town-fibre/#prices">the fibre story</a>');
  });

  it("keep what follows a file's name in a link to it: a PDF's page, a query; a query alone is the page's", async () => {
    const { body, messages } = await rendered("articles/open-fab/index.md", "articles/open-silicon-fab/", "Read [page 2](report.pdf#page=2) or [download it](report.pdf?download=1).");
    expect(messages).toEqual([]);
    expect(body.html.web).toContain('<a href="/articles/open-silicon-fab/report.pdf#page=2">page 2</a> or <a href="/articles/open-silicon-fab/report.pdf?download=1">download it</a>');
    expect(body.html.feed).toContain('<a href="https://news.example/articles/open-silicon-fab/report.pdf#page=2">page 2</a>');
    // The file is copied by its name alone.
    expect(new Set(body.assets.map(([, sitePath]) => sitePath))).toEqual(new Set(["articles/open-silicon-fab/report.pdf"]));
    // A query alone is the page's, as a fragment is: in a feed, the page's address with it.
    const paged = (await rendered("articles/open-fab/index.md", "articles/open-silicon-fab/", "[Page two](?page=2).")).body;
    expect(paged.html.web).toContain('<a href="?page=2">Page two</a>');
    expect(paged.html.feed).toContain('<a href="https://news.example/articles/open-silicon-fab/?page=2">Page two</a>');
  });
});

describe("checkSiteLinks", () => {
  it("reads a site-root link under the site's path, as the page writes it, and the site's own URL as the page it names", () => {
    const file = new VFile({ path: "articles/a.md" });
    const siteLinks: Array<[string, number, number, boolean]> = [
      ["/tags/chips/", 3, 1, false],
      ["/tags/nope/", 4, 1, false],
      ["/news/tags/chips/", 5, 1, false],
      ["https://example.com/news/articles/gone/", 6, 1, false],
      ["https://example.com/news/feed.xml?x=1", 7, 1, false],
      ["/wp-content/old.jpg", 8, 1, true],
    ];
    const made = new Set(["tags/chips/index.html", "feed.xml"]);
    checkSiteLinks([{ source: { file }, body: { siteLinks } as never }], (path) => made.has(path), "https://example.com/news/");
    expect(file.messages.map((m) => `${m.line} ${m.reason}`)).toEqual([
      "4 links to /tags/nope/, where the site has no page: readers find nothing there. Link to an article by its file (other.md), or to a page the site has",
      "5 links to /news/tags/chips/, where the site has no page: readers find nothing there. Link to an article by its file (other.md), or to a page the site has",
      "6 links to https://example.com/news/articles/gone/, where the site has no page: readers find nothing there. Link to an article by its file (other.md), or to a page the site has",
      "8 shows /wp-content/old.jpg, which the site does not have: readers see no picture. Save the picture next to the article and write its file name",
    ]);
  });
});
