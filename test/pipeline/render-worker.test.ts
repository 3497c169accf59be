import type { ChildProcess } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { EMAIL_COLUMN } from "../../src/issues/limits.js";
import { article, NOW, removeProjects, snapshot, tempProject } from "../helpers/project.js";

// The real fork, watched: which render processes the build starts, and how many batches each sends back.
const watched = vi.hoisted(() => ({ children: [] as Array<{ child: ChildProcess; replies: number }>, kill: 0 }));
vi.mock("node:child_process", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:child_process")>();
  return {
    ...actual,
    fork: (...args: Parameters<typeof actual.fork>) => {
      const child = actual.fork(...args);
      if ((args[0] as string).includes("render-worker")) {
        const entry = { child, replies: 0 };
        watched.children.push(entry);
        child.on("message", () => entry.replies++);
        if (watched.children.length <= watched.kill) child.kill("SIGKILL");
      }
      return child;
    },
  };
});

// Test files share their modules (vitest.config.ts): the build is loaded afresh, so that it forks through the watch above,
// and the modules that did are let go of after, so that no later file's build does.
let build: typeof import("../../src/pipeline/build.js").build;
let assemble: typeof import("../../src/pipeline/build.js").assemble;
beforeAll(async () => {
  vi.resetModules();
  ({ assemble, build } = await import("../../src/pipeline/build.js"));
});
afterAll(async () => {
  watched.kill = 0;
  vi.resetModules();
  await removeProjects();
});
beforeEach(() => {
  watched.children = [];
  watched.kill = 0;
});

/** The render processes this process started that are still running (Linux: read from /proc). */
async function running(): Promise<number[]> {
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

/** The render processes still running once they all ended, or after 10 s (a generous bound for a busy machine). */
async function noneLeft(): Promise<number[]> {
  for (let i = 0; i < 200 && (await running()).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  return running();
}

describe("the render processes of a first build", () => {
  // Started when 60 articles are listed, before their front matter says which of them to render.
  const project = (drafts: number) => {
    const articles: Record<string, string> = {};
    for (let i = 0; i < 60; i++) articles[`story-${i}.md`] = article(`title: Story ${i}\ndate: 2026-10-01T00:00:00Z\ndraft: ${i < drafts}`, `Story ${i} links to [the next](story-${(i + 1) % 60}.md) and has \`code\`.`);
    // One with an image, whose email HTML differs from its feed HTML.
    articles["story-59.md"] += "\n![A chart of the week](https://example.org/chart.png)\n";
    return tempProject({ articles });
  };

  it("are started, and stopped unused when the front matter leaves too few articles to share", async () => {
    const root = await project(50);
    const result = await assemble({ root, now: NOW });
    expect(result.articles).toHaveLength(10);
    expect(watched.children.length, "render processes started").toBeGreaterThan(0);
    expect(watched.children.map((c) => c.replies)).toEqual(watched.children.map(() => 0));
    expect(await noneLeft()).toEqual([]);
  });

  it("render the bodies, and are gone once the build is done", async () => {
    const root = await project(0);
    const result = await assemble({ root, now: NOW });
    expect(result.articles).toHaveLength(60);
    expect(result.bodies).toEqual({ rendered: 60, cached: 0 });
    expect(watched.children.reduce((sum, c) => sum + c.replies, 0), "batches rendered by the processes").toBe(Math.ceil(60 / 8));
    // Each body's three serialisations, as they came back: the email's is the feed's but where it has an image.
    for (const { slug, body } of result.articles) {
      expect(body.html.web).toContain(`<p>${slug.replace("story-", "Story ")} links to`);
      if (slug === "story-59") expect(body.html.email).toBe(body.html.feed.replace(/<img [^>]*>/, (img) => img.replace(">", ` width="${EMAIL_COLUMN}" style="width:100%;max-width:${EMAIL_COLUMN}px;height:auto;display:block;border:0">`)));
      else expect(body.html.email, slug).toBe(body.html.feed);
    }
    expect(await noneLeft()).toEqual([]);
  });

  it("that die leave their articles to the others, or to this process when none is left: the build gives the same bytes", async () => {
    const root = await project(0);
    await build({ root, now: NOW, out: join(root, "reference"), cacheDir: false });
    const reference = await snapshot(join(root, "reference"));
    for (const kill of [1, 99]) {
      watched.children = [];
      watched.kill = kill;
      const out = join(root, `killed-${kill}`);
      const result = await build({ root, now: NOW, out, cacheDir: join(root, `cache-${kill}`) });
      expect(result.bodies.rendered).toBe(60);
      expect(watched.children[0]?.replies, "the process killed at once").toBe(0);
      const got = await snapshot(out);
      for (const files of [got, reference]) files.delete(".presswork-output");
      expect(got, `${kill} killed`).toEqual(reference);
    }
    expect(await noneLeft()).toEqual([]);
  });
});
