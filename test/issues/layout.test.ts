import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CompiledIssue } from "../../src/issues/render.js";
import { personalise } from "../../src/issues/tokens.js";
import { assemble } from "../../src/pipeline/build.js";
import { previewValues } from "../../src/issues/preview.js";
import type { NewsletterConfig } from "../../src/config/schema.js";
import { keepScreenshot, launchBrowser } from "../helpers/browser.js";
import { headings, lowContrast, sidewaysScroll, withoutStyles } from "../helpers/reading.js";
import { REPO, removeProjects, tempProject } from "../helpers/project.js";

const NOW = new Date("2026-11-29T12:00:00Z");
const SITE = "https://signal-noise.example/";

interface Variant {
  name: string;
  root: string;
  issue: CompiledIssue;
  html: string;
}

let browser: Browser;
const variants: Variant[] = [];

/** The samples (and, for "stress", an article with everything long-form) as the next issue, in summary or full. */
async function variant(name: string, stress: boolean, content: "summary" | "full"): Promise<Variant> {
  const articles = stress ? { "stress.md": await readFile(join(REPO, "test/fixtures/email-stress/stress.md"), "utf8") } : {};
  const root = await tempProject({ samples: true, articles });
  const config = join(root, "presswork.config.yaml");
  await writeFile(config, (await readFile(config, "utf8")).replace("content: summary", `content: ${content}`));
  const result = await assemble({ root, now: NOW, cacheDir: false });
  expect(result.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
  const issue = result.newsletter?.next;
  if (!issue) throw new Error("no issue planned");
  expect(issue.shortened).toBe("no");
  const html = personalise(issue.html, previewValues(result.config?.newsletter as NewsletterConfig), "html");
  return { name: `${name}-${content}`, root, issue, html };
}

beforeAll(async () => {
  for (const [name, stress] of [["sample", false], ["stress", true]] as const) {
    for (const content of ["summary", "full"] as const) variants.push(await variant(name, stress, content));
  }
  browser = await launchBrowser();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await removeProjects();
});

let shared: Page | undefined;
let served: { root: string; styles: boolean; foreign: string[] } = { root: "", styles: true, foreign: [] };

/**
 * Shows an issue as a mail client would: the site's images come from the
 * project (or are blocked, as many clients do by default: here, whenever
 * the styles are dropped too), and any other request is recorded and
 * refused. One page serves every view, resized and recoloured in turn.
 */
async function open(v: Variant, width: number, scheme: "light" | "dark", styles: boolean): Promise<{ page: Page; foreign: string[] }> {
  if (!shared) {
    shared = await browser.newPage();
    await shared.route("**/*", async (route) => {
      const url = route.request().url();
      if (!url.startsWith(SITE)) {
        served.foreign.push(url);
        return route.abort();
      }
      if (!served.styles) return route.abort();
      return route.fulfill({ path: join(served.root, "articles", decodeURIComponent(new URL(url).pathname.replace(/^\/articles\//, ""))) }).catch(() => route.fulfill({ status: 404 }));
    });
  }
  served = { root: v.root, styles, foreign: [] };
  await shared.setViewportSize({ width, height: 900 });
  await shared.emulateMedia({ colorScheme: scheme });
  await shared.setContent(styles ? v.html : withoutStyles(v.html), { waitUntil: "load" });
  return { page: shared, foreign: served.foreign };
}

describe("the email in a browser", () => {
  for (const width of [320, 375, 600]) {
    for (const scheme of ["light", "dark"] as const) {
      for (const styles of [true, false]) {
        it(`fits ${width} px in ${scheme} mode ${styles ? "with" : "without"} its styles, reads at 4.5:1 everywhere, loads nothing from elsewhere`, async () => {
          for (const v of variants) {
            const { page, foreign } = await open(v, width, scheme, styles);
            const where = `${v.name} at ${width} px, ${scheme}, ${styles ? "styled" : "unstyled"}`;
            expect(await sidewaysScroll(page), where).toBe(0);
            expect(await lowContrast(page), where).toEqual([]);
            expect(foreign, where).toEqual([]);
            await keepScreenshot(page, `email/${v.name}-${width}-${scheme}${styles ? "" : "-unstyled"}.jpeg`);
          }
        });
      }
    }
  }

  it("has a heading for the issue and one for each article, lead first", async () => {
    for (const v of variants) {
      const { page } = await open(v, 375, "light", true);
      const found = await headings(page);
      expect(found[0], v.name).toBe("h1 Signal & Noise Weekly");
      const titles = found.filter((h) => h.startsWith("h2 ")).map((h) => h.slice(3));
      expect(titles, v.name).toEqual(expect.arrayContaining(v.issue.plan.articles.map((a) => a.title)));
      if (v.issue.plan.articles.length > 3) expect(titles[0], v.name).toBe("In this issue");
    }
  });

  it("keeps its rules visible and quiet and its headlines the colour of its text, in light and in dark", async () => {
    const v = variants.find((x) => x.name === "stress-full") as Variant;
    for (const scheme of ["light", "dark"] as const) {
      const { page } = await open(v, 600, scheme, true);
      const seen = await page.evaluate(() => {
        const rgb = (value: string) => (/\(([^)]*)\)/.exec(value)?.[1] ?? "0,0,0").split(/[\s,]+/).slice(0, 3).map(Number);
        const lum = (c: number[]) => {
          const [r = 0, g = 0, b = 0] = c.map((v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4));
          return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        const ratio = (a: string, b: string) => {
          const [hi, lo] = [lum(rgb(a)), lum(rgb(b))].sort((x, y) => y - x) as [number, number];
          return (hi + 0.05) / (lo + 0.05);
        };
        const page = getComputedStyle(document.querySelector(".page > div[aria-label]") as Element).backgroundColor;
        const border = (selector: string, side: "Top" | "Bottom") => Array.from(document.querySelectorAll(selector)).map((e) => ratio(getComputedStyle(e)[`border${side}Color`], page));
        const colour = (selector: string) => getComputedStyle(document.querySelector(selector) as Element).color;
        return {
          rules: [...border(".rule p", "Top"), ...border(".body td", "Bottom")],
          strong: border(".rule-strong p", "Top"),
          headline: colour(".headline a"),
          text: colour(".body p"),
        };
      });
      expect(Math.min(...seen.rules), scheme).toBeGreaterThanOrEqual(1.2);
      expect(Math.max(...seen.rules), scheme).toBeLessThanOrEqual(2);
      expect(Math.min(...seen.strong), scheme).toBeGreaterThanOrEqual(4.5);
      expect(seen.headline, scheme).toBe(seen.text);
    }
  });

  it("keeps a wide table's words whole and lets the table scroll in its own box, without styles too", async () => {
    const v = variants.find((x) => x.name === "stress-full") as Variant;
    for (const styles of [true, false]) {
      const { page } = await open(v, 320, "light", styles);
      const table = await page.evaluate(() => {
        const table = Array.from(document.querySelectorAll("th")).find((th) => th.textContent === "Year")?.closest("table") as HTMLTableElement;
        const box = table.parentElement as HTMLElement;
        // A word broken across lines ("Ye/ar") has more than one line box; a break after a hyphen is a line break like any other.
        const broken: string[] = [];
        for (const cell of Array.from(table.querySelectorAll("th, td"))) {
          const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode() as Text | null; node; node = walker.nextNode() as Text | null) {
            for (const word of node.data.matchAll(/[^\s-]+/g)) {
              const range = document.createRange();
              range.setStart(node, word.index);
              range.setEnd(node, word.index + word[0].length);
              if (new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size > 1) broken.push(word[0]);
            }
          }
        }
        return { broken, scrolls: box.scrollWidth > box.clientWidth, height: table.getBoundingClientRect().height };
      });
      expect(table.broken, JSON.stringify(table.broken)).toEqual([]);
      expect(table.scrolls).toBe(true);
      expect(table.height).toBeLessThan(400);
    }
  });
});

describe("the email of a newsletter in a language written right to left", () => {
  it("runs right to left: its name at the right, the web link at the left, the Quick Reads rule, the contents' numbers and a table's first column on the right; English and code at the left", async () => {
    const arabic = "---\ntitle: مكتب الأخبار\ndate: 2026-11-28\n---\n\nهذه فقرة قصيرة.\n\nA line in English.\n\n| البلدة | السعر |\n| --- | --- |\n| الأولى | ١٠ |\n\n```\nmake build\n```\n";
    const root = await tempProject({ samples: true, articles: { "arabic-desk.md": arabic } });
    const config = join(root, "presswork.config.yaml");
    await writeFile(config, (await readFile(config, "utf8")).replace(/^(\s*)language: en\b.*$/m, "$1language: ar").replace("content: summary", "content: full"));
    const result = await assemble({ root, now: NOW, cacheDir: false });
    const issue = result.newsletter?.next;
    if (!issue) throw new Error("no issue planned");
    const page = await browser.newPage({ viewport: { width: 600, height: 900 } });
    await page.route("**/*", (route) => route.abort());
    await page.setContent(personalise(issue.html, previewValues(result.config?.newsletter as NewsletterConfig), "html"));
    const seen = await page.evaluate(() => {
      // The gaps between an element's text and its content box's left and right edges.
      const gaps = (element: Element) => {
        const range = document.createRange();
        range.selectNodeContents(element);
        const text = range.getBoundingClientRect();
        const box = element.getBoundingClientRect();
        const style = getComputedStyle(element);
        return { left: Math.round(text.left - box.left - parseFloat(style.paddingLeft)), right: Math.round(box.right - parseFloat(style.paddingRight) - text.right) };
      };
      const find = (selector: string, text: string) => Array.from(document.querySelectorAll(selector)).find((e) => e.textContent?.includes(text)) as HTMLElement;
      const panel = document.querySelector(".panel") as HTMLElement;
      const contents = find("ol", "") as HTMLElement;
      return {
        name: gaps(document.querySelector("h1") as Element),
        web: gaps(find("p", "View in your browser")),
        panel: [getComputedStyle(panel).borderRightWidth, getComputedStyle(panel).borderLeftWidth],
        numbers: contents.getBoundingClientRect().right - (contents.querySelector("li") as HTMLElement).getBoundingClientRect().right,
        english: gaps(find("p", "A line in English.")),
        code: gaps(find("pre", "make build")),
        columns: ["البلدة", "السعر"].map((text) => find("th", text).getBoundingClientRect().left),
      };
    });
    expect(seen.english.left, JSON.stringify(seen.english)).toBeLessThan(2);
    expect(seen.english.right).toBeGreaterThan(100);
    expect(seen.code.left, JSON.stringify(seen.code)).toBeLessThan(2);
    expect(seen.columns[0], JSON.stringify(seen.columns)).toBeGreaterThan(seen.columns[1] as number);
    expect(seen.name.right, JSON.stringify(seen.name)).toBeLessThan(2);
    expect(seen.name.left).toBeGreaterThan(100);
    expect(seen.web.left).toBeLessThan(2);
    expect(seen.web.right).toBeGreaterThan(100);
    expect(seen.panel).toEqual(["4px", "0px"]);
    expect(seen.numbers).toBeGreaterThan(15);
    await keepScreenshot(page, "email/sample-rtl-600.jpeg");
    await page.close();
  });
});
