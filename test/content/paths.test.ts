import { describe, expect, it } from "vitest";
import { absoluteUrl } from "../../src/content/paths.js";

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
