import { defineCommand } from "citty";
import { assemble } from "../../pipeline/build.js";
import { servicePageProblems } from "../../service/pages.js";
import { report } from "../report.js";
import { parseNow } from "../usage.js";
import { io } from "../io.js";
import { ABOUT } from "./about.js";

/** `presswork check`: every problem in articles, config and templates, drafts included. */
export const checkCommand = defineCommand({
  meta: { name: "check", description: ABOUT.check },
  args: {
    strict: { type: "boolean", description: "Fail on warnings as well as errors", default: false },
    now: { type: "string", description: "The clock to check against, ISO 8601 (default: now)", valueHint: "ISO-8601" },
  },
  async run({ args }) {
    const root = io.root();
    const result = await assemble({ root, now: parseNow(args.now), includeUnpublished: true, stateOptional: true });
    const tally = report([...result.files, ...servicePageProblems(root)], io.err);
    const unfrozen = result.newsletter?.unfrozen ?? [];
    if (unfrozen.length > 0) io.out(unfrozenLine(unfrozen));
    const failed = tally.errors > 0 || (args.strict && tally.warnings > 0);
    const checked = result.files.filter((f) => f.path?.startsWith("articles/") && f.path.endsWith(".md")).length;
    const summary = `${checked} article(s) checked: ${tally.errors} error(s), ${tally.warnings} warning(s)`;
    if (failed) {
      io.err(`${summary}.${!tally.errors ? " Warnings fail with --strict." : ""}`);
      io.fail(1);
    } else io.out(`${summary}. All good.`);
  },
});

/**
 * What `check` says of issues frozen without their page: they are built
 * from today's articles and notes, so an edit changes them.
 */
function unfrozenLine(numbers: readonly number[]): string {
  const list = numbers.map((n) => `#${n}`);
  const one = list.length === 1;
  const named = one ? `Issue ${list[0]} was` : `Issues ${list.slice(0, -1).join(", ")} and ${list.at(-1)} were`;
  return `${named} sent by an earlier version of Presswork, which did not keep what ${one ? "its page shows: its page, index entry and feed item follow" : "their pages show: their pages, index entries and feed items follow"} the articles and editor's notes as they are now, and change when those are edited. Issues sent from now on keep what they were sent with.`;
}
