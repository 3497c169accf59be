import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO } from "../helpers/project.js";

const roots: string[] = [];
afterAll(() => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));

/** A bundle of two CommonJS chunks, the entry requiring the other, as the command line's bundle does: in a new folder, or rewritten in `dir`. */
async function bundle(answer: string, dir?: string): Promise<string> {
  if (!dir) {
    dir = await mkdtemp(join(tmpdir(), "presswork-code-cache-"));
    roots.push(dir);
  }
  await writeFile(join(dir, "main.cjs"), 'const { answer } = require("./chunk-a.cjs");\nexports.run = () => `answer ${answer()}`;\n');
  await writeFile(join(dir, "chunk-a.cjs"), `exports.answer = function () { return ${answer}; };\n`);
  return dir;
}

/** Loads the bundle in a fresh Node process, as bin/presswork.js does, and returns what its entry gives. */
function run(dir: string): string {
  const script = `import { requireWithCodeCache } from ${JSON.stringify(join(REPO, "lib/cli/code-cache.js"))};\nconsole.log(requireWithCodeCache(${JSON.stringify(join(dir, "main.cjs"))}).run());`;
  return execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }).trim();
}

const cached = async (dir: string) => (await readdir(join(dir, "code-cache", `${process.version}-${process.arch}`))).sort();

describe("the command line's code cache", () => {
  it("is made by the first run, one file per chunk, and used by the next", async () => {
    const dir = await bundle("41");
    expect(run(dir)).toBe("answer 41");
    const files = await cached(dir);
    expect(files).toHaveLength(2);
    expect(files.map((name) => name.replace(/-[0-9a-f]{16}\.bin$/, ""))).toEqual(["chunk-a.cjs", "main.cjs"]);
    const cacheDir = join(dir, "code-cache", `${process.version}-${process.arch}`);
    const written = await Promise.all(files.map(async (name) => (await stat(join(cacheDir, name))).mtimeMs));
    expect(run(dir)).toBe("answer 41");
    // Accepted, so not made again.
    expect(await cached(dir)).toEqual(files);
    expect(await Promise.all(files.map(async (name) => (await stat(join(cacheDir, name))).mtimeMs))).toEqual(written);
  });

  it("never runs the code of a chunk's earlier text, even of the same length", async () => {
    const dir = await bundle("42");
    expect(run(dir)).toBe("answer 42");
    await bundle("43", dir);
    expect(run(dir)).toBe("answer 43");
  });

  it("is made again when damaged, and the run goes on", async () => {
    const dir = await bundle("44");
    expect(run(dir)).toBe("answer 44");
    const cacheDir = join(dir, "code-cache", `${process.version}-${process.arch}`);
    const damaged = "not V8's code cache";
    for (const name of await cached(dir)) await writeFile(join(cacheDir, name), damaged);
    expect(run(dir)).toBe("answer 44");
    for (const name of await cached(dir)) expect(await readFile(join(cacheDir, name), "utf8")).not.toBe(damaged);
    expect(run(dir)).toBe("answer 44");
  });
});
