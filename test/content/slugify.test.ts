import { describe, expect, it } from "vitest";
import { slugify, tagSlug } from "../../src/content/article.js";

describe("slugify", () => {
  it("lower-cases words and joins them with single hyphens", () => {
    expect(slugify("A Community Fab Tapes Out Its First Chip")).toBe("a-community-fab-tapes-out-its-first-chip");
    expect(slugify("  Spaces   and\ttabs  ")).toBe("spaces-and-tabs");
    expect(slugify("Ten\u00a0years of fibre")).toBe("ten-years-of-fibre");
    expect(slugify("Already-a-slug")).toBe("already-a-slug");
  });

  it("spells out the signs that carry meaning in tech names", () => {
    expect(slugify("C++ and C#")).toBe("c-plus-plus-and-c-sharp");
    expect(slugify("R&D")).toBe("r-and-d");
  });

  it("drops accents and everything outside ASCII letters, digits and hyphens", () => {
    expect(slugify("Café naïve façade")).toBe("cafe-naive-facade");
    expect(slugify("Tomás Reyes")).toBe("tomas-reyes");
    expect(slugify("Quantum: what's next? (2027)")).toBe("quantum-whats-next-2027");
    expect(slugify("東京 Tokyo 2026")).toBe("tokyo-2026");
    expect(slugify("Emoji 🚀 launch")).toBe("emoji-launch");
  });

  it("never starts or ends with a hyphen, and gives nothing for text without a letter or digit to keep", () => {
    expect(slugify("-- Hyphens --")).toBe("hyphens");
    expect(slugify("!!!")).toBe("");
    expect(slugify("東京")).toBe("");
  });

  it("gives only URL-safe slugs", () => {
    for (const text of ["Ünïcödé", "a/b\\c", "50% off", "x.y_z", "new\nline", "AI & ML: 2027's chips"]) expect(slugify(text), text).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$|^$/);
  });
});

describe("tagSlug", () => {
  it("is slugify's for a topic in Latin letters", () => {
    for (const name of ["Open Source", "R&D", "Café", "C++"]) expect(tagSlug(name), name).toBe(slugify(name));
  });

  it("keeps the letters, marks and digits of another script, composed and lower-cased, parted by hyphens", () => {
    expect(tagSlug("Наука")).toBe("наука");
    expect(tagSlug("Наука 2026")).toBe("наука-2026");
    expect(tagSlug("Ελληνικά")).toBe("ελληνικά");
    expect(tagSlug("Ελληνικά".normalize("NFD"))).toBe("ελληνικά");
    // Letters of their own, not a letter with an accent: Йога is not Иога, nor Їжак Іжак.
    expect(tagSlug("Йога")).toBe("йога");
    expect(tagSlug("Їжак")).toBe("їжак");
    expect(tagSlug("ガジェット")).toBe("ガジェット");
    expect(tagSlug("日本語")).toBe("日本語");
    expect(tagSlug("東京 Tokyo")).toBe("東京-tokyo");
    expect(tagSlug("हिन्दी")).toBe("हिन्दी");
    expect(tagSlug("Наука: что дальше?")).toBe("наука-что-дальше");
  });

  it("cuts a long one by characters, never inside one", () => {
    const slug = tagSlug("語".repeat(200));
    expect(Array.from(slug).length).toBeLessThanOrEqual(80);
    expect(slug).toMatch(/^語+-[0-9a-f]{8}$/);
  });
});
