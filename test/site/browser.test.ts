import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/pipeline/build.js";
import { launchBrowser } from "../helpers/browser.js";
import { NOW, REPO, removeProjects, tempProject } from "../helpers/project.js";

let browser: Browser;
let dist: string;

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

describe("site pages in a browser", () => {
  for (const scheme of ["light", "dark"] as const) {
    it(`reads on a 375 px phone in ${scheme} mode: no sideways scrolling, tables and code scroll in place`, async () => {
      const page = await browser.newPage({ viewport: { width: 375, height: 800 }, colorScheme: scheme });
      // Pages link to the site root; serve dist/ for it.
      await page.route("**/*", async (route) => {
        const url = new URL(route.request().url());
        if (url.protocol !== "http:" || url.hostname !== "site.test") return route.fulfill({ status: 204 });
        const path = url.pathname.endsWith("/") ? `${url.pathname}index.html` : url.pathname;
        return route.fulfill({ path: join(dist, decodeURIComponent(path)) }).catch(() => route.fulfill({ status: 404 }));
      });
      await page.goto("http://site.test/articles/open-silicon-fab/");
      const { scroll, background, tables } = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        background: getComputedStyle(document.body).backgroundColor,
        tables: document.querySelectorAll(".body table").length,
      }));
      expect(tables).toBeGreaterThan(0);
      expect(scroll).toBeLessThanOrEqual(375);
      expect(background).toBe(scheme === "dark" ? "rgb(20, 20, 22)" : "rgb(251, 250, 247)");
      await page.screenshot({ path: join(REPO, `test-results/site/article-375-${scheme}.png`), fullPage: true });
      await page.close();
    });
  }
});
