import { describe, expect, it } from "vitest";
import { VFile } from "vfile";
import { prepareFor, renderBody } from "../../src/markdown/render.js";

/** An article body rendered as the build renders one at https://news.example/articles/a/, its local links resolved to articles. */
async function render(markdown: string, { keyPointsUnread = false } = {}) {
  await prepareFor([markdown]);
  const file = new VFile({ path: "articles/a.md", value: markdown, data: { keyPointsUnread } });
  const body = renderBody(file, "articles/a.md", {
    basePath: "/",
    siteUrl: "https://news.example/",
    pageUrl: "https://news.example/articles/a/",
    bareUrls: true,
    direction: "ltr",
    resolve: (_from, url) => (url === "gone.md" ? { kind: "error", reason: "links to articles/gone.md, which does not exist" } : { kind: "article", sitePath: `articles/${url.replace(/\.md$/, "")}/` }),
  });
  return { body, messages: file.messages.map(String) };
}

describe("a Quick Reads section's points", () => {
  it("keep a nested list's items apart, each point on one line", async () => {
    const { body } = await render("## Quick Reads\n\n- First point:\n  - detail one\n  - detail two\n- Second point.\n\n      code\n\nBody.");
    expect(body.keyPoints).toEqual(["First point: detail one; detail two", "Second point. code"]);
    expect(body.keyPointsHtml?.web).toEqual(["First point: <ul>\n<li>detail one</li>\n<li>detail two</li>\n</ul>", "Second point. <pre tabindex=\"0\"><code>code\n</code></pre>"]);
    // Points of plain text keep no HTML: they are shown as their text.
    expect((await render("## Quick Reads\n\n- One & two.\n- Three.\n\nBody.")).body.keyPointsHtml).toBeUndefined();
  });

  it("leave out the tags of inline HTML in their text, keeping its words", async () => {
    const { body } = await render('## Key points\n\n- A <abbr title="value-added tax">VAT</abbr> cut, from <b>May</b>.\n\nBody.');
    expect(body.keyPoints).toEqual(["A VAT cut, from May."]);
    expect(body.keyPointsHtml?.web).toEqual(['A <abbr title="value-added tax">VAT</abbr> cut, from <b>May</b>.']);
  });

  it("are read only from a section that opens the body", async () => {
    const { body } = await render("Body first.\n\n## Quick Reads\n\n- A point.");
    expect(body.keyPoints).toBeUndefined();
    expect(body.html.web).toContain("<li>A point.</li>");
  });

  it("keep their links as HTML: local ones from the site's root on the web, absolute in feeds and email, a part of the article by its page, and the heading is not in the body", async () => {
    const { body } = await render("## Quick Reads\n\n- See [the ruling](https://court.example/r) and [more](b.md).\n\n- A second paragraph point.\n\n  Its [detail](#details).\n\n## Details\n\nBody.");
    expect(body.keyPointsHtml).toEqual({
      web: ['See <a href="https://court.example/r">the ruling</a> and <a href="/articles/b/">more</a>.', 'A second paragraph point. Its <a href="/articles/a/#details">detail</a>.'],
      feed: ['See <a href="https://court.example/r">the ruling</a> and <a href="https://news.example/articles/b/">more</a>.', 'A second paragraph point. Its <a href="https://news.example/articles/a/#details">detail</a>.'],
      email: ['See <a href="https://court.example/r">the ruling</a> and <a href="https://news.example/articles/b/">more</a>.', 'A second paragraph point. Its <a href="https://news.example/articles/a/#details">detail</a>.'],
    });
    expect(body.html.web).not.toContain("Quick Reads");
    expect(body.html.web).toContain('<h2 id="details">Details</h2>');
  });

  it("are cleaned one by one: a tag one leaves open or closes wrongly changes no other (one whose words it would split shows as its text), and a later one's links are still checked", async () => {
    const { body, messages } = await render("## Quick Reads\n\n- A <em>unclosed em\n- Two [x](https://x.example/)\n- A stray </li></ul> end\n- Four [gone](gone.md)\n\nBody.");
    expect(body.keyPointsHtml?.web).toEqual(["A <em>unclosed em</em>", 'Two <a href="https://x.example/">x</a>', "A stray end", 'Four <a href="gone.md">gone</a>']);
    expect(messages).toEqual([expect.stringContaining("links to articles/gone.md, which does not exist")]);
  });

  it("cannot take in the body with an unclosed tag, nor carry what the body could not", async () => {
    const { body, messages } = await render("## Quick Reads\n\n- A <div>point <script>alert(1)</script> left open\n\nParagraph after.");
    expect(body.keyPointsHtml?.web).toEqual(["A <div>point  left open</div>"]);
    expect(body.html.web).toBe("<p>Paragraph after.</p>");
    expect(messages.join("\n")).toContain("script");
  });

  it("leave the body's footnotes as the body has them: a note a point refers to is no note of the body", async () => {
    const markdown = "## Quick Reads\n\n- A point with a note[^only].\n\nThe body, with its own note[^b].\n\n[^only]: Only referenced from the section.\n\n[^b]: The body's note.";
    for (const unread of [false, true]) {
      const { body } = await render(markdown, { keyPointsUnread: unread });
      expect(body.html.web, `unread: ${unread}`).not.toContain("Only referenced from the section");
      expect(body.html.web, `unread: ${unread}`).toMatch(/note<sup><a href="#user-content-fn-b"[^>]*>1<\/a><\/sup>/);
    }
    // Without its note's mark, the point is plain text: the render keeps no HTML for it.
    expect((await render(markdown)).body).toMatchObject({ keyPoints: ["A point with a note."] });
    expect((await render(markdown)).body.keyPointsHtml).toBeUndefined();
    // The front matter's points stand for the section: it is read for nothing but the warning that it is there twice.
    const unread = (await render(markdown, { keyPointsUnread: true })).body;
    expect(unread.keyPoints).toEqual(["A point with a note."]);
    expect(unread.keyPointsHtml).toBeUndefined();
  });
});
