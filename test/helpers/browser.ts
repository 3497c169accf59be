import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

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
