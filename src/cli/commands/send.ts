import { appendFileSync } from "node:fs";
import { isAbsolute, relative } from "node:path";
import { isMainThread, parentPort } from "node:worker_threads";
import { defineCommand } from "citty";
import { maskAddress, parseAddress } from "../../audience/address.js";
import type { Stop } from "../../delivery/send.js";
import { feedbackRates, type IssueFeedback } from "../../feedback/rules.js";
import { finalizeShards, send, type ListProgress, type SendOutcome } from "../../pipeline/send.js";
import { report } from "../report.js";
import { parseNow, parseShard } from "../usage.js";
import { io } from "../io.js";
import { SIGNAL_EXIT } from "../bounded.js";
import { ERRORS } from "../../errors/catalogue.js";
import { PressworkError } from "../../errors/error.js";
import { ABOUT } from "./about.js";

/** `presswork send`: the due issue to every subscriber, exactly once, resumable. */
export const sendCommand = defineCommand({
  meta: { name: "send", description: ABOUT.send },
  args: {
    subscribers: {
      type: "string",
      description: "Subscriber list: CSV with an email column, JSON or JSON Lines; db for the database (DATABASE_URL); or a service's https://…/api/subscribers (PRESSWORK_API_TOKEN) (default: PRESSWORK_SUBSCRIBERS_FILE or PRESSWORK_SUBSCRIBERS)",
      valueHint: "FILE|db|URL",
    },
    issue: { type: "string", description: "Issue number (default: the next one, or the one in progress)", valueHint: "N" },
    to: { type: "string", description: "Send a [TEST] copy to this one address only, outside the ledger", valueHint: "ADDRESS" },
    "dry-run": { type: "boolean", description: "Plan and count; send and record nothing", default: false },
    "retry-failed": { type: "boolean", description: "Send again only to the recipients a run left temp-failed (of --issue, or of the last issue started)", default: false },
    outbox: { type: "boolean", description: "Write every message to outbox/ instead of sending it; recorded as outboxed, never as sent", default: false },
    shard: { type: "string", description: "Send only shard i of N (by address hash), with its own ledger", valueHint: "i/N" },
    finalize: { type: "string", description: "After all N shards of --issue are done: record the issue complete (names the shards that are not)", valueHint: "N" },
    now: { type: "string", description: "The clock, ISO 8601 (default: now)", valueHint: "ISO-8601" },
    "ignore-complaint-rate": { type: "boolean", description: "Send even though the last issue's complaint rate passed feedback.complaintRate.max", default: false },
  },
  async run({ args }) {
    const shard = parseShard(args.shard);
    const issue = args.issue === undefined ? undefined : Number(args.issue);
    if (issue !== undefined && !(Number.isInteger(issue) && issue > 0)) throw new PressworkError("usage", `--issue is "${args.issue}", not an issue number`);
    // An empty --to (a variable that was not set) must not become a send to everyone.
    const testAddress = args.to === undefined ? undefined : parseAddress(args.to);
    if (testAddress && "reason" in testAddress) throw new PressworkError("usage", `--to takes the one address to send a test copy to: ${testAddress.reason}`);
    if (args.to !== undefined && (args["dry-run"] || args["retry-failed"] || shard)) throw new PressworkError("usage", "--to sends one test message: it does not go with --dry-run, --retry-failed or --shard");
    if (args.finalize !== undefined) {
      const shards = Number(args.finalize);
      if (!issue || !Number.isInteger(shards) || shards < 1) throw new PressworkError("usage", "--finalize N needs the number of shards and --issue, e.g. --issue 12 --finalize 4");
      const done = await finalizeShards(io.root(), process.env, issue, shards);
      if (done.missing.length > 0) {
        io.err(`presswork send: cannot finalize issue #${issue}: ${done.missing.join("; ")}. Nothing was recorded.`);
        io.fail(1);
        return;
      }
      io.out(`Issue #${issue}: ${done.sent} sent, ${done.failed} not, across ${shards} shards. The issue is recorded complete.`);
      return;
    }
    const progress = new ProgressDisplay();
    const { stop, hurry, release } = signals();
    let outcome: SendOutcome;
    try {
      outcome = await send({
        root: io.root(),
        now: parseNow(args.now),
        env: process.env,
        dryRun: args["dry-run"],
        retryFailed: args["retry-failed"],
        outbox: args.outbox,
        ignoreComplaintRate: args["ignore-complaint-rate"],
        ...(args.subscribers ? { subscribers: args.subscribers } : {}),
        ...(issue ? { issue } : {}),
        ...(testAddress ? { to: testAddress.address } : {}),
        ...(shard ? { shard } : {}),
        onProgress: (p) => progress.update(p),
        onInvalid: (row, list) => io.err(`${isAbsolute(list) ? relative(io.root(), list) : list}:${row.line}  skipped  ${row.reason}`),
        onNotice: (line) => progress.note(line),
        stop: stop.signal,
        hurry: hurry.signal,
      });
    } catch (error) {
      progress.done();
      throw error;
    } finally {
      release();
    }
    progress.done();
    const tally = report(outcome.files, io.err);
    if (tally.errors > 0) {
      io.fail(1);
      return;
    }
    if (outcome.nothingToSend) {
      io.out(outcome.nothingToSend);
      return;
    }
    if (outcome.testSentTo) {
      io.out(`Sent a [TEST] copy of issue #${outcome.issue} to ${maskAddress(outcome.testSentTo)} through ${outcome.transport}.`);
      return;
    }
    summarise(outcome, args["dry-run"]);
    const r = outcome.report;
    const signal = r?.stopped?.kind === "signal" ? r.stopped.signal : undefined;
    if (signal) io.fail(SIGNAL_EXIT[signal] ?? 1);
    // Exit 4 promises a run later mails nobody twice: not so when the journal was not saved.
    else if (r?.stopped?.kind === "unavailable" && !outcome.unsaved) io.fail(ERRORS["smtp-unavailable"].exit);
    else if (!r || r.stopped || outcome.unsaved || r.tempFailed > 0 || r.permFailed > 0 || r.notSent > 0) io.fail(1);
  },
});

