import { afterAll, describe, expect, it } from "vitest";
import { assemble } from "../../src/pipeline/build.js";
import { article, NOW, removeProjects, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

interface Found {
  file: string;
  line: number | undefined;
  column: number | undefined;
  severity: string;
  reason: string;
  rule: string | undefined;
}

async function problems(articles: Record<string, string | Uint8Array>, config?: string): Promise<Found[]> {
  const root = await tempProject({ articles, ...(config ? { config } : {}) });
  const result = await assemble({ root, now: NOW, cacheDir: false, includeUnpublished: true });
  return result.files.flatMap((f) =>
    f.messages.map((m) => ({ file: f.path, line: m.line, column: m.column, severity: m.fatal ? "error" : "warning", reason: m.reason, rule: m.ruleId })),
  );
}

describe("front matter problems are reported with their file, line and column", () => {
  const cases: Array<[name: string, text: string, expected: Partial<Found>]> = [
    ["a date that does not exist", article('title: Hello\ndate: "2026-13-01"'), { line: 3, column: 7, severity: "error", reason: `'date' is "2026-13-01", not a date. Write it as YYYY-MM-DD, or YYYY-MM-DDTHH:MM with an optional offset such as +02:00` }],
    ["the 30th of February", article("title: Hello\ndate: 2026-02-30"), { line: 3, severity: "error", reason: `'date' is "2026-02-30", not a date. Write it as YYYY-MM-DD, or YYYY-MM-DDTHH:MM with an optional offset such as +02:00` }],
    ["a missing title", article("date: 2026-11-01"), { line: 2, severity: "error", reason: "'title' is missing: every article needs a title" }],
    ["a missing date", article("title: Hello"), { severity: "error", reason: "'date' is missing: every article needs a publication date. Add date: YYYY-MM-DD" }],
    ["a title that is a list", article("title: [a, b]\ndate: 2026-11-01"), { line: 2, column: 8, severity: "error", reason: "'title' must be text; put it in quotes" }],
    ["draft that is not a boolean", article("title: Hello\ndate: 2026-11-01\ndraft: maybe"), { line: 4, column: 8, severity: "error", reason: `'draft' is "maybe", must be true or false` }],
    ["an image without alt text", article("title: Hello\ndate: 2026-11-01\nimage: photo.png"), { line: 4, severity: "error", reason: `'image' is "photo.png", needs alt text: write it as image: { src: photo.jpg, alt: What the photo shows }` }],
    ["an image with empty alt text", article('title: Hello\ndate: 2026-11-01\nimage:\n  src: photo.png\n  alt: ""'), { line: 6, column: 8, severity: "error", reason: `'image.alt' is "", must describe the image; it is read aloud to readers who cannot see it` }],
    ["malformed YAML", article("title: Hello: world\ndate: 2026-11-01"), { line: 2, severity: "error", rule: "yaml" }],
    ["an unclosed front matter block", "---\ntitle: Hello\ndate: 2026-11-01\n\nBody\n", { line: 1, severity: "error", reason: "the front matter opened on line 1 is never closed: add a line --- after it" }],
    ["no front matter at all", "# Just a heading\n\nBody\n", { line: 1, severity: "error", rule: "front-matter-missing" }],
    ["an empty file", "", { line: 1, severity: "error", rule: "empty" }],
    ["an unknown key that looks like a typo", article("title: Hello\ndate: 2026-11-01\ntgas: [a]"), { line: 4, column: 1, severity: "warning", reason: "unknown key 'tgas': did you mean 'tags'? It is ignored." }],
    ["'updated' before 'date'", article("title: Hello\ndate: 2026-11-02\nupdated: 2026-11-01"), { line: 4, severity: "error", rule: "front-matter-updated" }],
    ["a slug that is not a slug", article("title: Hello\ndate: 2026-11-01\nslug: Hello World"), { line: 4, column: 7, severity: "error", reason: `'slug' is "Hello World", must be lowercase letters, digits and single hyphens, like my-story` }],
    ["a missing image file", article("title: Hello\ndate: 2026-11-01\nimage: { src: nowhere.png, alt: Nothing }"), { line: 4, severity: "error", rule: "missing-asset" }],
  ];

  it.each(cases)("%s", async (_name, text, expected) => {
    const found = await problems({ "story.md": text });
    expect(found).toContainEqual(expect.objectContaining({ file: "articles/story.md", ...expected }));
  });

  it("reports every problem of every file in one run, not just the first", async () => {
    const found = await problems({
      "a.md": article('title: ""\ndate: 2026-13-40\ndraft: maybe'),
      "b.md": article("title: Fine\ndate: 2026-11-01", "A [link](missing.md) and ![pic](gone.png)"),
      "c.md": "",
    });
    const errors = found.filter((f) => f.severity === "error").map((f) => `${f.file}:${f.line}`);
    expect(errors).toEqual(expect.arrayContaining(["articles/a.md:2", "articles/a.md:3", "articles/a.md:4", "articles/b.md:6", "articles/c.md:1"]));
    expect(found.filter((f) => f.file === "articles/b.md" && f.rule === "broken-link")).toHaveLength(2);
  });
});

describe("links and identity problems", () => {
  it("reports an internal link to nothing at the link's place", async () => {
    const found = await problems({ "a.md": article("title: A\ndate: 2026-11-01", "First line.\n\nSee [the other one](other.md#part) for more.") });
    expect(found).toContainEqual(
      expect.objectContaining({ line: 8, column: 5, severity: "error", rule: "broken-link", reason: "links to other.md#part, but there is no article articles/other.md" }),
    );
  });

  it("reports an image in the body without alt text", async () => {
    const found = await problems({ "a.md": article("title: A\ndate: 2026-11-01", "Text.\n\n![](https://example.org/x.png)\n\n<img src=\"https://example.org/y.png\">") });
    expect(found.filter((f) => f.rule === "image-alt").map((f) => [f.line, f.severity])).toEqual([[8, "error"], [10, "error"]]);
  });

  it("warns about a level-1 heading in the body, which would be a second h1 on the page", async () => {
    const found = await problems({ "a.md": article("title: A\ndate: 2026-11-01", "Intro.\n\n# Not a title\n\nText.") });
    expect(found).toContainEqual(expect.objectContaining({ line: 8, severity: "warning", rule: "heading-order" }));
  });

  it("reports a link to a draft and to an article not yet published", async () => {
    const found = await problems({
      "a.md": article("title: A\ndate: 2026-11-01", "[draft](b.md) and [later](c.md)"),
      "b.md": article("title: B\ndate: 2026-11-01\ndraft: true"),
      "c.md": article("title: C\ndate: 2027-01-01"),
    });
    const reasons = found.filter((f) => f.rule === "broken-link").map((f) => f.reason);
    expect(reasons).toEqual(["links to articles/b.md, which is a draft and will not be published", "links to articles/c.md, which is not published until 2027-01-01T00:00:00.000Z"]);
  });

  it("reports duplicate slugs and duplicate ids, naming the other file", async () => {
    const found = await problems({
      "one.md": article("title: One\ndate: 2026-11-01\nslug: same"),
      "two.md": article("title: Two\ndate: 2026-11-01\nslug: same"),
      "three.md": article("title: Three\ndate: 2026-11-01\nid: tag:x.example,2026:a"),
      "four.md": article("title: Four\ndate: 2026-11-01\nid: tag:x.example,2026:a"),
    });
    expect(found).toContainEqual(expect.objectContaining({ file: "articles/two.md", line: 4, rule: "duplicate-slug", reason: expect.stringContaining("articles/one.md has it too") }));
    expect(found).toContainEqual(expect.objectContaining({ file: "articles/three.md", line: 4, rule: "duplicate-id", reason: expect.stringContaining("articles/four.md has it too") }));
  });
});

describe("bad configuration", () => {
  it("names the config field, its line and what to write", async () => {
    const found = await problems({}, "site:\n  title: X\n  description: Y\n  url: not a url\n  language: en\nauthors: {}\n");
    expect(found).toContainEqual(
      expect.objectContaining({ file: "presswork.config.yaml", line: 4, column: 8, severity: "error", reason: `'site.url' is "not a url", is not an absolute http(s) URL. Write it like https://example.com/` }),
    );
  });

  it("suggests the right key for a misspelt one", async () => {
    const found = await problems({}, "site:\n  title: X\n  description: Y\n  url: https://x.example/\n  langauge: en\nauthors: {}\n");
    expect(found).toContainEqual(expect.objectContaining({ line: 5, severity: "warning", reason: "unknown key 'langauge' in 'site': did you mean 'language'? It is ignored." }));
  });
});
