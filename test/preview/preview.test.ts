import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPreview, type Preview } from "../../src/preview/server.js";
import { keepScreenshot, launchBrowser } from "../helpers/browser.js";
import { runCliHere } from "../helpers/cli.js";
import { removeProjects, tempProject } from "../helpers/project.js";

let browser: Browser;
let preview: Preview;
let root: string;

beforeAll(async () => {
  root = await tempProject({ samples: true });
  preview = await startPreview({ root, port: 0, smtpPort: 0, log: () => {} });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await preview?.close();
  await removeProjects();
});

async function open(path: string, options: { width?: number; scheme?: "light" | "dark" } = {}): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: options.width ?? 1100, height: 900 }, colorScheme: options.scheme ?? "light" });
  // The publication's own host is not this machine: anything outside loopback answers empty.
  await page.route("**/*", (route) => (/^https?:\/\/127\.0\.0\.1/.test(route.request().url()) ? route.continue() : route.fulfill({ status: 204 })));
  await page.goto(new URL(path, preview.url).href);
  return page;
}

describe("presswork preview", () => {
  it("serves the site as it will be deployed, with the feeds", async () => {
    const page = await open("/");
    await expect(page.locator("h1").first().textContent()).resolves.toBe("Latest");
    const feed = await page.request.get(new URL("/atom.xml", preview.url).href);
    expect(feed.status()).toBe(200);
    expect(await feed.text()).toContain("<feed");
    await page.close();
  });

  it("shows the next email at 375 px without horizontal scrolling, every image with alt text", async () => {
    const page = await open("/_presswork/email/frame?scheme=light", { width: 375 });
    const { scroll, missingAlt, images } = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      missingAlt: Array.from(document.images).filter((img) => !img.alt.trim()).length,
      images: document.images.length,
    }));
    expect(scroll).toBeLessThanOrEqual(375);
    expect(images).toBeGreaterThan(0);
    expect(missingAlt).toBe(0);
    await page.close();
  });

  it("switches the email to dark, which changes its colours", async () => {
    const colour = async (scheme: "light" | "dark") => {
      const page = await open(`/_presswork/email/frame?scheme=${scheme}`, { width: 600 });
      const value = await page.evaluate(() => getComputedStyle(document.querySelector(".page") as Element).backgroundColor);
      await keepScreenshot(page, `preview/email-600-${scheme}.png`);
      await page.close();
      return value;
    };
    expect(await colour("light")).toBe("rgb(251, 250, 247)");
    expect(await colour("dark")).toBe("rgb(20, 20, 22)");
    for (const scheme of ["light", "dark"] as const) {
      const page = await open(`/_presswork/email/frame?scheme=${scheme}`, { width: 375 });
      await keepScreenshot(page, `preview/email-375-${scheme}.png`);
      await page.close();
    }
  });

  it("shows the subject, the size against Gmail's limit and the frames at 320, 375 and 600 px, images off and styles stripped", async () => {
    const page = await open("/_presswork/email");
    await expect(page.locator("#subject").textContent()).resolves.toContain("Signal & Noise #3");
    await expect(page.locator("#size").textContent()).resolves.toMatch(/^\d+\.\d KB of HTML of Gmail's 102 KB/);
    expect(await page.locator("iframe").evaluateAll((frames) => frames.map((f) => (f as HTMLIFrameElement).width))).toEqual(["320", "375", "600", "375", "375"]);
    await page.close();
  });

  it("shows the configured unsubscribe URL and every header that matters on the email page", async () => {
    const page = await open("/_presswork/email");
    await expect(page.locator("#unsubscribe").textContent()).resolves.toContain("https://news.signal-noise.example/unsubscribe?list=weekly.signal-noise.example&token={token}");
    const headers = Object.fromEntries(await page.locator("#message-headers tr").evaluateAll((rows) => rows.map((r) => [r.querySelector("th")?.textContent, r.querySelector("td")?.textContent])));
    expect(headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    expect(headers["List-ID"]).toBe('"Signal & Noise Weekly" <weekly.signal-noise.example>');
    expect(headers["Reply-To"]).toBe("editors@signal-noise.example");
    expect(headers["List-Unsubscribe"]).toMatch(/^<https:\/\/news\.signal-noise\.example\/unsubscribe\?list=weekly\.signal-noise\.example&token=[^>]+>, <mailto:unsubscribe@signal-noise\.example\?subject=unsubscribe%20\d+\.[0-9a-f]{24}\.[0-9a-f]{12}>$/);
    await page.close();
  });

  it("frames the email with the configured unsubscribe link, with images off and with its styles stripped", async () => {
    const frame = async (query: string) => (await (await fetch(new URL(`/_presswork/email/frame?scheme=light${query}`, preview.url))).text());
    const normal = await frame("");
    expect(normal).toContain('href="https://news.signal-noise.example/unsubscribe?list=weekly.signal-noise.example&amp;token=preview"');
    expect(normal).toMatch(/<img [^>]*src="http:\/\/127\.0\.0\.1/);
    expect(normal).toContain("<style");
    const imagesOff = await frame("&images=off");
    expect(imagesOff).toMatch(/<img [^>]*alt="[^"]+"/);
    expect(imagesOff).not.toMatch(/<img [^>]*src=/);
    expect(await frame("&styles=off")).not.toContain("<style");
  });

  it("reloads an open page by itself when an article changes on disk", async () => {
    const page = await open("/articles/municipal-broadband/");
    const file = join(root, "articles/municipal-broadband.md");
    await writeFile(file, (await readFile(file, "utf8")).replace("Town-Owned Fibre: Three Years of Numbers", "Town-Owned Fibre: Four Years of Numbers"));
    await page.waitForFunction(() => document.querySelector("h1")?.textContent === "Town-Owned Fibre: Four Years of Numbers", undefined, { timeout: 20_000 });
    await page.close();
  });

  it("shows broken front matter in an overlay with file and line, and clears it when fixed", async () => {
    const page = await open("/");
    const file = join(root, "articles/undersea-cable-repair.md");
    const good = await readFile(file, "utf8");
    await writeFile(file, good.replace("date: 2026-11-12T06:00:00Z", "date: 2026-13-12"));
    const overlay = page.locator("#presswork-overlay");
    await overlay.waitFor({ timeout: 20_000 });
    await expect(overlay.textContent()).resolves.toContain("articles/undersea-cable-repair.md:3:7  error  'date' is \"2026-13-12\", not a date.");
    await writeFile(file, good);
    await overlay.waitFor({ state: "detached", timeout: 20_000 });
    await page.close();
  });

  it("catches a send and lists it in the inbox with the right subject", async () => {
    const sent = await runCliHere(["send", "--to", "editor@example.org", "--now", "2026-11-29T12:00:00Z"], root, { PRESSWORK_SECRET: "preview-test", SMTP_URL: `smtp://127.0.0.1:${preview.smtpPort}` });
    expect(sent.code, sent.stderr).toBe(0);
    const page = await open("/_presswork/inbox");
    await expect(page.locator("a.message").first().textContent()).resolves.toMatch(/^\[TEST\] Signal & Noise #3: /);
    await page.locator("a.message").first().click();
    await expect(page.locator("th", { hasText: "list-unsubscribe-post" }).count()).resolves.toBe(1);
    await page.close();
  });

  it("says so when its port is in use", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    await expect(startPreview({ root, port, smtpPort: 0, log: () => {} })).rejects.toThrow(`port ${port} is in use: choose another with --port N`);
    blocker.close();
  });
});
