import { describe, expect, it } from "vitest";
import { absoluteUrl, aliasPath, keptBySite } from "../../src/content/paths.js";

describe("absolute URLs of site paths", () => {
  const bases = ["https://signal-noise.example/", "https://example.org/news/", "https://example.org/news", "HTTPS://Example.ORG/", "https://example.org:443/", "https://example.org/a%20b/"];
  const paths = [
    "",
    "articles/town-fibre/",
    "articles/town-fibre/photo%20one.png",
    "tags/open-source/page/2/",
    "articles/café/",
    "articles/a b/",
    "articles/./x/",
    "articles/../x/",
    "..",
    ".",
    "/articles/x/",
    "//evil.example/x",
    "articles/x?y=1",
    "articles/x#part",
    "articles/x/%zz",
    "articles/.well-known/",
    "articles/x.y/z~w/",
    "feed.xml",
  ];
  it("are what the URL parser gives, for every base and path", () => {
    for (const base of bases) for (const path of paths) expect(absoluteUrl(path, base), `${path} against ${base}`).toBe(new URL(path, base).href);
  });
});

describe("old addresses of an article (aliases)", () => {
  it("are site paths however they are written, on a site at a domain's root or under a path", () => {
    expect(aliasPath("articles/old-name/", "https://signal-noise.example/")).toEqual({ path: "articles/old-name/" });
    expect(aliasPath("/articles/old-name", "https://signal-noise.example/")).toEqual({ path: "articles/old-name/" });
    expect(aliasPath("https://signal-noise.example/2019/05/launch.html", "https://signal-noise.example/")).toEqual({ path: "2019/05/launch.html" });
    expect(aliasPath("articles/caf%C3%A9/", "https://signal-noise.example/")).toEqual({ path: "articles/café/" });
    // Under a path, a relative address is the site's; one from the domain's root must hold the site's path.
    expect(aliasPath("articles/old-name/", "https://example.org/news/")).toEqual({ path: "articles/old-name/" });
    expect(aliasPath("/news/articles/old-name/", "https://example.org/news/")).toEqual({ path: "articles/old-name/" });
    expect(aliasPath("/articles/old-name/", "https://example.org/news/")).toEqual({ problem: "is not an address on this site, whose pages are under https://example.org/news/" });
    expect(aliasPath("../elsewhere/", "https://example.org/news/")).toEqual({ problem: "is not an address on this site, whose pages are under https://example.org/news/" });
  });

  it("are never the home page, an address with a query, or a file a static host would not serve as a page", () => {
    expect(aliasPath("/", "https://signal-noise.example/")).toEqual({ problem: "is the home page" });
    expect(aliasPath("index.html", "https://signal-noise.example/")).toEqual({ problem: "is the home page" });
    expect("problem" in aliasPath("articles/x?page=2", "https://signal-noise.example/")).toBe(true);
    expect("problem" in aliasPath("articles/x/#part", "https://signal-noise.example/")).toBe(true);
    expect("problem" in aliasPath("feeds/old.php", "https://signal-noise.example/")).toBe(true);
    expect("problem" in aliasPath("articles/%E0%A4%A/", "https://signal-noise.example/")).toBe(true);
  });
});

describe("where the site keeps pages of its own", () => {
  it("takes in every address it may write, and leaves old addresses under its one-page folders to aliases", () => {
    for (const path of ["tags/chips/", "authors/mei/page/2/", "issues/next/", "issues/40/", "page/2/", "feeds/archive/3/", "archive/", "feeds/", "subscribe/", "feed.xml", "feed.xml/", "index.html", "sitemap.xml"]) expect(keptBySite(path), path).toBe(true);
    for (const path of ["archive/2019/05/launch.html", "page/about/", "feeds/old/", "subscribe/thanks-old/", "2019/05/launch.html", "articles/old-name/"]) expect(keptBySite(path), path).toBe(false);
  });
});
