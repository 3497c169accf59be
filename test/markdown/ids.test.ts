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
  // The article page shows the Quick Reads' HTML above the body's.
  const page = [...(body.keyPointsHtml?.web ?? []), body.html.web].join("\n");
  return { recorded: [...body.ids].sort(), read: [...elementIds(fromHtml(page, { fragment: true }))].sort() };
}

describe("the ids a body's render records, for links to a part of it", () => {
  it("are those of its web HTML and of the Quick Reads its page shows: headings, footnotes, raw ids and anchors; not an empty point's", async () => {
    const { recorded, read } = await ids(
      [
        "## Quick Reads",
        "",
        '- A point <span id="in-point">here</span>.',
        '- <span id="empty-point"></span>',
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
    expect(recorded).toEqual(expect.arrayContaining(["the-line", "the-line-1", "user-content-old-anchor", "user-content-a\nb", "user-content-x\ny", "user-content-in-point"]));
    expect(recorded.some((id) => id.includes("empty-point"))).toBe(false);
  });
});
