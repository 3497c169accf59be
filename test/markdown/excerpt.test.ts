import { describe, expect, it } from "vitest";
import { bodyStats } from "../../src/markdown/excerpt.js";
import { articleProcessor } from "../../src/markdown/processor.js";

/** The summary of a body, parsed as an article's is. */
const excerptOf = (markdown: string) => bodyStats(articleProcessor({ bareUrls: true, direction: "ltr" }).parse(markdown)).excerpt;

describe("the summary made from an article's body", () => {
  it("is the first paragraph's text, without the tags of inline HTML", () => {
    expect(excerptOf('The <abbr title="National Aeronautics and Space Administration">NASA</abbr> budget rose <sup>1</sup> again.\n\nSecond.')).toBe("The NASA budget rose ¹ again.");
  });

  it("writes raised and lowered text as plain text can, where dropping the tags changes the meaning", () => {
    expect(excerptOf("The chip runs at 2<sup>10</sup> Hz, makes H<sub>2</sub>O, and scales as n<sup>2</sup> or x<sup>a</sup>.")).toBe("The chip runs at 2¹⁰ Hz, makes H₂O, and scales as n² or x^a.");
  });

  it("skips a paragraph that is only a picture, rather than making its alt text the summary", () => {
    expect(excerptOf("![A wide shot of the harbour at dawn](harbour.png)\n\nThe port reopened on Monday.")).toBe("The port reopened on Monday.");
  });

  it("keeps the words of links and emphasis, in one line", () => {
    expect(excerptOf("Three *small* towns built [their own](https://example.org/)\nfibre networks.")).toBe("Three small towns built their own fibre networks.");
  });
});
