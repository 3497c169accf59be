import { describe, expect, it } from "vitest";
import { articleProcessor } from "../../src/markdown/processor.js";

/** The key points a body's Quick Reads section gives, processed as an article's body is. */
const pointsOf = (markdown: string) => (articleProcessor({ bareUrls: true }).processSync(markdown).data as { keyPoints?: string[] }).keyPoints;

describe("a Quick Reads section's points", () => {
  it("keep a nested list's items apart, each point on one line", () => {
    expect(pointsOf("## Quick Reads\n\n- First point:\n  - detail one\n  - detail two\n- Second point.\n\n      code\n\nBody.")).toEqual(["First point: detail one; detail two", "Second point. code"]);
  });

  it("leave out the tags of inline HTML, keeping its words", () => {
    expect(pointsOf('## Key points\n\n- A <abbr title="value-added tax">VAT</abbr> cut, from <b>May</b>.\n\nBody.')).toEqual(["A VAT cut, from May."]);
  });

  it("are read only from a section that opens the body", () => {
    expect(pointsOf("Body first.\n\n## Quick Reads\n\n- A point.")).toBeUndefined();
  });
});
