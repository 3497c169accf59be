import { describe, expect, it } from "vitest";
import { truncate } from "../../src/markdown/excerpt.js";

describe("truncate", () => {
  it("leaves text that fits as it is", () => {
    expect(truncate("Short enough.", 13)).toBe("Short enough.");
    expect(truncate("", 10)).toBe("");
  });

  it("cuts at the last word boundary that fits, with an ellipsis, within the limit", () => {
    const text = "Three small towns built their own fibre networks in 2023, and the numbers are in.";
    const cut = truncate(text, 40);
    expect(cut).toBe("Three small towns built their own fibre…");
    expect(cut.length).toBeLessThanOrEqual(40);
  });

  it("drops punctuation and spaces left before the ellipsis", () => {
    expect(truncate("Prices fell, speeds rose; outages: fewer. Then more.", 14)).toBe("Prices fell…");
    expect(truncate("One two three. Four five six.", 16)).toBe("One two three…");
  });

  it("cuts inside a word when the last space comes too early to keep most of the text", () => {
    expect(truncate("Supercalifragilisticexpialidocious is long", 12)).toBe("Supercalifr…");
    expect(truncate("A Supercalifragilisticexpialidocious word", 20)).toBe("A Supercalifragilis…");
  });

  it("never exceeds the limit, whatever the text", () => {
    const words = "a bb ccc dddd eeeee, ffffff. ggggggg; hhhhhhhh".split(" ");
    for (let max = 2; max < 60; max++) {
      const text = Array.from({ length: 12 }, (_, i) => words[(i * 5 + max) % words.length]).join(" ");
      expect(truncate(text, max).length, `${max}: ${text}`).toBeLessThanOrEqual(max);
    }
  });
});
