import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readEnvironment } from "../../src/cache/environment.js";
import { CACHE_VERSION } from "../../src/cache/version.js";
import { put } from "../helpers/project.js";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A folder holding `files` (JSON values written as JSON). */
async function folder(files: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "presswork-env-"));
  dirs.push(dir);
  for (const [path, value] of Object.entries(files)) await put(join(dir, path), JSON.stringify(value));
  return dir;
}

const presswork = { name: "presswork", version: "0.1.0", dependencies: { remark: "^1", feed: "^2" }, devDependencies: { vitest: "^4" } };
/** An install: remark needs its own micromark 2, while micromark 1 is hoisted for another package; vitest is for development. */
const locked = {
  "node_modules/remark": { version: "1.0.0", dependencies: { micromark: "^2" } },
  "node_modules/remark/node_modules/micromark": { version: "2.1.0" },
  "node_modules/micromark": { version: "1.9.0" },
  "node_modules/feed": { version: "2.0.0", optionalDependencies: { sax: "^1" } },
  "node_modules/sax": { version: "1.4.1" },
  "node_modules/vitest": { version: "4.1.12", dependencies: { micromark: "^1" } },
};

describe("the environment cache keys hold", () => {
  it("lists every package Presswork runs with the version npm installed, as Node would resolve it, and nothing for development", async () => {
    const root = await folder({ "package.json": presswork, "node_modules/.package-lock.json": { packages: locked } });
    const env = readEnvironment(root);
    expect(env.packages).toEqual(["feed@2.0.0", "micromark@2.1.0", "remark@1.0.0", "sax@1.4.1"]);
    expect(env.node).toBe(Number(process.versions.node.split(".")[0]));
    expect(env.presswork).toBe(`0.1.0+${CACHE_VERSION}`);
    expect(env.from).toBe(join(root, "node_modules/.package-lock.json"));
  });

  it("reads npm's record of node_modules before the lockfile, which may not be what is installed", async () => {
    const lockfile = { packages: { ...locked, "node_modules/feed": { version: "1.0.0" } } };
    const root = await folder({ "package.json": presswork, "package-lock.json": lockfile, "node_modules/.package-lock.json": { packages: locked } });
    expect(readEnvironment(root).packages).toContain("feed@2.0.0");
    await rm(join(root, "node_modules/.package-lock.json"));
    expect(readEnvironment(root).packages).toEqual(["feed@1.0.0", "micromark@2.1.0", "remark@1.0.0"]);
  });

  it("finds Presswork's packages in the record of the project that installed it", async () => {
    const project = await folder({
      "node_modules/presswork/package.json": presswork,
      "node_modules/.package-lock.json": {
        packages: {
          "node_modules/presswork": { version: "0.1.0", dependencies: presswork.dependencies },
          "node_modules/presswork/node_modules/remark": { version: "1.0.0" },
          "node_modules/feed": { version: "2.0.1" },
        },
      },
    });
    expect(readEnvironment(join(project, "node_modules/presswork")).packages).toEqual(["feed@2.0.1", "remark@1.0.0"]);
  });

  it("reads each package's own package.json when npm left no record", async () => {
    const root = await folder({
      "package.json": presswork,
      "node_modules/remark/package.json": { name: "remark", version: "1.0.3", dependencies: { micromark: "^2" } },
      "node_modules/micromark/package.json": { name: "micromark", version: "2.0.0" },
      "node_modules/feed/package.json": { name: "feed", version: "2.0.0" },
    });
    const env = readEnvironment(root);
    expect(env.packages).toEqual(["feed@2.0.0", "micromark@2.0.0", "remark@1.0.3"]);
    expect(env.from).toBe("node_modules");
  });
});
