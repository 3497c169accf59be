import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { cacheKey, digest, environmentDigest } from "../../src/cache/key.js";
import { CacheStore } from "../../src/cache/store.js";
import { article, removeProjects, REPO, tempProject } from "../helpers/project.js";

const dirs: string[] = [];
afterAll(() => Promise.all([removeProjects(), ...dirs.map((dir) => rm(dir, { recursive: true, force: true }))]));
const folder = async () => {
  const dir = await mkdtemp(join(tmpdir(), "presswork-store-"));
  dirs.push(dir);
  return join(dir, ".presswork-cache");
};

describe("the cache store", () => {
  it("keeps what a run wrote for the next run made by the same code", async () => {
    const dir = await folder();
    CacheStore.open(dir).write("parsed-config.json", { key: "k", value: 1 });
    expect(CacheStore.open(dir).read("parsed-config.json")).toEqual({ key: "k", value: 1 });
    expect(JSON.parse(await readFile(join(dir, "version.json"), "utf8"))).toMatchObject({ version: environmentDigest() });
  });

  it("empties a folder made by other code, or from before the stamp, before anything in it is read", async () => {
    const dir = await folder();
    const store = CacheStore.open(dir);
    store.write("parsed-config.json", { key: "k", value: 1 });
    store.journal<number>("meta.journal").keep("a", 1);
    await writeFile(join(dir, "version.json"), JSON.stringify({ version: "made by another release" }));
    expect(CacheStore.open(dir).read("parsed-config.json")).toBeUndefined();
    expect(await readdir(dir)).toEqual(["version.json"]);

    CacheStore.open(dir).write("parsed-config.json", { key: "k", value: 2 });
    await rm(join(dir, "version.json"));
    expect(CacheStore.open(dir).read("parsed-config.json")).toBeUndefined();
  });

  it("keeps nothing without a folder, and reads back what its packs hold for the run", () => {
    const store = CacheStore.open(undefined);
    store.write("parsed-config.json", { value: 1 });
    expect(store.read("parsed-config.json")).toBeUndefined();
    const packs = store.packs("bodies");
    const place = packs.append("<p>kept for the run</p>");
    store.close();
    expect(packs.read(place)).toBe("<p>kept for the run</p>");
  });

  it("removes a run's scratch packs when it is closed", async () => {
    const store = CacheStore.open(await folder());
    const scratch = store.scratch("pages");
    const place = scratch.append("<html>page</html>");
    expect(scratch.read(place)).toBe("<html>page</html>");
    store.close();
    expect(scratch.read(place)).toBeUndefined();
  });

  it.each([["SIGINT", "Ctrl-C"], ["SIGTERM", "a cancelled job"]] as const)("leaves no scratch folder behind when a build is stopped by %s (%s)", async (signal) => {
    const paragraph = "Words enough to keep the build busy for a while, with a [link](https://example.org/) and `code`.\n\n".repeat(40);
    const articles = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`story-${i}.md`, article(`title: Story ${i}\ndate: 2026-11-01`, paragraph)]));
    const root = await tempProject({ articles });
    const temp = await mkdtemp(join(tmpdir(), "presswork-store-"));
    dirs.push(temp);
    const child = spawn(process.execPath, [join(REPO, "bin/presswork.js"), "build", "--no-cache"], { cwd: root, env: { ...process.env, TMPDIR: temp }, stdio: "ignore" });
    const ended = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, by) => resolve(by)));
    // The build makes its scratch folder as it starts on the bodies: stopped once it is there, halfway through.
    while (child.exitCode === null && !(await readdir(temp)).some((name) => name.startsWith("presswork-scratch-"))) await sleep(10);
    child.kill(signal);
    expect(await ended).toBe(signal);
    expect(await readdir(temp, { recursive: true })).toEqual([]);
  });

  it("drops the documents of a folder a run did not use", async () => {
    const dir = await folder();
    const first = CacheStore.open(dir).folder("issues");
    first?.write("a.json", 1);
    first?.write("b.json", 2);
    const second = CacheStore.open(dir).folder("issues");
    expect(second?.read("a.json")).toBe(1);
    second?.prune();
    expect(await readdir(join(dir, "issues"))).toEqual(["a.json"]);
    expect(existsSync(join(dir, "issues/b.json"))).toBe(false);
  });
});

describe("cache keys", () => {
  it("differ for different parts, however they are cut, and hold the environment", () => {
    expect(digest("ab", "c")).not.toBe(digest("a", "bc"));
    expect(digest({ a: 1 })).toBe(digest({ a: 1 }));
    expect(digest("x")).toMatch(/^[0-9a-f]{32}$/);
    expect(cacheKey("x")).toBe(digest(environmentDigest(), "x"));
    expect(cacheKey("x")).not.toBe(digest("x"));
  });
});
