import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RenderedBody } from "../../src/markdown/render.js";
import { Packs, type Place } from "../../src/cache/pack.js";
import { RenderCache } from "../../src/cache/renders.js";
import { CacheStore } from "../../src/cache/store.js";

const root = mkdtempSync(join(tmpdir(), "presswork-packs-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const folder = () => join(root, `packs-${n++}`);

describe("the packs of rendered bodies", () => {
  it("read back every text appended, across runs, including text that is not ASCII", () => {
    const dir = folder();
    const first = new Packs(dir);
    const texts = ["<p>one</p>", "<p>Café · naïve — “quoted” 😀</p>", ""];
    const places = texts.map((text) => first.append(text));
    first.close();
    const second = new Packs(dir);
    const later = second.append("<p>a later run</p>");
    second.close();
    const third = new Packs(dir);
    expect(places.map((place) => third.read(place))).toEqual(texts);
    expect(third.read(later)).toBe("<p>a later run</p>");
    expect(readdirSync(dir)).toEqual(["bodies-0.pack"]);
  });

  it("read a text appended in the same run, before the pack is closed", () => {
    const dir = folder();
    const packs = new Packs(dir);
    const places = ["<p>a</p>", "<p>b</p>"].map((text) => packs.append(text));
    expect(packs.read(places[1] as Place)).toBe("<p>b</p>");
    const later = packs.append("<p>c</p>");
    expect(packs.read(later)).toBe("<p>c</p>");
    packs.close();
    expect(statSync(join(dir, "bodies-0.pack")).size).toBe(24);
  });

  it("say so, without throwing, when a place lies outside the packs", () => {
    const dir = folder();
    const packs = new Packs(dir);
    const [generation, offset] = packs.append("<p>short</p>");
    packs.close();
    expect(packs.read([generation, offset, 1000])).toBeUndefined();
    expect(packs.read([7, 0, 4])).toBeUndefined();
  });

  it("copy what is still wanted into a new pack, and remove the old one only when nothing refers to it", () => {
    const dir = folder();
    const packs = new Packs(dir);
    const big = "x".repeat(64 * 1024);
    const places: Place[] = Array.from({ length: 100 }, (_, i) => packs.append(`${i}:${big}`));
    const wanted = places.filter((_, i) => i % 10 === 0);
    const live = wanted.reduce((sum, [, , length]) => sum + length, 0);
    expect(packs.wasteful(live)).toBe(true);
    const moved = packs.compact(wanted);
    expect(moved.map((place) => packs.read(place))).toEqual(wanted.map((_, i) => `${i * 10}:${big}`));
    // Until the new places are recorded, the old ones still read.
    expect(packs.read(places[5] as Place)).toBe(`5:${big}`);
    packs.removeUnused(new Set(moved.map(([generation]) => generation)));
    packs.close();
    expect(readdirSync(dir)).toEqual(["bodies-1.pack"]);
    expect(statSync(join(dir, "bodies-1.pack")).size).toBe(live);
    const next = new Packs(dir);
    expect(next.read(moved[3] as Place)).toBe(`30:${big}`);
    expect(next.wasteful(live)).toBe(false);
  });
});

describe("the render cache over its packs", () => {
  const body = (i: number): RenderedBody => {
    const text = `<p>${i}</p>${"y".repeat(64 * 1024)}`;
    return { excerpt: `${i}`, wordCount: 1, readingMinutes: 1, assets: [], resolved: [], html: { web: text, feed: text, email: text }, digest: `d${i}`, statsDigest: `s${i}`, ids: [`part-${i}`, "café"] };
  };

  /** A run over the render cache in `dir`: what `run` gives back, with the store closed after. */
  const run = <T>(dir: string, use: (cache: RenderCache) => T): T => {
    const store = CacheStore.open(dir);
    try {
      return use(new RenderCache(store));
    } finally {
      store.close();
    }
  };

  it("keeps the HTML of the bodies it got readable after a save that compacted their pack", () => {
    const dir = folder();
    run(dir, (first) => {
      for (let i = 0; i < 60; i++) first.put(`k${i}`, { body: body(i), messages: [] });
      first.save();
    });
    const got = run(dir, (second) => {
      const got = [0, 1, 2].map((i) => second.get(`k${i}`));
      second.save();
      return got;
    });
    expect(readdirSync(join(dir, "bodies")).filter((name) => name.endsWith(".pack"))).toEqual(["bodies-1.pack"]);
    expect(got.map((entry) => entry?.body.html.web.slice(0, 8))).toEqual(["<p>0</p>y", "<p>1</p>y", "<p>2</p>y"].map((s) => s.slice(0, 8)));
    run(dir, (third) => {
      expect(third.get("k2")?.body.html.email).toBe(body(2).html.email);
      expect(third.get("k2")?.body.ids).toEqual(body(2).ids);
      expect(third.get("k2")?.body.excerpt).toBe(body(2).excerpt);
      expect(third.get("k3")).toBeUndefined();
    });
  });

  it("keeps a body's excerpt and Quick Reads in its pack, read on first use, and in the index only the facts a review needs", () => {
    const dir = folder();
    const shown: RenderedBody = {
      ...body(4),
      excerpt: "The opening paragraph, which only the pages that list the article show.",
      keyPoints: ["A point with a link.", "The second."],
      keyPointsHtml: { web: ['A point with <a href="/x/">a link</a>.', "The second."], feed: ['A point with <a href="https://x.example/x/">a link</a>.', "The second."], email: ['A point with <a href="https://x.example/x/">a link</a>.', "The second."] },
    };
    const bare: RenderedBody = { ...body(5), excerpt: "" };
    run(dir, (first) => {
      first.put("shown", { body: shown, messages: [] });
      first.put("bare", { body: bare, messages: [] });
      first.save();
    });
    const index = readFileSync(join(dir, "bodies", "index.journal"), "utf8");
    // Only a placeholder point, which a review must name, is in the index.
    for (const text of [shown.excerpt, "A point with"]) expect(index, text).not.toContain(text);
    run(dir, (second) => {
      const got = second.get("shown")?.body;
      expect([got?.opening, got?.quickReads, got?.placeholderPoints]).toEqual([undefined, true, ["The second."]]);
      expect([got?.excerpt, got?.keyPoints, got?.keyPointsHtml]).toEqual([shown.excerpt, shown.keyPoints, shown.keyPointsHtml]);
      const none = second.get("bare")?.body;
      expect([none?.opening, none?.quickReads, none?.placeholderPoints]).toEqual(["none", undefined, undefined]);
      expect([none?.excerpt, none?.keyPoints, none?.keyPointsHtml]).toEqual(["", undefined, undefined]);
      expect(none?.html.web).toBe(bare.html.web);
      expect(none?.ids).toEqual(bare.ids);
    });
    // A body's excerpt is read from the pack when first asked for, not when the body is taken from the index.
    run(dir, (third) => {
      const got = third.get("shown")?.body;
      for (const pack of readdirSync(join(dir, "bodies")).filter((name) => name.endsWith(".pack"))) rmSync(join(dir, "bodies", pack));
      expect(got?.quickReads).toBe(true);
      expect(() => got?.excerpt).toThrow(/has lost a rendered body/);
    });
  });

  it("renders again a body whose record in the index is not of the shape it writes, rather than fail or read it wrong", () => {
    const dir = folder();
    run(dir, (first) => {
      for (const key of ["kept", "three parts", "no body", "old excerpt"]) first.put(key, { body: body(1), messages: [] });
      first.save();
    });
    // The index as damaged, or as written by code of another layout: [key, record] pairs, one after the other.
    const index = join(dir, "bodies", "index.journal");
    const records = JSON.parse(`[${readFileSync(index, "utf8")}]`) as Array<[string, { body: Record<string, unknown> | null; split: number[] }]>;
    for (const [key, record] of records) {
      if (key === "three parts") record.split = record.split.slice(0, 3);
      if (key === "no body") record.body = null;
      if (key === "old excerpt") record.body = { ...record.body, excerpt: "An opening paragraph." };
    }
    writeFileSync(index, records.map((record) => JSON.stringify(record)).join(","));
    run(dir, (second) => {
      expect(second.get("kept")?.body.excerpt).toBe(body(1).excerpt);
      for (const key of ["three parts", "no body", "old excerpt"]) expect(second.get(key), key).toBeUndefined();
    });
  });

  it("holds no body's HTML: each is read from its pack when asked for, also right after it was put", () => {
    const dir = folder();
    run(dir, (cache) => {
      const put = cache.put("k", { body: body(7), messages: [] });
      // Nothing the body holds is its 64 KB of HTML: that is read from the pack each time it is asked for.
      expect(Object.values(put).some((value) => (JSON.stringify(value) ?? "").includes("y".repeat(1024))), "the HTML is read on use").toBe(false);
      expect(put.html.web).toBe(body(7).html.web);
      expect(put.html).not.toBe(put.html);
      cache.save();
    });
  });

  it("keeps bodies for the run only in a store that keeps nothing, and nothing after", () => {
    const store = CacheStore.open(undefined);
    const cache = new RenderCache(store);
    const put = cache.put("k", { body: body(3), messages: [] });
    cache.save();
    store.close();
    expect(put.html.feed).toBe(body(3).html.feed);
    expect(RenderCache.stored(store)).toBe(false);
    expect(new RenderCache(CacheStore.open(undefined)).get("k")).toBeUndefined();
  });

  it("gives back each body's web, feed and email HTML, whether or not the email's is the feed's, and its ids", () => {
    const dir = folder();
    const plain = body(1);
    const withImage: RenderedBody = { ...body(2), html: { web: '<img src="a.png" loading="lazy">', feed: '<img src="https://x.example/a.png">', email: '<img src="https://x.example/a.png" width="600">' } };
    const noIds: RenderedBody = { ...body(3), ids: [] };
    run(dir, (first) => {
      first.put("plain", { body: plain, messages: [] });
      first.put("image", { body: withImage, messages: [] });
      first.put("no ids", { body: noIds, messages: [] });
      first.save();
    });
    run(dir, (second) => {
      expect(second.get("plain")?.body.html).toEqual(plain.html);
      expect(second.get("image")?.body.html).toEqual(withImage.html);
      expect(second.get("image")?.body.ids).toEqual(["part-2", "café"]);
      expect(second.get("no ids")?.body.ids).toEqual([]);
      expect(second.get("no ids")?.body.html.email).toBe(noIds.html.email);
    });
  });
});
