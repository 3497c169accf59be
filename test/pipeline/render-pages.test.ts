import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { assemble } from "../../src/pipeline/build.js";
import { renderPagesShared } from "../../src/pipeline/render-pages.js";
import { pageRenderer, planPages, renderPages, SITE_TEMPLATES, type PageSpec } from "../../src/site/pages.js";
import { readTemplateFolder } from "../../src/templates/sources.js";
import { NOW, removeProjects, tempProject } from "../helpers/project.js";
import { PressworkError } from "../../src/errors/error.js";

const sources = {
  "layout.liquid": "<title>{{ title }}</title>\n{% block content %}{% endblock %}",
  "page.liquid": '{% layout "layout" %}{% block content %}<p>{{ n }}: {{ body | raw }} {{ at | date: "%B" }}</p>\n{% if n == 401 %}{{ missing }}{% endif %}{% endblock %}',
};
// The last day of October in UTC is the first of November on Kiritimati (UTC+14): a month named in French there shows
// that the pages of both threads are written in the site's language and time zone.
const site = { language: "fr", timezone: "Pacific/Kiritimati" };
const AT = "2026-10-31T12:00:00Z";
const specs = (count: number, title = "Page"): PageSpec[] =>
  Array.from({ length: count }, (_, n) => ({ file: `p/${n}/index.html`, template: "page", key: String(n), scope: { n: n === 401 ? 400 : n, title: `${title} ${n} & more`, body: `<em>${"x".repeat(n % 50)}</em>`, at: AT } }));

/**
 * Renders `all` shared between two threads, with the other work `alongside`; the pages as they were handed over,
 * how many the thread made, and how many were handed over (counted in `progress` as they are).
 */
async function shared(all: readonly PageSpec[], alongside: Array<() => void> = [], progress = { handed: 0 }): Promise<{ pages: Map<string, string>; inThread: number; handed: number }> {
  const pages = new Map<string, string>();
  const { inThread } = await renderPagesShared(
    all,
    sources,
    site,
    (file, html) => {
      progress.handed++;
      pages.set(file, html);
    },
    alongside,
  );
  return { pages, inThread, handed: progress.handed };
}

afterAll(removeProjects);

describe("rendering many pages on two threads", () => {
  it("copies to the page thread all an issue page shows, the bodies of an issue sent in full too", async () => {
    const root = await tempProject({ samples: true });
    const config = join(root, "presswork.config.yaml");
    await writeFile(config, (await readFile(config, "utf8")).replace("content: summary", "content: full"));
    const result = await assemble({ root, now: NOW, cacheDir: false });
    if (!result.config || !result.newsletter) throw new Error("the sample did not assemble with its newsletter");
    const issue = planPages(result.config, result.articles, result.newsletter.past).find((spec) => spec.template === "issue");
    if (!issue) throw new Error("the sample has no sent issue");
    const render = pageRenderer(readTemplateFolder(root, SITE_TEMPLATES) ?? {}, result.config.site);
    // The page thread gets each scope as structured cloning copies it.
    const here = render(issue);
    expect(render(structuredClone(issue))).toBe(here);
    // A line from the body of an article the first issue sent in full.
    expect(here).toContain("Adding qubits adds places for errors.");
  });

  it("gives the same pages, byte for byte, as rendering them all here, each handed over once, a share of them made by the thread", async () => {
    const all = specs(1200);
    const { pages, inThread, handed } = await shared(all);
    const here = renderPages(all, sources, site);
    expect(handed).toBe(all.length);
    expect(new Map([...pages].sort())).toEqual(new Map([...here].sort()));
    expect(pages.get("p/7/index.html")).toBe("<title>Page 7 &amp; more</title>\n<p>7: <em>xxxxxxx</em> novembre</p>\n");
    expect(inThread, "pages rendered by the worker thread").toBeGreaterThan(0);
    expect(inThread, "pages rendered here").toBeLessThan(all.length);
  });

  it("does the other work it is given once each, handing the thread its next batch between tasks, and still hands over every page", async () => {
    const all = specs(1200);
    const ran: number[] = [];
    const progress = { handed: 0 };
    let handedDuringTasks = 0;
    // Each task takes a while, as a feed does; this thread renders no page before the tasks are done, so every page
    // handed over meanwhile is the thread's. The tasks stop taking time once the thread has rendered past the two
    // batches it was given at the start (48 pages each): it was handed more between tasks.
    const task = (n: number) => () => {
      ran.push(n);
      handedDuringTasks = progress.handed;
      if (progress.handed > 2 * 48) return;
      const until = Date.now() + 20;
      while (Date.now() < until);
    };
    // Tasks enough for 30 s of work: the thread's start and its first batches can take seconds on a busy machine.
    const { pages, inThread, handed } = await shared(all, Array.from({ length: 1500 }, (_, n) => task(n)), progress);
    expect(ran).toEqual(Array.from({ length: 1500 }, (_, n) => n));
    expect(handedDuringTasks, "pages the thread rendered while this thread did the tasks").toBeGreaterThan(2 * 48);
    expect(handed).toBe(all.length);
    expect(new Map([...pages].sort())).toEqual(new Map([...renderPages(all, sources, site)].sort()));
    expect(inThread).toBeGreaterThanOrEqual(handedDuringTasks);
  });

  it("fails when the other work fails", async () => {
    const error = await shared(specs(1200), [
      () => {
        throw new Error("a feed failed");
      },
    ]).catch((e: unknown) => e);
    expect((error as Error).message).toBe("a feed failed");
  });

  it("stops doing the other work once the thread met a template error, and reports it", async () => {
    const all = specs(1200);
    // In the thread's first batch.
    (all[10] as PageSpec).scope["n"] = 401;
    let ran = 0;
    const slow = () => {
      ran++;
      const until = Date.now() + 20;
      while (Date.now() < until);
    };
    // 30 s of tasks, for a thread that may take seconds to start on a busy machine.
    const error = await shared(all, Array.from({ length: 1500 }, () => slow)).catch((e: unknown) => e);
    expect(error).toMatchObject({ id: "content" });
    expect(ran, "tasks run of 1,500").toBeLessThan(1500);
  });

  it("renders a small site here alone, after the other work", async () => {
    const progress = { handed: 0 };
    let handedFirst = -1;
    const { pages, inThread } = await shared(specs(30), [() => (handedFirst = progress.handed)], progress);
    expect(handedFirst).toBe(0);
    expect(pages.size).toBe(30);
    expect(inThread).toBe(0);
  });

  it("renders a small site here alone", async () => {
    const { pages, inThread } = await shared(specs(30));
    expect(pages.size).toBe(30);
    expect(inThread).toBe(0);
  });

  it("reports a template error from either thread with the template's file and line", async () => {
    // The failing page in the first two batches (the thread's) and in the third (this thread's).
    for (const at of [60, 100]) {
      const all = specs(1200);
      (all[at] as PageSpec).scope["n"] = 401;
      const error = await shared(all).catch((e: unknown) => e);
      expect(error, `page ${at}`).toMatchObject({ id: "content" });
      const message = (error as PressworkError).files[0]?.messages[0];
      expect((error as PressworkError).place?.file).toMatch(/templates\/site\/page\.liquid$/);
      expect(message?.reason).toContain("undefined variable: missing");
      expect(message?.line).toBe(2);
    }
  });
});
