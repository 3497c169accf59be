import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Journal } from "../../src/cache/journal.js";
import { WarmFiles } from "../../src/cache/warm.js";
import { writeFileAtomic } from "../../src/files/atomic.js";

const dir = mkdtempSync(join(tmpdir(), "presswork-journal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One run over the journal at `path`: keeps the entries `run` gives, as a build keeps what it used. */
function run(path: string, entries: Record<string, unknown>, warm?: WarmFiles): { dropped: string[]; recalled: Record<string, unknown> } {
  const journal = new Journal<unknown>(path, warm);
  const recalled: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entries)) {
    const last = journal.recall(key);
    if (last !== undefined) recalled[key] = last;
    journal.keep(key, JSON.stringify(last) === JSON.stringify(value) ? last : value);
  }
  return { dropped: journal.save(), recalled };
}

describe("the cache journal", () => {
  const many = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`articles/story-${i}.md`, { digest: `d${i}`, words: i }]));

  it("appends only what a run changed and reads back the last value of each key", () => {
    const path = join(dir, "append.journal");
    run(path, many);
    const whole = statSync(path).size;
    const { recalled } = run(path, { ...many, "articles/story-7.md": { digest: "edited", words: 7 } });
    expect(recalled["articles/story-7.md"]).toEqual({ digest: "d7", words: 7 });
    const grown = statSync(path).size - whole;
    expect(grown).toBeGreaterThan(0);
    expect(grown).toBeLessThan(100);
    expect(run(path, many).recalled["articles/story-7.md"]).toEqual({ digest: "edited", words: 7 });
    expect(run(path, many).recalled["articles/story-7.md"]).toEqual({ digest: "d7", words: 7 });
  });

  it("keeps text beyond ASCII exactly, in a file that is ASCII whatever it holds", () => {
    const path = join(dir, "unicode.journal");
    const entries = { "articles/café.md": { title: "Café · naïve — “quoted” 😀 東京" }, "articles/plain.md": { title: "plain" } };
    run(path, entries);
    run(path, { ...entries, "articles/plain.md": { title: "Ünïcödé appended" } });
    expect(readFileSync(path).every((byte) => byte < 0x80)).toBe(true);
    expect(run(path, entries).recalled).toEqual({ "articles/café.md": { title: "Café · naïve — “quoted” 😀 東京" }, "articles/plain.md": { title: "Ünïcödé appended" } });
  });

  it("drops what a run did not use, and says which keys it dropped", () => {
    const path = join(dir, "drop.journal");
    run(path, { a: 1, b: 2, c: 3 });
    expect(run(path, { a: 1, c: 3 }).dropped).toEqual(["b"]);
    expect(run(path, { a: 1, b: 2, c: 3 }).recalled).toEqual({ a: 1, c: 3 });
  });

  it("rewrites itself whole once a quarter of it is history, so it never grows without end", () => {
    const path = join(dir, "compact.journal");
    run(path, many);
    const whole = statSync(path).size;
    let largest = 0;
    for (let i = 0; i < 600; i++) {
      run(path, { ...many, "articles/story-1.md": { digest: `edit-${i}`, words: 1 } });
      largest = Math.max(largest, statSync(path).size);
    }
    expect(largest).toBeLessThan(1.5 * whole);
    expect(run(path, many).recalled["articles/story-1.md"]).toEqual({ digest: "edit-599", words: 1 });
    const everyOneChanged = Object.fromEntries(Object.entries(many).map(([key, value]) => [key, { ...value, digest: `${value.digest}-new` }]));
    run(path, everyOneChanged);
    expect(statSync(path).size).toBeLessThan(1.1 * whole);
  });

  it("in a process that keeps it warm, is taken from memory while the file is as this process left it, and read again once another process changed it", () => {
    const path = join(dir, "warm.journal");
    const warm = new WarmFiles();
    const first = { a: { n: 1 }, b: { n: 2 } };
    run(path, first, warm);
    // The very values the last run kept: nothing was read or parsed again.
    expect(run(path, { a: { n: 1 }, b: { n: 2 } }, warm).recalled["a"]).toBe(first.a);
    // A run that changed an entry appended it, and the next run has the new value from memory.
    const third = { a: { n: 1 }, b: { n: 3 } };
    run(path, third, warm);
    expect(run(path, { a: { n: 1 }, b: { n: 3 } }, warm).recalled["b"]).toBe(third.b);
    // Another process appends to the journal; then replaces it with a file of the same size; then removes it.
    appendFileSync(path, ',["b",{"n":4}]');
    expect(run(path, { a: { n: 1 }, b: { n: 4 } }, warm).recalled).toEqual({ a: { n: 1 }, b: { n: 4 } });
    const sameSize = readFileSync(path, "latin1").replace('"n":4', '"n":5');
    writeFileAtomic(path, sameSize);
    expect(statSync(path).size).toBe(sameSize.length);
    expect(run(path, { a: { n: 1 }, b: { n: 5 } }, warm).recalled).toEqual({ a: { n: 1 }, b: { n: 5 } });
    rmSync(path);
    expect(run(path, { a: { n: 1 } }, warm).recalled).toEqual({});
  });

  it("in a process that keeps it warm, leaves memory to the file when another process appends between this run's read and its own append", () => {
    const path = join(dir, "raced.journal");
    const warm = new WarmFiles();
    run(path, many, warm);
    const journal = new Journal<unknown>(path, warm);
    for (const key of Object.keys(many)) journal.keep(key, journal.recall(key));
    appendFileSync(path, ',["articles/story-1.md",{"digest":"theirs","words":1}]');
    journal.keep("articles/story-2.md", { digest: "mine", words: 2 });
    journal.save();
    const { recalled } = run(path, many, warm);
    expect(recalled["articles/story-1.md"]).toEqual({ digest: "theirs", words: 1 });
    expect(recalled["articles/story-2.md"]).toEqual({ digest: "mine", words: 2 });
  });

  it("in a process that keeps it warm, still rewrites itself whole once a quarter of it is history", () => {
    const path = join(dir, "warm-compact.journal");
    const warm = new WarmFiles();
    run(path, many, warm);
    const whole = statSync(path).size;
    let largest = 0;
    for (let i = 0; i < 600; i++) {
      run(path, { ...many, "articles/story-1.md": { digest: `edit-${i}`, words: 1 } }, warm);
      largest = Math.max(largest, statSync(path).size);
    }
    expect(largest).toBeLessThan(1.5 * whole);
    expect(run(path, many).recalled["articles/story-1.md"]).toEqual({ digest: "edit-599", words: 1 });
  });

  it("starts afresh, without an error, from a torn append or a file that is not a journal", () => {
    const path = join(dir, "torn.journal");
    run(path, { a: 1 });
    appendFileSync(path, ',["b",{"half');
    expect(run(path, { a: 1 }).recalled).toEqual({});
    expect(JSON.parse(`[${readFileSync(path, "utf8")}]`)).toEqual([["a", 1]]);
    appendFileSync(path, "\0\0\0");
    expect(run(path, { a: 1 }).recalled).toEqual({});
  });
});
