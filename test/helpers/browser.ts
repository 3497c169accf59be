import { existsSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { REPO } from "./project.js";

/** Debian's Chromium, which .ci/run installs (PRESSWORK_CHROMIUM names another installed one); tests never download a browser. */
export const CHROMIUM = process.env["PRESSWORK_CHROMIUM"] || "/usr/bin/chromium";

/** Starts headless Chromium with no network of its own beyond what the page asks for. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * Has `page` load the site at `origin` from the built folder `dist`, as a
 * static host serves it: a folder's index.html, 404 for a file it lacks.
 * Any other address answers 204, so nothing reaches the network.
 */
export async function serveSite(page: Page, dist: string, origin: string): Promise<void> {
  await page.route("**/*", async (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== origin) return route.fulfill({ status: 204 });
    const path = url.pathname.endsWith("/") ? `${url.pathname}index.html` : url.pathname;
    return route.fulfill({ path: join(dist, decodeURIComponent(path)) }).catch(() => route.fulfill({ status: 404 }));
  });
}

/**
 * Saves a full-page screenshot of `page` as `test-results/<name>` (a .jpeg
 * or .png) when PRESSWORK_SCREENSHOTS=1, for a person checking a layout by
 * eye: nothing compares them, so a run without the variable takes none (each
 * costs the browser a render of the whole page and an encode).
 */
export async function keepScreenshot(page: Page, name: string): Promise<void> {
  if (process.env["PRESSWORK_SCREENSHOTS"] !== "1") return;
  const type = name.endsWith(".png") ? "png" : "jpeg";
  await page.screenshot({ path: join(REPO, "test-results", name), fullPage: true, type, ...(type === "jpeg" ? { quality: 60 } : {}) });
}
