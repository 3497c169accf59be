import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readContent } from "../../src/content/read.js";
import { SourceIndex } from "../../src/cache/sources.js";
import { CacheStore } from "../../src/cache/store.js";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** A project with one article, dated `age` ms back, and a fresh index over it. */
async function project(age: number): Promise<{ root: string; path: string; cache: string }> {
  const root = await mkdtemp(join(tmpdir(), "presswork-index-"));
  dirs.push(root);
  const path = join(root, "articles/story.md");
  await mkdir(join(root, "articles"));
  await writeFile(path, "---\ntitle: Story\ndate: 2026-11-01\n---\n\nFirst text.\n");
  const then = new Date(Date.now() - age);
  await utimes(path, then, then);
  const cache = join(root, ".presswork-cache");
  const index = new SourceIndex(CacheStore.open(cache));
  readContent(root, index);
  index.save();
  return { root, path, cache };
}

describe("the source index", () => {
  it("lets a source go of its text when released, and reads the file again when asked after", async () => {
    const { root, path } = await project(3_600_000);
    const [source] = readContent(root).sources;
    expect(source?.text).toContain("First text.");
    await writeFile(path, (await readFile(path, "utf8")).replace("First", "Second"));
    expect(source?.text, "still the text read").toContain("First text.");
    source?.release();
    expect(source?.text).toContain("Second text.");
  });

  it("knows an unchanged file without reading it, and reads it when something asks for its text", async () => {
    const { root, path, cache } = await project(3_600_000);
    const before = readContent(root);
    const [source] = readContent(root, new SourceIndex(CacheStore.open(cache))).sources;
    expect(source?.digest).toBe(before.sources[0]?.digest);
    // Not read yet: what it reads is the file as it is when asked.
    await writeFile(path, (await readFile(path, "utf8")).replace("First", "Later"));
    expect(source?.text).toContain("Later text.");
  });

  it("reads a file again after an edit of the same size that put its old modification time back", async () => {
    const { root, path, cache } = await project(3_600_000);
    const { mtime } = await stat(path);
    await writeFile(path, (await readFile(path, "utf8")).replace("First", "Fresh"));
    await utimes(path, mtime, mtime);
    const [source] = readContent(root, new SourceIndex(CacheStore.open(cache))).sources;
    await writeFile(path, "changed after the run read it");
    expect(source?.text, "read during the run").toContain("Fresh text.");
  });

  it("does not trust a file modified just before it was read, which could change again in the same clock tick", async () => {
    const { root, path, cache } = await project(0);
    const [source] = readContent(root, new SourceIndex(CacheStore.open(cache))).sources;
    await writeFile(path, "changed after the run read it");
    expect(source?.text, "read during the run").toContain("First text.");
  });
});
