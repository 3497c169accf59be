import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { cacheKey, digest, environmentDigest } from "../../src/cache/key.js";
import { WarmFiles } from "../../src/cache/warm.js";
import { CacheStore } from "../../src/cache/store.js";
import { article, removeProjects, REPO, tempProject } from "../helpers/project.js";

const dirs: string[] = [];
afterAll(() => Promise.all([removeProjects(), ...dirs.map((dir) => rm(dir, { recursive: true, force: true }))]));
/** A temporary folder of its own: a cache's, or a child process's TMPDIR, where its scratch folder is made. */
const tempFolder = async () => {
  const dir = await mkdtemp(join(tmpdir(), "presswork-store-"));
  dirs.push(dir, `${dir}.compile-cache`);
  return dir;
};
/** The scratch folders in `temp` (Node 22's compile cache is kept beside it, not in it: see childEnv). */
const scratchIn = async (temp: string) => (await readdir(temp)).filter((name) => name.startsWith("presswork-scratch-"));
const childEnv = (temp: string) => ({ ...process.env, TMPDIR: temp, NODE_COMPILE_CACHE: `${temp}.compile-cache` });
/** How a child process ended, and what it printed. */
function exit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
}
const folder = async () => join(await tempFolder(), ".presswork-cache");
/** Runs `script` (an ES module, which prints "ready" when set up) with its TMPDIR in `temp`; resolves once it is ready, and throws with its stderr if it ends first. */
async function startScript(script: string, temp: string): Promise<{ child: ChildProcess; ended: ReturnType<typeof exit> }> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { env: childEnv(temp), stdio: ["ignore", "pipe", "pipe"] });
  const ended = exit(child);
  const ready = new Promise<void>((resolve) => child.stdout?.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve()));
  const early = await Promise.race([ready, ended]);
  if (early) throw new Error(`the script ended before it was ready (code ${early.code}, signal ${early.signal}): ${early.stderr}`);
  return { child, ended };
}
const STORE_MODULE = JSON.stringify(join(REPO, "lib/cache/store.js"));

describe("the cache store", () => {
  it("keeps what a run wrote for the next run made by the same code", async () => {
    const dir = await folder();
    CacheStore.open(dir).write("parsed-config.json", { key: "k", value: 1 });
    expect(CacheStore.open(dir).read("parsed-config.json")).toEqual({ key: "k", value: 1 });
    expect(JSON.parse(await readFile(join(dir, "version.json"), "utf8"))).toMatchObject({ version: environmentDigest() });
  });

  it("gives a process that keeps its documents warm the one it last wrote, until another process replaces the file", async () => {
    const dir = await folder();
    const warm = new WarmFiles();
    const manifest = { token: "t1", pages: { "index.html": "k1" } };
    CacheStore.open(dir, warm).write("output-x.json", manifest, { warm: true });
    expect(CacheStore.open(dir, warm).read("output-x.json", { warm: true })).toBe(manifest);
    // A document not asked for warm is read from its file each time.
    CacheStore.open(dir, warm).write("parsed-config.json", { key: "k" });
    expect(CacheStore.open(dir, warm).read("parsed-config.json")).not.toBe(CacheStore.open(dir, warm).read("parsed-config.json"));
    // Another process (a build in a terminal beside the preview) replaces the file with one of the same size.
    CacheStore.open(dir).write("output-x.json", { token: "t2", pages: { "index.html": "k2" } });
    expect(CacheStore.open(dir, warm).read("output-x.json", { warm: true })).toEqual({ token: "t2", pages: { "index.html": "k2" } });
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

  it.each([
    { signal: "SIGINT", means: "Ctrl-C" },
    { signal: "SIGTERM", means: "a cancelled job" },
  ] as const)("leaves no scratch folder behind when a build is stopped by $signal ($means)", async ({ signal }) => {
    const paragraph = "Words enough to keep the build busy for a while, with a [link](https://example.org/) and `code`.\n\n".repeat(40);
    const articles = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`story-${i}.md`, article(`title: Story ${i}\ndate: 2026-11-01`, paragraph)]));
    const root = await tempProject({ articles });
    const temp = await tempFolder();
    const child = spawn(process.execPath, [join(REPO, "bin/presswork.js"), "build", "--no-cache"], { cwd: root, env: childEnv(temp), stdio: ["ignore", "ignore", "pipe"] });
    const ended = exit(child);
    // The build makes its scratch folder as it starts on the bodies: stopped once it is there, halfway through.
    while (child.exitCode === null && (await scratchIn(temp)).length === 0) await sleep(10);
    expect(await scratchIn(temp)).toHaveLength(1);
    child.kill(signal);
    // Only the build is signalled, as by `kill PID` or a cancelled job: its render processes end quietly, with nothing on stderr.
    expect(await ended).toMatchObject({ signal, stderr: "" });
    expect(await scratchIn(temp)).toEqual([]);
  });

  it("leaves the signal to a command that stops gracefully on it, and removes the folder when that command exits", async () => {
    const temp = await tempFolder();
    // As `preview` does: its own handler, added before the first build made the scratch folder.
    const script = `
      const { CacheStore } = await import(${STORE_MODULE});
      process.once("SIGINT", () => { console.log("stopping"); setTimeout(() => process.exit(0), 20); });
      setInterval(() => {}, 1000);
      CacheStore.open(undefined).packs("bodies").append("<p>body</p>");
      console.log("ready");`;
    const { child, ended } = await startScript(script, temp);
    expect(await scratchIn(temp)).toHaveLength(1);
    child.kill("SIGINT");
    expect(await ended).toMatchObject({ code: 0, stdout: expect.stringContaining("stopping") });
    expect(await scratchIn(temp)).toEqual([]);
  });

  it("removes every copy's scratch folder on SIGTERM when the process holds two copies of the store, and still ends by the signal", async () => {
    const temp = await tempFolder();
    // Two copies of the module, as a test runner that reloads modules leaves in a worker: neither may wait on the other.
    const script = `
      const copies = [await import(${STORE_MODULE}), await import(${STORE_MODULE} + "?copy")];
      setInterval(() => {}, 1000);
      for (const { CacheStore } of copies) CacheStore.open(undefined).packs("bodies").append("<p>body</p>");
      console.log("ready");`;
    const { child, ended } = await startScript(script, temp);
    expect(await scratchIn(temp)).toHaveLength(2);
    child.kill("SIGTERM");
    const result = await Promise.race([ended, sleep(10_000).then(() => "still running after 10 s")]);
    child.kill("SIGKILL");
    expect(result).toMatchObject({ signal: "SIGTERM" });
    expect(await scratchIn(temp)).toEqual([]);
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
