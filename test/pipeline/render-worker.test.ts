import { readdir, readFile } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import { assemble } from "../../src/pipeline/build.js";
import { article, NOW, removeProjects, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

/** The render processes this process started that are still running (Linux: read from /proc). */
async function renderWorkers(): Promise<number[]> {
  const found: number[] = [];
  for (const pid of (await readdir("/proc")).filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent === process.pid && (await readFile(`/proc/${pid}/cmdline`, "utf8")).includes("render-worker")) found.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function noneLeft(): Promise<number[]> {
  for (let i = 0; i < 40 && (await renderWorkers()).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  return renderWorkers();
}

describe("the render process of a first build", () => {
  // Started when 60 articles are listed, before their front matter says which of them to render.
  const project = (drafts: number) => {
    const articles: Record<string, string> = {};
    for (let i = 0; i < 60; i++) articles[`story-${i}.md`] = article(`title: Story ${i}\ndate: 2026-10-01T00:00:00Z\ndraft: ${i < drafts}`);
    return tempProject({ articles });
  };

  it("is stopped unused when the front matter leaves too few articles to share", async () => {
    const root = await project(50);
    const result = await assemble({ root, now: NOW });
    expect(result.articles).toHaveLength(10);
    expect(await noneLeft()).toEqual([]);
  });

  it("is gone once a build that shared its bodies with it is done", async () => {
    const root = await project(0);
    const result = await assemble({ root, now: NOW });
    expect(result.articles).toHaveLength(60);
    expect(await noneLeft()).toEqual([]);
  });
});
