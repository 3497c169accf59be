import { existsSync, realpathSync } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { defineCommand } from "citty";
import { EMAIL_TEMPLATES } from "../../issues/limits.js";
import { PressworkError } from "../../errors/error.js";
import { CACHE_DIR } from "../../cache/store.js";
import { MjmlThread } from "../../pipeline/mjml-thread.js";
import { report } from "../report.js";
import { parseNow } from "../usage.js";
import { io } from "../io.js";
import { ABOUT } from "./about.js";

/** `presswork build`: the site and feeds into dist/. */
export const buildCommand = defineCommand({
  meta: { name: "build", description: ABOUT.build },
  args: {
    now: { type: "string", description: "The build's clock, ISO 8601 (default: now); later articles wait", valueHint: "ISO-8601" },
    out: { type: "string", description: "Output folder", default: "dist", valueHint: "DIR" },
    cache: { type: "boolean", description: "Reuse rendered articles from .presswork-cache/", default: true },
    "site-url": { type: "string", description: "Where the site is served (GitHub Pages' base URL): fail when site.url says otherwise", valueHint: "URL" },
  },
  async run({ args }) {
    const started = performance.now();
    const now = parseNow(args.now);
    const root = io.root();
    if (args["site-url"] !== undefined && !(await siteUrlMatches(root, args["site-url"], args.cache))) return;
    // MJML runs in a thread of its own. With no MJML results remembered (a first build, or --no-cache)
    // the issue is sure to need it, and the thread starts loading it now, beside the build; otherwise
    // the build starts it when front matter changed (see assemble). An edit to an article's text does
    // not load MJML at all, and a thread started for nothing would slow that rebuild by a fifth.
    const mjml = existsSync(join(root, EMAIL_TEMPLATES)) ? new MjmlThread() : undefined;
    if (!(args.cache && existsSync(join(root, CACHE_DIR, "issues")))) mjml?.prepare();
    const out = outputFolder(root, args.out);
    const { build } = await import("../../pipeline/build.js");
    const result = await build({ root, now, out, ...(args.cache ? {} : { cacheDir: false }), ...(mjml ? { mjml } : {}) }).finally(() => mjml?.close());
    const tally = report(result.files, io.err);
    if (tally.errors > 0) {
      io.err(`Build failed: ${tally.errors} error(s), ${tally.warnings} warning(s). Nothing was written.`);
      io.fail(1);
      return;
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const w = result.written;
    const files = w ? `${w.written} file(s) written, ${w.unchanged} unchanged, ${w.removed} removed` : "nothing written";
    io.out(`Built ${result.articles.length} article(s) into ${args.out}/ (${files}) in ${seconds} s${tally.warnings ? `, ${tally.warnings} warning(s)` : ""}.`);
  },
});

/** Folders the build reads (the newsletter's notes and its record of earlier versions), or keeps its cache in, relative to the project root. */
const INPUTS = ["articles", "templates", "newsletter", CACHE_DIR];

/**
 * The output folder `--out` names, refused inside a folder the build reads
 * (each build would copy the last one's output into the next) or around
 * the project itself. Folders are compared as the disk has them, so neither
 * a symbolic link into articles/ nor `Articles/` on a case-insensitive disk
 * gets past.
 */
function outputFolder(root: string, given: string): string {
  const out = resolve(root, given);
  const real = onDisk(out);
  const project = onDisk(root);
  const within = (dir: string, folder: string) => folder === dir || folder.startsWith(dir.endsWith(sep) ? dir : dir + sep);
  const input = INPUTS.find((dir) => within(onDisk(join(root, dir)), real));
  if (input) throw new PressworkError("usage", `--out ${given} is inside ${input}/, which the build reads: write the site to a folder of its own, such as dist`);
  if (within(real, project)) throw new PressworkError("usage", `--out ${given} holds the project itself: write the site to a folder of its own, such as dist`);
  return out;
}

/** `path` with its nearest existing folder as the disk names it (links followed, letters in their case); the rest as given. */
function onDisk(path: string): string {
  const parent = dirname(path);
  try {
    return realpathSync.native(path);
  } catch {
    return parent === path ? path : join(onDisk(parent), basename(path));
  }
}

/**
 * Whether site.url is the address the site is served at. Every link in the
 * feeds and the email (the "view in browser" link among them) is made from
 * site.url, so a mismatch is reported before anything is built. The config
 * is taken from the cache unless the build keeps none.
 */
async function siteUrlMatches(root: string, served: string, cached: boolean): Promise<boolean> {
  const { loadConfig, loadProjectConfig, CONFIG_FILE } = await import("../../config/load.js");
  const { config } = await (cached ? loadProjectConfig(root) : loadConfig(root));
  if (!config) return true;
  const normal = (url: string) => (URL.canParse(url) ? new URL(url.endsWith("/") ? url : `${url}/`).href : url);
  if (normal(config.site.url) === normal(served)) return true;
  io.err(`${CONFIG_FILE}: site.url is ${config.site.url}, but the site is served at ${normal(served)}. Every link in the feeds and the email would point to the wrong place: set site.url to ${normal(served)} (or the Pages settings to the address you want).`);
  io.fail(1);
  return false;
}
