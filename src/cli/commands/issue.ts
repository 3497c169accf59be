import { defineCommand } from "citty";
import { describeCadence, dueByCadence } from "../../issues/cadence.js";
import { assemble } from "../../pipeline/build.js";
import { notePath } from "../../pipeline/newsletter.js";
import { displayDate } from "../../site/scope.js";
import { report } from "../report.js";
import { parseNow } from "../usage.js";
import { io } from "../io.js";
import { PressworkError } from "../../errors/error.js";
import { ABOUT } from "./about.js";

/**
 * `presswork issue`: the plan of the next email issue and whether an issue
 * is due (one in progress to finish, or the next one by the cadence),
 * without sending anything. The workflow's build job plans with it.
 */
export const issueCommand = defineCommand({
  meta: { name: "issue", description: ABOUT.issue },
  args: {
    json: { type: "boolean", description: "Print the plan as JSON", default: false },
    now: { type: "string", description: "The clock to plan with, ISO 8601 (default: now)", valueHint: "ISO-8601" },
  },
  async run({ args }) {
    const result = await assemble({ root: io.root(), now: parseNow(args.now), withoutSite: true });
    const tally = report(result.files, io.err);
    if (tally.errors > 0) {
      io.fail(1);
      return;
    }
    const letter = result.newsletter;
    const config = result.config;
    if (!config || !letter) throw new PressworkError("setup", 'no newsletter is configured: add a newsletter section to presswork.config.yaml (see README, "Email issues")');
    const next = letter.next;
    const now = parseNow(args.now);
    const last = letter.record.issues.at(-1);
    const lastSent = letter.issues.filter((s) => s.complete).at(-1)?.issue.number ?? null;
    const inProgress = letter.issues.find((s) => !s.complete)?.issue.number ?? null;
    const cadence = letter.newsletter.cadence;
    const timing = dueByCadence(cadence, config.site.timezone, last ? new Date(last.date) : undefined, now);
    const when = (date: Date) => `${displayDate(date, config)} ${date.toISOString().slice(11, 16)} UTC`;
    const reason =
      inProgress !== null
        ? `issue #${inProgress} was started and is not complete: a send finishes it`
        : !next
          ? `nothing new since ${last ? `issue #${last.number}` : "the start"}`
          : !timing.due
            ? `the cadence (${cadence ? describeCadence(cadence) : ""}) has had no slot since issue #${last?.number} went out on ${last ? when(new Date(last.date)) : ""}`
            : cadence
              ? `the cadence's slot of ${when(timing.slot as Date)} has passed`
              : "there is something new (no cadence set)";
    const issue = inProgress ?? (next && timing.due ? next.plan.number : null);
    const status = { due: issue !== null, issue, reason, lastSent, inProgress };
    if (!next) {
      if (args.json) io.out(JSON.stringify({ next: null, ...status }, null, 2));
      else {
        io.out(`Nothing new since ${last ? `issue #${last.number} (${displayDate(new Date(last.date), config)})` : "the start"}: no issue to send.`);
        if (inProgress !== null) io.out(`Due:        issue #${inProgress}, ${reason}`);
      }
      return;
    }
    const plan = {
      number: next.plan.number,
      subject: next.subject,
      preheader: next.preheader,
      articles: next.plan.articles.map((a) => ({ id: a.id, title: a.title, url: a.url, published: a.published.toISOString() })),
      more: next.plan.more,
      note: next.plan.note ? notePath(next.plan.number) : null,
      htmlBytes: Buffer.byteLength(next.html),
      shortened: next.shortened,
      webUrl: next.webUrl,
    };
    if (args.json) {
      io.out(JSON.stringify({ next: plan, ...status }, null, 2));
      return;
    }
    io.out(`Next issue: #${plan.number}, ${plan.articles.length} article(s)${plan.more ? ` and a link to ${plan.more} more` : ""}`);
    io.out(`Subject:    ${plan.subject}`);
    io.out(`Preheader:  ${plan.preheader}`);
    plan.articles.forEach((a, i) => io.out(`  ${i + 1}. ${a.title}\n     ${a.url}`));
    io.out(`Note:       ${plan.note ?? `none (write ${notePath(plan.number)} to add one)`}`);
    io.out(`Size:       ${(plan.htmlBytes / 1024).toFixed(1)} KB of HTML (Gmail clips at 102 KB)${plan.shortened !== "no" ? `, shortened: ${plan.shortened}` : ""}`);
    io.out(`Web:        ${plan.webUrl}`);
    io.out(`Due:        ${issue !== null ? `yes, issue #${issue}: ${reason}` : `no: ${reason}`}`);
  },
});
