import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { personalise } from "../../src/issues/tokens.js";
import { assemble } from "../../src/pipeline/build.js";
import { launchBrowser } from "../helpers/browser.js";
import { REPO, removeProjects, tempProject } from "../helpers/project.js";

let browser: Browser;
let html: string;
const SHOTS = join(REPO, "test-results/email");

beforeAll(async () => {
  const root = await tempProject({ samples: true });
  const config = join(root, "presswork.config.yaml");
  await writeFile(config, (await readFile(config, "utf8")).replace("content: summary", "content: full"));
  const result = await assemble({ root, now: new Date("2026-11-29T12:00:00Z"), cacheDir: false });
  const issue = result.newsletter?.next;
  if (!issue) throw new Error("no issue planned");
  // Images point at the publication's host, which tests never reach: serve them as blanks.
  html = personalise(issue.html, { unsubscribe_url: "https://signal-noise.example/unsubscribe?token=t", name: "Reader", greeting: "Hi Reader," }, "html");
  browser = await launchBrowser();
  await mkdir(SHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await removeProjects();
});

describe("the email on a phone and on a desktop", () => {
  for (const width of [320, 375, 600]) {
    for (const scheme of ["light", "dark"] as const) {
      it(`fits ${width} px without horizontal scrolling, in ${scheme} mode, code blocks and tables included`, async () => {
        const page = await browser.newPage({ viewport: { width, height: 900 }, colorScheme: scheme });
        await page.route("**/*", (route) => (route.request().url().startsWith("https://") ? route.fulfill({ status: 204 }) : route.continue()));
        await page.setContent(html, { waitUntil: "load" });
        const { scroll, pre, table } = await page.evaluate(() => ({
          scroll: document.documentElement.scrollWidth,
          pre: document.querySelectorAll("pre").length,
          table: document.querySelectorAll(".body table").length,
        }));
        expect(pre).toBeGreaterThan(0);
        expect(table).toBeGreaterThan(0);
        expect(scroll).toBeLessThanOrEqual(width);
        const background = await page.evaluate(() => getComputedStyle(document.querySelector(".page") as Element).backgroundColor);
        expect(background).toBe(scheme === "dark" ? "rgb(20, 20, 22)" : "rgb(251, 250, 247)");
        await page.screenshot({ path: join(SHOTS, `issue-${width}-${scheme}.png`), fullPage: true });
        await page.close();
      });
    }
  }
});
