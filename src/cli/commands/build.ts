import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineCommand } from "citty";
import { EMAIL_TEMPLATES } from "../../issues/limits.js";
import { CACHE_DIR } from "../../cache/store.js";
import { MjmlThread } from "../../pipeline/mjml-thread.js";
import { report } from "../report.js";
import { parseNow } from "../usage.js";
import { io } from "../io.js";

/** `presswork build`: the site and feeds into dist/. */
export const buildCommand = defineCommand({
  meta: { name: "build", description: "Build the site and the feeds from articles/ into dist/" },
  args: {
    now: { type: "string", description: "The build's clock, ISO 8601 (default: now); later articles wait", valueHint: "ISO-8601" },
    out: { type: "string", description: "Output folder", default: "dist", valueHint: "DIR" },
    cache: { type: "boolean", description: "Reuse rendered articles from .presswork-cache/", default: true },
  },
  async run({ args }) {
    const started = performance.now();
    const now = parseNow(args.now);
    const root = io.root();
    // MJML runs in a thread of its own. With no MJML results remembered (a first build, or --no-cache)
    // the issue is sure to need it, and the thread starts loading it now, beside the build; otherwise
    // the build starts it when front matter changed (see assemble). An edit to an article's text does
    // not load MJML at all, and a thread started for nothing would slow that rebuild by a fifth.
    const mjml = existsSync(join(root, EMAIL_TEMPLATES)) ? new MjmlThread() : undefined;
    if (!(args.cache && existsSync(join(root, CACHE_DIR, "issues")))) mjml?.prepare();
    const { build } = await import("../../pipeline/build.js");
    const result = await build({ root, now, out: resolve(root, args.out), ...(args.cache ? {} : { cacheDir: false }), ...(mjml ? { mjml } : {}) }).finally(() => mjml?.close());
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
