import { defineCommand } from "citty";
import { assemble } from "../../pipeline/build.js";
import { notePath } from "../../pipeline/newsletter.js";
import { displayDate } from "../../site/scope.js";
import { report } from "../report.js";
import { parseNow } from "../usage.js";
import { io } from "../io.js";

/** `presswork issue`: the plan of the next email issue, without sending anything. */
export const issueCommand = defineCommand({
  meta: { name: "issue", description: "Show the next email issue: number, subject, preheader and articles. Sends nothing" },
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
    if (!result.config || !letter) {
      io.err("No newsletter is configured: add a newsletter section to presswork.config.yaml (see README, \"Email issues\").");
      io.fail(1);
      return;
    }
    const next = letter.next;
    const last = letter.record.issues.at(-1);
    if (!next) {
      if (args.json) io.out(JSON.stringify({ next: null, lastSent: last?.number ?? null }));
      else io.out(`Nothing new since ${last ? `issue #${last.number} (${displayDate(new Date(last.date), result.config)})` : "the start"}: no issue to send.`);
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
      io.out(JSON.stringify({ next: plan, lastSent: last?.number ?? null }, null, 2));
      return;
    }
    io.out(`Next issue: #${plan.number}, ${plan.articles.length} article(s)${plan.more ? ` and a link to ${plan.more} more` : ""}`);
    io.out(`Subject:    ${plan.subject}`);
    io.out(`Preheader:  ${plan.preheader}`);
    plan.articles.forEach((a, i) => io.out(`  ${i + 1}. ${a.title}\n     ${a.url}`));
    io.out(`Note:       ${plan.note ?? `none (write ${notePath(plan.number)} to add one)`}`);
    io.out(`Size:       ${(plan.htmlBytes / 1024).toFixed(1)} KB of HTML (Gmail clips at 102 KB)${plan.shortened !== "no" ? `, shortened: ${plan.shortened}` : ""}`);
    io.out(`Web:        ${plan.webUrl}`);
  },
});
