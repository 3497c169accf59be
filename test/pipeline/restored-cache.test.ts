import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { build } from "../../src/pipeline/build.js";
import { NOW, removeProjects, snapshot, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

/** The output folder's files but its marker, which names the build that wrote them. */
async function output(dir: string): Promise<Map<string, Buffer>> {
  const files = await snapshot(dir);
  files.delete(".presswork-output");
  return files;
}

describe("a build from a cache restored into a fresh checkout", () => {
  it("renders only what the new commit changed, and gives the same bytes as a build without the cache", async () => {
    // The last publish: its checkout built, and its cache saved.
    const before = await tempProject({ samples: true });
    await build({ root: before, now: NOW, out: join(before, "dist") });

    // The next publish: a fresh checkout (other paths, inodes and times) of a commit that edits one article,
    // with the cache restored into it as actions/cache does (the files as saved, their times kept).
    const root = await tempProject({ samples: true });
    const edited = join(root, "articles/municipal-broadband.md");
    await writeFile(edited, (await readFile(edited, "utf8")).replace("mostly good news", "mostly very good news"));
    await cp(join(before, ".presswork-cache"), join(root, ".presswork-cache"), { recursive: true, preserveTimestamps: true });

    const restored = await build({ root, now: NOW, out: join(root, "dist") });
    expect(restored.bodies).toEqual({ rendered: 1, cached: restored.articles.length - 1 });
    const cold = await build({ root, now: NOW, out: join(root, "cold"), cacheDir: false });
    expect(cold.bodies.rendered).toBe(cold.articles.length);
    const [got, want] = await Promise.all([output(join(root, "dist")), output(join(root, "cold"))]);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [path, bytes] of want) expect(got.get(path)?.equals(bytes), path).toBe(true);
    expect(got.get("articles/municipal-broadband/index.html")?.toString()).toContain("mostly very good news");
  });
});
