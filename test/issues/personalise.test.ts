import { describe, expect, it } from "vitest";
import { personalise, splitTokens } from "../../src/issues/tokens.js";

describe("splitTokens", () => {
  it("gives the text alone when it has no token", () => {
    expect(splitTokens("<p>Hello</p>")).toEqual({ statics: ["<p>Hello</p>"], slots: [] });
    expect(splitTokens("")).toEqual({ statics: [""], slots: [] });
  });

  it("splits at every token, at the start, the end and side by side, with one more piece than tokens", () => {
    expect(splitTokens("%%name%%, read <a href=\"%%unsubscribe_url%%\">this</a>%%name%%%%name%%")).toEqual({
      statics: ["", ', read <a href="', '">this</a>', "", ""],
      slots: ["name", "unsubscribe_url", "name", "name"],
    });
  });

  it("leaves percent signs that make no token alone", () => {
    expect(splitTokens("50%% off, 100% sure, %%NAME%% %% name %%")).toEqual({ statics: ["50%% off, 100% sure, %%NAME%% %% name %%"], slots: [] });
  });

  it("refuses a token it has no value for, naming it", () => {
    expect(() => splitTokens("Hi %%nickname%%")).toThrow(/%%nickname%%/);
  });

  it("puts the pieces back together around the values", () => {
    const text = "Dear %%name%%: <a href=\"%%unsubscribe_url%%\">leave</a>";
    const { statics, slots } = splitTokens(text);
    const values = { name: "Ada", greeting: "Hi Ada,", unsubscribe_url: "https://x.example/u?t=1&l=2" };
    expect(statics.map((piece, i) => piece + (i < slots.length ? values[slots[i] as keyof typeof values] : "")).join("")).toBe(personalise(text, values, "text"));
    expect(personalise(text, values, "html")).toBe('Dear Ada: <a href="https://x.example/u?t=1&amp;l=2">leave</a>');
  });
});
