import { fromHtml } from "hast-util-from-html";
import { describe, expect, it } from "vitest";
import { VFile } from "vfile";
import { elementIds } from "../../src/markdown/links.js";
import { prepareFor, renderBody } from "../../src/markdown/render.js";

/** The ids a body's render records, and those a browser finds in its web HTML. */
async function ids(markdown: string) {
  await prepareFor([markdown]);
  const file = new VFile({ path: "articles/a.md", value: markdown });
  const body = renderBody(file, "articles/a.md", { basePath: "/", siteUrl: "https://news.example/", pageUrl: "https://news.example/articles/a/", bareUrls: true, direction: "ltr", resolve: (_from, url) => ({ kind: "article", sitePath: `articles/${url}/` }) });
  return { recorded: [...body.ids].sort(), read: [...elementIds(fromHtml(body.html.web, { fragment: true }))].sort() };
}

describe("the ids a body's render records, for links to a part of it", () => {
  it("are those of its web HTML: headings, footnotes, raw ids and anchors, and not the Quick Reads lifted out of it", async () => {
    const { recorded, read } = await ids(
      [
        "## Quick Reads",
        "",
        '- A point <span id="in-point">here</span>.',
        "",
        "## The line",
        "",
        "## The line",
        "",
        'Text with a note[^n] and <a name="old-anchor">an anchor</a>, <span id="a&#13;b">a return</span>, <span id="x&#13;&#10;y">both</span>.',
        "",
        "[^n]: The note.",
      ].join("\n"),
    );
    expect(recorded).toEqual(read);
    expect(recorded).toEqual(expect.arrayContaining(["the-line", "the-line-1", "user-content-old-anchor", "user-content-a\nb", "user-content-x\ny"]));
    expect(recorded.some((id) => id.includes("in-point"))).toBe(false);
  });
});
