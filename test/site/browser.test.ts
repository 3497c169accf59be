import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assemble, build } from "../../src/pipeline/build.js";
import { keepScreenshot, launchBrowser, serveSite } from "../helpers/browser.js";
import { NOW, put, removeProjects, tempProject } from "../helpers/project.js";

let browser: Browser;
let dist: string;

beforeAll(async () => {
  const root = await tempProject({ samples: true });
  // A link written as its address, as editors paste a shared document's: one word wider than a phone.
  const fab = join(root, "articles/open-silicon-fab/index.md");
  await writeFile(fab, `${await readFile(fab, "utf8")}\nThe budget: <https://docs.google.com/spreadsheets/d/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/edit?usp=sharing>\n`);
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
    it(`reads on a 375 px phone in ${scheme} mode: no sideways scrolling, a long address wraps, tables and code scroll in place`, async () => {
      const page = await browser.newPage({ viewport: { width: 375, height: 800 }, colorScheme: scheme });
      // Pages link to the site root; serve dist/ for it.
      await serveSite(page, dist, "http://site.test");
      await page.goto("http://site.test/articles/open-silicon-fab/");
      const { scroll, background, tables } = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        background: getComputedStyle(document.body).backgroundColor,
        tables: document.querySelectorAll(".body table").length,
      }));
      expect(tables).toBeGreaterThan(0);
      expect(scroll).toBeLessThanOrEqual(375);
      expect(background).toBe(scheme === "dark" ? "rgb(20, 20, 22)" : "rgb(251, 250, 247)");
      await keepScreenshot(page, `site/article-375-${scheme}.png`);
      await page.close();
    });
  }
});

describe("a feed opened in a browser (feed.xsl)", () => {
  it("lists each article's title as written, in the Atom feed as in RSS, whose titles are escaped HTML in Atom", async () => {
    const page = await browser.newPage();
    await serveSite(page, dist, "http://site.test");
    const titles = async (path: string) => {
      await page.goto(`http://site.test/${path}`);
      return (await page.locator("li a").allTextContents()).map((title) => title.trim());
    };
    const rss = await titles("feed.xml");
    expect(rss).toContain("Inside the Ship That Fixes the Internet's Undersea Cables");
    expect(rss).toContain("R&D Spending Holds Up as Chipmakers Wait for <Demand> to Return");
    expect(await titles("atom.xml")).toEqual(rss);
    await page.close();
  });
});

/** Where the text of the `index`th element matching `selector` sits in it: its gaps to the element's left and right edges, in pixels. */
async function textGaps(page: Page, selector: string, index = 0): Promise<{ left: number; right: number }> {
  return page.evaluate(([css, i]) => {
    const element = document.querySelectorAll(css)[i] as HTMLElement;
    const range = document.createRange();
    range.selectNodeContents(element);
    const text = range.getBoundingClientRect();
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    return { left: text.left - box.left - parseFloat(style.paddingLeft), right: box.right - parseFloat(style.paddingRight) - text.right };
  }, [selector, index] as const);
}

/**
 * The sample project with one change to its config and an article of a paragraph in Arabic, one in English
 * and the given list, built; with a page in the browser showing the article's page.
 */
async function arabicDesk(change: [string | RegExp, string], list: string): Promise<{ root: string; page: Page }> {
  const root = await tempProject({ samples: true });
  const config = join(root, "presswork.config.yaml");
  await writeFile(config, (await readFile(config, "utf8")).replace(...change));
  await put(join(root, "articles/arabic-desk.md"), `---\ntitle: مكتب الأخبار العربية\ndate: 2026-11-28\n---\n\nهذه فقرة قصيرة.\n\nA short line in English.\n\n${list}`);
  const out = join(root, "dist");
  await build({ root, now: NOW, out, cacheDir: false });
  const page = await browser.newPage({ viewport: { width: 800, height: 800 } });
  await page.route("**/*", (route) => route.fulfill({ status: 204 }));
  await page.setContent(await readFile(join(out, "articles/arabic-desk/index.html"), "utf8"));
  return { root, page };
}

describe("an article in a right-to-left script on a site in English", () => {
  it("runs right to left on its page and in the email of an issue sent in full: its paragraphs start at the right edge and its list's bullets stand inside it, the site's own English at the left", async () => {
    const { root, page } = await arabicDesk(["content: summary ", "content: full "], "- البند الأول\n- البند الثاني\n");
    const arabic = await textGaps(page, ".body p", 0);
    expect(arabic.right).toBeLessThan(2);
    expect(arabic.left).toBeGreaterThan(100);
    expect((await textGaps(page, ".body p", 1)).left).toBeLessThan(2);
    expect((await textGaps(page, "h1")).right).toBeLessThan(2);
    // The list's bullets stand on the right, inside its indent, not past the column's edge.
    const listIndent = () => page.evaluate(() => Array.from(document.querySelectorAll("ul")).filter((ul) => ul.textContent?.includes("البند")).map((ul) => ul.getBoundingClientRect().right - (ul.querySelector("li") as HTMLElement).getBoundingClientRect().right)[0]);
    expect(await listIndent()).toBeGreaterThan(15);

    await page.setContent((await assemble({ root, now: NOW, cacheDir: false })).newsletter?.next?.html ?? "");
    const index = await page.evaluate(() => Array.from(document.querySelectorAll("p")).findIndex((p) => p.textContent === "هذه فقرة قصيرة."));
    expect(index).toBeGreaterThanOrEqual(0);
    const inEmail = await textGaps(page, "p", index);
    expect(inEmail.right).toBeLessThan(2);
    expect(inEmail.left).toBeGreaterThan(100);
    expect(await listIndent()).toBeGreaterThan(15);
    await page.close();
  });
});

describe("a paragraph in English on a site in Arabic", () => {
  it("runs left to right from the left edge, its full stop at its end, beside the site's paragraphs in Arabic at the right", async () => {
    const { page } = await arabicDesk([/^(\s*)language: en\b.*$/m, "$1language: ar"], "- One point\n- Another point\n");
    const arabic = await textGaps(page, ".body p", 0);
    expect(arabic.right).toBeLessThan(2);
    const english = await textGaps(page, ".body p", 1);
    expect(english.left).toBeLessThan(2);
    expect(english.right).toBeGreaterThan(100);
    // The full stop stands right of the last word, not left of the first, as it would in a paragraph run right to left.
    const stop = await page.evaluate(() => {
      const text = (document.querySelectorAll(".body p")[1] as HTMLElement).firstChild as Text;
      const at = (start: number) => {
        const range = document.createRange();
        range.setStart(text, start);
        range.setEnd(text, start + 1);
        return range.getBoundingClientRect().left;
      };
      return { stop: at(text.length - 1), first: at(0) };
    });
    expect(stop.stop).toBeGreaterThan(stop.first);
    // The English list's bullets stand on the left, inside its indent.
    const indent = await page.evaluate(() => {
      const list = Array.from(document.querySelectorAll(".body ul")).find((ul) => ul.textContent?.includes("One point")) as HTMLElement;
      return (list.querySelector("li") as HTMLElement).getBoundingClientRect().left - list.getBoundingClientRect().left;
    });
    expect(indent).toBeGreaterThan(15);
    await page.close();
  });
});
