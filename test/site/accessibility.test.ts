import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/pipeline/build.js";
import { axeViolations, describeViolations, preloadAxe } from "../helpers/axe.js";
import { launchBrowser } from "../helpers/browser.js";
import { NOW, removeProjects, tempProject } from "../helpers/project.js";

let browser: Browser;
let dist: string;

/** One page of each kind the site templates make, the newsletter's included. */
const PAGES = [
  ["home", "/"],
  ["home, page 2", "/page/2/"],
  ["article with code, a table and an image", "/articles/open-silicon-fab/"],
  ["article with highlighted code", "/articles/rust-in-the-kernel/"],
  ["topic", "/tags/chips/"],
  ["topics", "/tags/"],
  ["author", "/authors/ada/"],
  ["feeds", "/feeds/"],
  ["archive", "/archive/"],
  ["sent issue", "/issues/2/"],
  ["next issue, before its send", "/issues/3/"],
  ["issues", "/issues/"],
  ["subscribe", "/subscribe/"],
  ["not found", "/404.html"],
] as const;

beforeAll(async () => {
  const root = await tempProject({ samples: true });
  dist = join(root, "dist");
  await build({ root, now: NOW, out: dist, cacheDir: false });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await removeProjects();
});

/** Opens a page of the built site, served from dist/ at https://site.test/ (a secure context, as the published site is). */
async function open(path: string, width: number, scheme: "light" | "dark"): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme });
  const page = await context.newPage();
  await page.route("**/*", async (route) => {
    const url = new URL(route.request().url());
    if (url.hostname !== "site.test") return route.fulfill({ status: 204 });
    const file = url.pathname.endsWith("/") ? `${url.pathname}index.html` : url.pathname;
    return route.fulfill({ path: join(dist, decodeURIComponent(file)) }).catch(() => route.fulfill({ status: 404 }));
  });
  await page.goto(`https://site.test${path}`);
  return page;
}

describe("every kind of page passes axe-core", () => {
  it("in light and dark mode, at 375 and 1280 px", { timeout: 240_000 }, async () => {
    const configurations = (["light", "dark"] as const).flatMap((scheme) => [375, 1280].map((width) => ({ scheme, width })));
    // Two at a time: axe is CPU-bound, and Chromium gives each page a process of its own.
    const found: string[] = [];
    for (let i = 0; i < configurations.length; i += 2) {
      const results = await Promise.all(
        configurations.slice(i, i + 2).map(async ({ scheme, width }) => {
          const lines: string[] = [];
          const page = await open(PAGES[0][1], width, scheme);
          await preloadAxe(page.context());
          for (const [kind, path] of PAGES) {
            await page.goto(`https://site.test${path}`);
            lines.push(...describeViolations(await axeViolations(page)).map((line) => `${scheme} ${width} px, ${kind} ${path}: ${line}`));
          }
          await page.context().close();
          return lines;
        }),
      );
      found.push(...results.flat());
    }
    expect(found).toEqual([]);
  });

  it("checks the pages it names, and would see a violation", async () => {
    const built = new Set((await readdir(dist, { recursive: true })).map((p) => `/${p.split("\\").join("/")}`));
    for (const [, path] of PAGES) expect(built.has(path.endsWith("/") ? `${path}index.html` : path), path).toBe(true);
    // With axe loaded before the page, as above, and added once the page has loaded.
    for (const preload of [true, false]) {
      const page = await open("/", 1280, "light");
      if (preload) {
        await preloadAxe(page.context());
        await page.reload();
      }
      await page.evaluate(() => document.querySelector("main")?.insertAdjacentHTML("beforeend", '<p style="color:#bbb;background:#fff">faint</p><img src="x.png">'));
      const ids = (await axeViolations(page)).map((v) => v.id);
      expect(ids, preload ? "preloaded" : "added").toEqual(expect.arrayContaining(["color-contrast", "image-alt"]));
      await page.context().close();
    }
  });
});

describe("the site with a keyboard", () => {
  it("reaches a code block that scrolls sideways, and can scroll it", async () => {
    const page = await open("/articles/open-silicon-fab/", 375, "light");
    const scrolls = await page.evaluate(() => Array.from(document.querySelectorAll(".body pre")).some((pre) => pre.scrollWidth > pre.clientWidth));
    expect(scrolls).toBe(true);
    let reached = false;
    for (let i = 0; i < 60 && !reached; i++) {
      await page.keyboard.press("Tab");
      reached = await page.evaluate(() => document.activeElement?.tagName === "PRE");
    }
    expect(reached).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.scrollLeft)).toBe(0);
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    // Chromium scrolls smoothly: wait for the scroll to land rather than read it at once.
    await page.waitForFunction(() => (document.activeElement?.scrollLeft ?? 0) > 0, undefined, { timeout: 10_000 });
    await page.context().close();
  });

  it("copies a feed's address from the feeds page", async () => {
    const page = await open("/feeds/", 1280, "light");
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: "https://site.test" });
    const button = page.getByRole("button", { name: "Copy the Atom address of Signal & Noise", exact: true });
    // The page's clock, paused and moved by the test: "Copied" stays until it is told two seconds have passed, however slow the browser.
    await page.clock.install();
    await page.clock.pauseAt(Date.now() + 60_000);
    await button.click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("https://signal-noise.example/atom.xml");
    await expect(button.textContent()).resolves.toBe("Copied");
    await page.clock.runFor(1999);
    await expect(button.textContent()).resolves.toBe("Copied");
    await page.clock.runFor(1);
    await expect(button.textContent()).resolves.toBe("Copy");
    await page.context().close();
  });
});
