import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { build } from "../../src/pipeline/build.js";
import { NOW, removeProjects, snapshot, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

describe("builds are reproducible", () => {
  it("gives identical bytes for the same input, built twice, with and without the render cache", async () => {
    const root = await tempProject({ samples: true });
    await build({ root, now: NOW, out: join(root, "a"), cacheDir: false });
    await build({ root, now: NOW, out: join(root, "b"), cacheDir: join(root, "cache") });
    await build({ root, now: new Date("2026-11-29T23:59:00Z"), out: join(root, "c"), cacheDir: join(root, "cache") });
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((d) => snapshot(join(root, d))));
    expect([...(b?.keys() ?? [])].sort()).toEqual([...(a?.keys() ?? [])].sort());
    for (const [path, bytes] of a ?? []) {
      expect(b?.get(path)?.equals(bytes), path).toBe(true);
      expect(c?.get(path)?.equals(bytes), `${path} at a later clock`).toBe(true);
    }
  });

  it("puts no build time anywhere in the output", async () => {
    const root = await tempProject({ samples: true });
    await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
    for (const [path, bytes] of await snapshot(join(root, "dist"))) {
      if (!/\.(html|xml|json|txt)$/.test(path)) continue;
      const text = bytes.toString("utf8");
      expect(text, path).not.toContain("2026-11-29");
      expect(text, path).not.toContain("29 Nov 2026");
    }
  });

  it("rebuilds only what changed: an edited article shows up, cached ones stay the same", async () => {
    const root = await tempProject({ samples: true });
    const cacheDir = join(root, "cache");
    await build({ root, now: NOW, out: join(root, "dist"), cacheDir });
    const path = join(root, "articles/municipal-broadband.md");
    await writeFile(path, (await readFile(path, "utf8")).replace("mostly good news", "mostly very good news"));
    const second = await build({ root, now: NOW, out: join(root, "dist"), cacheDir });
    const page = await readFile(join(root, "dist/articles/municipal-broadband/index.html"), "utf8");
    expect(page).toContain("mostly very good news");
    expect(second.articles.find((a) => a.slug === "municipal-broadband")?.body.html.feed).toContain("mostly very good news");
  });
});
