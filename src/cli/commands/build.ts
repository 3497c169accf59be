import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineCommand } from "citty";
import { EMAIL_TEMPLATES } from "../../issues/limits.js";
import { CACHE_DIR } from "../../pipeline/json-file.js";
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
    // With no MJML results remembered (a first build, or --no-cache) the issue is sure to need MJML:
    // a thread loads it from the start, beside the build. Otherwise MJML loads here, and only when an
    // issue's outline changed; an edit to an article's text does not load it, and a thread started for
    // nothing would slow that rebuild by a fifth on two cores.
    const remembered = args.cache && existsSync(join(root, CACHE_DIR, "issues"));
    const mjml = !remembered && existsSync(join(root, EMAIL_TEMPLATES)) ? new MjmlThread() : undefined;
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