/**
 * SIGINT and SIGTERM (Ctrl-C, a cancelled GitHub Actions job): the first
 * stops the send taking recipients and lets the messages in flight finish;
 * the next cuts them; a third ends the process at once. In the worker
 * thread a send runs in, the main thread forwards the signals (see
 * bounded.ts). `release` stops listening, once the send is over.
 */
function signals(): { stop: AbortController; hurry: AbortController; release: () => void } {
  const stop = new AbortController();
  const hurry = new AbortController();
  const on = (signal: NodeJS.Signals) => {
    if (hurry.signal.aborted) process.exit(SIGNAL_EXIT[signal] ?? 1);
    if (stop.signal.aborted) hurry.abort();
    else stop.abort({ kind: "signal", signal, reason: `stopped by ${signal}: no more recipients were taken, the messages in flight were let finish` } satisfies Stop);
  };
  if (isMainThread) {
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  } else {
    parentPort?.on("message", (message: { signal?: NodeJS.Signals }) => {
      if (message.signal) on(message.signal);
    });
    parentPort?.unref();
  }
  const release = () => {
    process.off("SIGINT", on);
    process.off("SIGTERM", on);
  };
  return { stop, hurry, release };
}

function summarise(outcome: SendOutcome, dryRun: boolean): void {
  const r = outcome.report;
  const a = outcome.audience;
  if (!r || !a) return;
  const optional = (label: string, n: number): Array<[string, number]> => (n ? [[label, n]] : []);
  const rows: Array<[string, number]> = [
    [dryRun ? "would be sent" : "sent", r.sent],
    ...optional("written to the outbox (not sent)", r.outboxed),
    ["temp-failed (retry with --retry-failed)", r.tempFailed],
    ["perm-failed (now suppressed)", r.permFailed],
    ...optional("not sent, still owed the issue (the send stopped)", r.notSent),
    ["suppressed or unsubscribed", a.suppressed],
    ["skipped, already sent", r.skippedSent],
    ...optional("skipped, already in the outbox", r.skippedOutboxed),
    ["skipped, failed earlier", r.skippedOther],
    ["invalid rows", a.invalid + r.invalid],
    ["duplicates", a.duplicates],
    ...optional("in other shards", a.otherShards),
    ...optional("in flight when a run died, sent again", r.resentInFlight),
  ];
  io.out(`${dryRun ? "Dry run of" : r.stopped ? "Stopped sending" : "Sent"} issue #${outcome.issue} "${outcome.subject}" through ${outcome.transport}.`);
  for (const [label, n] of rows) io.out(`  ${String(n).padStart(8)}  ${label}`);
  if (r.stopped) io.err(`Stopped: ${r.stopped.reason}${r.stopped.kind === "unavailable" ? " [smtp-unavailable]" : ""}`);
  if (outcome.recorded === "complete") io.out(`Issue #${outcome.issue} is recorded complete on ${outcome.state}.`);
  if (outcome.recorded === "shard") io.out(`This shard's part of issue #${outcome.issue} is recorded done on ${outcome.state}; run --finalize once every shard is.`);
  if (outcome.unsaved) io.err(`presswork send: ${outcome.unsaved}`);
  const back = outcome.reportedBack;
  if (back) io.out(`Reported ${back.bounces} hard bounce(s) to ${back.to}.`);
  if (back?.failure) io.err(`presswork send: some hard bounces could not be reported to ${back.to} (${back.failure}); the send's suppression list keeps them out, and the next send reports them again.`);
  if (outcome.complaintRateIgnored) io.err(`Sent despite the complaint rate (--ignore-complaint-rate): ${outcome.complaintRateIgnored}.`);
  const feedback = feedbackRows(outcome.feedback ?? []);
  if (feedback.length > 0) {
    io.out("Bounces and complaints of the last issues, as recorded so far:");
    io.out(`  ${"issue".padStart(6)}  ${"sent".padStart(8)}  ${"bounced".padStart(8)}  ${"rate".padStart(7)}  ${"complaints".padStart(10)}  ${"rate".padStart(7)}`);
    for (const f of feedback) io.out(`  ${`#${f.issue}`.padStart(6)}  ${String(f.sent).padStart(8)}  ${String(f.bounced).padStart(8)}  ${f.bounceRate.padStart(7)}  ${String(f.complaints).padStart(10)}  ${f.complaintRate.padStart(7)}`);
  }
  const summaryFile = process.env["GITHUB_STEP_SUMMARY"];
  if (summaryFile) {
    const table = ["| | count |", "| --- | ---: |", ...rows.map(([label, n]) => `| ${label} | ${n} |`)].join("\n");
    const rates = feedback.length
      ? `\n#### Bounces and complaints of the last issues\n\n| issue | sent | bounced | bounce rate | complaints | complaint rate |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n${feedback.map((f) => `| #${f.issue} | ${f.sent} | ${f.bounced} | ${f.bounceRate} | ${f.complaints} | ${f.complaintRate} |`).join("\n")}\n`
      : "";
    const ignored = outcome.complaintRateIgnored ? `\n**Sent despite the complaint rate** (--ignore-complaint-rate): ${outcome.complaintRateIgnored}.\n` : "";
    appendFileSync(summaryFile, `### ${dryRun ? "Dry run of" : "Sent"} issue #${outcome.issue}\n\n${table}\n${r.stopped ? `\n**Stopped:** ${r.stopped.reason}\n` : ""}${ignored}${rates}\n`);
  }
}

/** The last issues' feedback as the report shows it: bounces hard and soft together, rates as percentages. */
function feedbackRows(feedback: readonly IssueFeedback[]): Array<{ issue: number; sent: number; bounced: number; complaints: number; bounceRate: string; complaintRate: string }> {
  const percent = (share: number) => `${(share * 100).toFixed(2)} %`;
  return feedback.map((f) => {
    const rates = feedbackRates(f);
    return { issue: f.issue, sent: f.sent, bounced: f.hardBounces + f.softBounces, complaints: f.complaints, bounceRate: percent(rates.bounceRate), complaintRate: percent(rates.complaintRate) };
  });
}

/** Seconds as h:mm:ss or m:ss. */
function duration(seconds: number): string {
  const s = Math.round(seconds);
  const pad = (n: number) => String(n).padStart(2, "0");
  return s >= 3600 ? `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}` : `${Math.floor(s / 60)}:${pad(s % 60)}`;
}

/** A progress bar on a terminal; plain lines every few seconds otherwise. */
class ProgressDisplay {
  private readonly tty = io.terminal();
  private readonly started = Date.now();
  private last = 0;
  private shown = false;
  /** The latest progress, when it came too soon after the last line to be shown. */
  private unshown: ListProgress | undefined;

  update(p: ListProgress): void {
    const now = Date.now();
    this.unshown = now - this.last < (this.tty ? 200 : 5000) ? p : undefined;
    if (this.unshown) return;
    this.last = now;
    this.show(p, now);
  }

  private show(p: ListProgress, now: number): void {
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const rate = (p.sent + p.tempFailed + p.permFailed) / seconds;
    const remaining = p.total === undefined ? undefined : Math.max(0, p.total - p.rows);
    // The ETA goes by rows read, so rows skipped as already sent count at their own (fast) pace.
    const eta = remaining === undefined || p.rows === 0 ? "" : `  ETA ${duration(remaining / (p.rows / seconds))}`;
    const share = p.total ? Math.min(1, p.rows / p.total) : undefined;
    const bar = share === undefined ? "" : `${this.tty ? `[${"#".repeat(Math.round(share * 20)).padEnd(20, "-")}] ` : ""}${Math.floor(share * 100)} %  `;
    const line = `${bar}sent ${p.sent}  failed ${p.tempFailed + p.permFailed}  skipped ${p.skippedSent + p.skippedOutboxed + p.skippedOther}  ${remaining === undefined ? "" : `remaining ~${remaining}  `}${rate.toFixed(1)} msg/s${eta}`;
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${line}`);
      this.shown = true;
    } else io.err(line);
  }

  /** A line of its own, on a terminal in place of the bar (which comes back with the next update). */
  note(line: string): void {
    if (this.shown) process.stderr.write("\r\x1b[2K");
    this.shown = false;
    io.err(line);
  }

  /** Shows the last progress, if it was not (so the last line says what the summary does), and ends the bar's line. */
  done(): void {
    if (this.unshown) this.show(this.unshown, Date.now());
    this.unshown = undefined;
    if (this.shown) process.stderr.write("\n");
    this.shown = false;
  }
}
