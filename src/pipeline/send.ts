import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { VFile } from "vfile";
import { recipients, stoppedInList, type AudienceCounts, type InvalidRow, type Recipient } from "../audience/audience.js";
import { checkListFile } from "../audience/list-file.js";
import { estimateRows, remoteSource, sourceName, type SubscriberSource } from "../audience/source.js";
import { loadProjectConfig } from "../config/load.js";
import type { Config, NewsletterConfig } from "../config/schema.js";
import { OutboxTransport } from "../delivery/outbox.js";
import { sendIssue, type SendProgress, type SendReport, type Stop } from "../delivery/send.js";
import { SmtpTransport } from "../delivery/smtp.js";
import { smtpFromEnv } from "../delivery/smtp-settings.js";
import type { Transport } from "../delivery/transport.js";
import { freezePage } from "../issues/archive.js";
import { complaintRateCheck, type IssueFeedback } from "../feedback/rules.js";
import { dkimFromEnv } from "../issues/dkim.js";
import { addressKey, messageFactory } from "../issues/message.js";
import { verpAddress } from "../issues/verp.js";
import { planNextIssue, type IssuePlan } from "../issues/plan.js";
import { mjmlToHtml } from "../issues/mjml.js";
import { compileIssue, type CompiledIssue } from "../issues/render.js";
import type { Article } from "../content/article.js";
import { parseDatabaseUrl } from "../store/url.js";
import { Checkpoints, CHECKPOINT_MS } from "../state/checkpoint.js";
import { Journal } from "../state/journal.js";
import { Ledger } from "../state/ledger.js";
import { listReporter } from "../audience/report-back.js";
import { carryBranchOver, migrate, movedMessage, newAttempt, openStore, readSuppressions, saveJournals, stateSettings, takeLock, type StateSettings } from "../state/state.js";
import { type FrozenIssue, type IssueState, type LockRecord, type SendCounts, type Shard, type StateChange, type StateStore } from "../state/store.js";
import { assemble } from "./build.js";
import { readListFeedback, type ListFeedback } from "./list-feedback.js";
import { mjmlAfterBuild, readEmailTemplates } from "./newsletter.js";
import { isPressworkError, PressworkError } from "../errors/error.js";
import { fileWarning } from "../errors/rules.js";

/** Where messages go with --outbox: outside dist/, which is deployed. */
export const OUTBOX_DIR = "outbox";


/** What `presswork send` was asked to do. */
export interface SendRequest {
  root: string;
  /** The plan's clock (--now): which articles are out, the issue's date. */
  now: Date;
  env: NodeJS.ProcessEnv;
  subscribers?: string;
  issue?: number;
  /** A test send of the issue to one address, outside the state. */
  to?: string;
  dryRun: boolean;
  retryFailed: boolean;
  /** Write every message to outbox/ instead of sending it (asked for explicitly, never the fallback). */
  outbox?: boolean;
  shard?: Shard;
  onProgress?: (progress: ListProgress) => void;
  /** A row of the list left out, with the list's name (see sourceName). */
  onInvalid?: (row: InvalidRow, list: string) => void;
  /** A line about the state (carried over, saved, a deleted ledger part), or about a pause of the send (the relay limits its rate). */
  onNotice?: (line: string) => void;
  /** Aborted (its reason a Stop) to stop taking recipients: a signal, usually. */
  stop?: AbortSignal;
  /** Aborted to cut the messages in flight at once. */
  hurry?: AbortSignal;
  /** The wall clock, for attempts and checkpoints (tests pass their own). */
  clock?: () => Date;
  /** Time between checkpoints; a minute unless a test asks for less. */
  checkpointMs?: number;
  /** Send even though the last issue's complaint rate passed `feedback.complaintRate.max`. */
  ignoreComplaintRate?: boolean;
}

/** A send's counts, and how far through the list it is. */
export interface ListProgress extends SendProgress {
  /** Rows of the list read so far. */
  rows: number;
  /** About how many rows the list has, when that can be known before reading it. */
  total?: number;
}

/** How a send ended. */
export interface SendOutcome {
  files: VFile[];
  issue?: number;
  subject?: string;
  transport?: string;
  report?: SendReport;
  audience?: AudienceCounts;
  /** The issue (or this shard's part of it) is recorded as done. */
  recorded?: "complete" | "shard";
  /** Where the state lives. */
  state?: string;
  /** Set for a test send. */
  testSentTo?: string;
  /** Nothing to do, and why (exit code 0): nothing new, or the issue is complete. */
  nothingToSend?: string;
  /** The state could not be saved at the end: what to run. */
  unsaved?: string;
  /** Hard bounces reported back to the list's database or service, and why some could not be (they are reported by the next send). */
  reportedBack?: { to: string; bounces: number; failure?: string };
  /** The bounces and complaints of the last issues before this one, when a database is in use. */
  feedback?: IssueFeedback[];
  /** The last issue's complaint rate passed the threshold and the send went ahead as asked (--ignore-complaint-rate): why. */
  complaintRateIgnored?: string;
}

/**
 * Sends the due issue (or `issue`) to the subscriber list, exactly once
 * across attempts: the state comes from the state store (fetched at its
 * newest), never from the checked-out files. The issue is frozen when its
 * first attempt starts; later attempts send what it froze. The lock of the
 * issue is taken in the store before anything is mailed, the journal is
 * saved at least every minute and at the end, and a store that cannot be
 * saved stops the send. When the whole list has been gone through, the
 * issue is recorded complete (a shard records its part).
 */
export async function send(request: SendRequest): Promise<SendOutcome> {
  const opened: StateStore[] = [];
  try {
    return await sendOnce(request, opened);
  } finally {
    for (const store of opened) await store.close().catch(() => {});
  }
}

async function sendOnce(request: SendRequest, opened: StateStore[]): Promise<SendOutcome> {
  const secret = request.env["PRESSWORK_SECRET"];
  if (!secret) throw new PressworkError("send-setup", "PRESSWORK_SECRET is not set: it keys the unsubscribe tokens and the ledger's address hashes. Set it to a long random value and keep it (changing it makes every ledger entry unknown)");
  const clock = request.clock ?? (() => new Date());
  const notice = request.onNotice ?? (() => {});
  const writes = !request.dryRun && !request.to;
  const { config: settings, file: configFile } = await loadProjectConfig(request.root);
  if (!settings) return { files: [configFile] };

  const transportFor = chooseTransport(request, settings);
  const where = stateSettings(settings, request.env);
  const store = await stateStore(request, where, writes);
  if (store) {
    opened.push(store);
    await store.refresh();
    const moved = where.backend === "branch" ? movedMessage(await store.summary(), store.description) : undefined;
    if (moved) throw new PressworkError("send-setup", `${moved}. Nothing was sent`);
    if (writes && where.backend === "database") {
      const carried = await carryBranchOver(store, request.root, where, request.env, clock());
      if (carried) {
        notice(`Carried the state of the git branch ${where.branch} (${carried.issues} issue(s), ${carried.ledgerParts} ledger part(s), ${carried.suppressionParts} suppression part(s)) into ${store.description}; it is read from there from now on.`);
        notice(carried.unmarked ? `The branch could not be marked as moved (${carried.unmarked}): do not send from it again.` : `The branch is marked as moved: a send or a build that still reads it refuses.`);
      }
    }
    if (writes) {
      const { saved, released } = await saveJournals(store, request.root);
      if (saved || released) notice(`Saved ${saved} unsaved journal(s) of earlier attempts on this machine to ${store.description}${released ? `, released ${released} lock(s) they held` : ""}.`);
      const migration = await migrate(store, request.root, clock());
      if (migration && (migration.issues || migration.ledgers || migration.suppressions)) {
        notice(`Carried ${migration.issues} issue(s) of newsletter/sent.json, ${migration.ledgers} ledger file(s) of newsletter/ledger/ and ${migration.suppressions} suppression(s) of newsletter/suppressed.jsonl over to ${store.description}. They are no longer read from there: remove them from the repository when convenient.`);
      }
    }
  }

  // The newsletter, the list and the DKIM key are checked before the build, which takes a while on a large archive:
  // a list that is missing or cannot be read (a folder, UTF-16, bytes that are not UTF-8, a service without its
  // token), or a key that cannot sign, stops the send at once. A test copy reads no list.
  const { newsletter } = settings;
  if (!newsletter) throw new PressworkError("send-setup", "no newsletter is configured: add a newsletter section to presswork.config.yaml");
  const audience = request.to ? { testCopyTo: request.to } : { source: subscriberSource(request, newsletter.listId) };
  const dkim = dkimFromEnv(request.env, newsletter.from.address, "send-setup");
  // The build reads the record of sent issues from the store this send just opened (and fetched), with its settings and environment.
  const assembly = await assemble({ root: request.root, now: request.now, withoutSite: true, state: { store, settings: where, env: request.env } });
  const { config, newsletter: letter } = assembly;
  if (assembly.files.some((f) => f.messages.some((m) => m.fatal)) || !config) return { files: assembly.files };
  const { rendered } = assembly.bodies;
  if (rendered > 0) notice(`Rendered ${rendered} article(s) that no build's cache held as they are now: a send after \`presswork build\` (without --no-cache) renders none (in the workflow, the send job restores the build job's cache).`);
  // The build plans the newsletter whenever the config has one.
  if (!letter) throw new PressworkError("internal", "the build made no newsletter of a config that has one");
  const base = { files: assembly.files, ...(store ? { state: store.description } : {}) };

  const chosen = chooseIssue(request, letter.issues);
  if ("nothing" in chosen) return { ...base, nothingToSend: chosen.nothing };
  const number = chosen.number;
  const transport = transportFor(number);
  // RFC 8058 4: a receiver offers one-click unsubscribe only on mail whose DKIM signature covers both of its headers.
  if (!dkim && transport.kind === "smtp" && !request.dryRun) {
    notice("No DKIM_PRIVATE_KEY: the messages leave unsigned. The relay must sign them for the From domain, List-Unsubscribe and List-Unsubscribe-Post included, or Gmail and Yahoo offer no one-click unsubscribe.");
  }
  const done = doneMessage(request, letter.issues.find((s) => s.issue.number === number));
  if (done) return { ...base, issue: number, nothingToSend: done };
  const keyOf = (address: string) => addressKey(address, secret);
  const bounces = letter.newsletter.bounces;
  // VERP: each message's envelope sender names its recipient and issue, so a bounce says whom it is about.
  const envelopeFrom = bounces ? (r: Pick<Recipient, "key">) => verpAddress(bounces, { issue: number, key: r.key }, secret) : letter.newsletter.from.address;
  const headers = relayHeaders(request, number);
  // Each message is dated when it is made, by the wall clock: --now plans the issue (the build's clock, which a
  // re-run days later keeps), and a Date hours before the message is received scores as spam.
  const messages = async (issue: CompiledIssue, test = false) =>
    messageFactory(issue, config, letter.newsletter, {
      secret,
      date: clock,
      ...(dkim ? { dkim } : {}),
      ...(test ? { test } : {}),
      ...(bounces ? { unsubscribeDelimiter: bounces.delimiter } : {}),
      ...(headers ? { headers } : {}),
    });

  if ("testCopyTo" in audience) {
    const to = audience.testCopyTo;
    const content = await issueContent(request, config, letter.newsletter, assembly.articles, letter.issues, letter.next, number);
    if ("nothingNew" in content) return { files: [], nothingToSend: content.nothingNew };
    const factory = await messages(content.compiled, true);
    try {
      await transport.verify();
      // A test copy's bounce goes to the bounce mailbox without a token: it is about no subscriber and no issue's rates.
      const outcome = await transport.send({ key: keyOf(to), envelope: { from: bounces?.address ?? letter.newsletter.from.address, to }, raw: await factory({ address: to }) });
      if (outcome.state !== "sent" && outcome.state !== "outboxed") throw new PressworkError("send-refused", `the test message was refused: ${outcome.response}`);
      return { ...base, issue: number, subject: content.compiled.subject, transport: transport.description, testSentTo: to };
    } finally {
      await transport.close();
    }
  }

  const { source } = audience;
  const feedback = await listFeedback(request, letter.newsletter.listId, secret, letter.issues, number);
  let complaintRateIgnored: string | undefined;
  if (feedback) {
    const check = complaintRateCheck(feedback.recent.at(-1), config.feedback);
    if (check.stop && !request.ignoreComplaintRate) throw new PressworkError("send-refused", `${check.reason}; or, once you know why, send this issue with --ignore-complaint-rate`);
    if (check.stop) complaintRateIgnored = check.reason.split(". ")[0];
  }
  if (!request.dryRun) await transport.verify();
  const attempt = newAttempt(clock(), request.env, request.shard);
  const lock: LockRecord = { issue: number, attempt, since: attempt.started, heartbeat: attempt.started, ...(request.shard ? { shard: request.shard } : {}) };
  if (writes && store) {
    try {
      await takeLock(store, lock, clock);
    } catch (error) {
      // The verified connection would hold the process open until its idle timeout.
      await transport.close();
      throw error;
    }
  }
  let journal: Journal | undefined;
  let checkpoints: Checkpoints | undefined;
  let unwatch: (() => Promise<void>) | undefined;
  // Hard bounces go back to the list they came from (the database, or the service's /api/events), as subscriber events.
  const reporter = writes && transport.kind === "smtp" ? listReporter(source, { secret, list: letter.newsletter.listId }) : undefined;
  let reported = 0;
  let finalChanges: StateChange[] = [];
  const stopper = new AbortController();
  const forward = () => stopper.abort(request.stop?.reason);
  request.stop?.addEventListener("abort", forward);
  try {
    // Read again after taking the lock: nothing can change the issue's state from now on but this attempt.
    const states = writes && store ? (await store.summary()).issues : letter.issues;
    const doneSince = doneMessage(request, states.find((s) => s.issue.number === number));
    if (doneSince) return { ...base, issue: number, nothingToSend: doneSince };
    // The ledger first: a ledger the send must refuse leaves the issue as it was.
    const ledger = store ? await Ledger.read(number, store.ledger(number)) : new Ledger(number);
    for (const line of store?.notices ?? []) notice(line);
    const content = await issueContent(request, config, letter.newsletter, assembly.articles, states, letter.next, number);
    if ("nothingNew" in content) return { files: [], nothingToSend: content.nothingNew };
    const { compiled, frozen } = content;
    if (writes && store && !frozen && transport.kind === "smtp") {
      const issue: FrozenIssue = {
        number,
        date: compiled.plan.date.toISOString(),
        subject: compiled.subject,
        articles: compiled.plan.articles.map((a) => a.id),
        leftOut: compiled.leftOut,
        content: { html: compiled.html, text: compiled.text, preheader: compiled.preheader, webUrl: compiled.webUrl },
        // What the issue's page shows, so that no later edit rewrites it.
        page: freezePage(compiled, config, letter.newsletter.content === "full"),
      };
      await store.write([{ kind: "started", issue, attempt: attempt.name }], `Start issue #${number}: ${compiled.subject}`);
    }
    for (const problem of ledger.problems) {
      const file = new VFile({ path: `${store?.description ?? "ledger"}: attempt ${problem.attempt}` });
      fileWarning(file, "ledger", `ledger line ${problem.line} of the part at ${problem.offset} is not a ledger event and was skipped; its recipient may be mailed again`, { place: { line: problem.line, column: 1 } });
      assembly.files.push(file);
    }
    const suppressions = store ? await readSuppressions(store) : new Map<string, never>();
    // The database is the suppression list when there is one; the state's holds the send's own refusals at RCPT TO.
    const suppressed = new Set(suppressions.keys());
    for (const key of feedback?.stopped ?? []) suppressed.add(key);
    for (const key of await stoppedInList(source, keyOf)) suppressed.add(key);
    const report = (key: string, issue: number, at: Date, code: number) => {
      reported++;
      reporter?.add({ key, issue, at, detail: `${code} at RCPT TO` });
    };
    const factory = await messages(compiled);
    const audience: AudienceCounts = { rows: 0, invalid: 0, duplicates: 0, suppressed: 0, otherShards: 0 };
    const total = request.onProgress ? estimateRows(source) : undefined;
    const progress: ListProgress = { sent: 0, outboxed: 0, tempFailed: 0, permFailed: 0, notSent: 0, invalid: 0, skippedSent: 0, skippedOutboxed: 0, skippedOther: 0, resentInFlight: 0, inFlight: 0, retrying: 0, rows: 0, ...(total === undefined ? {} : { total }) };
    const stream = recipients(
      {
        source,
        firstSight: (key) => ledger.firstSight(key),
        keyOf,
        suppressed,
        ...(request.shard ? { shard: request.shard } : {}),
        onInvalid: (row) => request.onInvalid?.(row, sourceName(source)),
        onDuplicate: (row) => request.onInvalid?.(row, sourceName(source)),
        // Suppressed here but still active on the list: an earlier report did not get through, so it goes again (the same event).
        ...(reporter
          ? {
              onSuppressed: (key: string) => {
                const known = suppressions.get(key);
                if (!known) return;
                // The record holds the day only: its last moment (a subscription confirmed earlier that day still yields to it), never later than now.
                const day = /^\d{4}-\d\d-\d\d$/.test(known.at) ? new Date(`${known.at}T23:59:59.999Z`) : undefined;
                report(key, known.issue, day && day.getTime() < clock().getTime() ? day : clock(), known.code);
              },
            }
          : {}),
      },
      audience,
    );
    if (writes && store) {
      journal = Journal.create(request.root, { attempt, issue: number, ...(request.shard ? { shard: request.shard } : {}) });
      const dir = journal.dir;
      checkpoints = new Checkpoints(store, journal, lock, clock, (error) => stopper.abort({ kind: "state", reason: `${error.message}. Nothing more is mailed until the state can be saved: what this attempt recorded is in ${dir}; ${UNSAVED}` } satisfies Stop), request.checkpointMs ?? store.checkpointMs ?? CHECKPOINT_MS);
      checkpoints.start();
      // A database that goes away stops the send at once, not at the next checkpoint.
      unwatch = await store.watch?.((why) => stopper.abort({ kind: "state", reason: `${why}: the state cannot be saved. Nothing more is mailed until it can: what this attempt recorded is in ${dir}; ${UNSAVED}` } satisfies Stop));
    }
    const onProgress = request.onProgress;
    const sent = await sendIssue({
      transport,
      ledger,
      journal: journal ?? { append: () => {} },
      started: new Date(attempt.started),
      recipients: stream,
      message: (r) => factory({ address: r.address, key: r.key, ...(r.name ? { name: r.name } : {}) }),
      envelopeFrom,
      retryFailed: request.retryFailed,
      dryRun: request.dryRun,
      limits: {
        retries: config.delivery.retries,
        retryDelayMs: config.delivery.retryDelaySeconds * 1000,
        stopWhen: config.delivery.stopWhen,
        drainMs: 5000,
        pause: { firstMs: config.delivery.pauseSeconds.first * 1000, maxMs: config.delivery.pauseSeconds.max * 1000 },
        ...(config.delivery.hourlyLimit ? { hourlyLimit: config.delivery.hourlyLimit } : {}),
        ...(config.delivery.messagesPerSecond ? { messagesPerSecond: config.delivery.messagesPerSecond } : {}),
      },
      suppress: (r, code) => {
        journal?.suppress(r.key, code, clock());
        report(r.key, number, clock(), code);
      },
      onInvalid: (r, reason) => request.onInvalid?.({ line: r.line, reason }, sourceName(source)),
      onPause: (ms, reply) => notice(`The SMTP server limits the sending rate (${reply}): paused for ${ms / 1000} s, then one message at a time until one is delivered.`),
      stop: stopper.signal,
      ...(request.hurry ? { hurry: request.hurry } : {}),
      ...(onProgress ? { onProgress: (p: SendProgress) => onProgress(Object.assign(progress, p, { rows: audience.rows })) } : {}),
    });
    if (audience.rows === 0 && !sent.stopped) throw new PressworkError("send-setup", "the subscriber list is empty: nothing was sent");
    let recorded: SendOutcome["recorded"];
    if (writes && sent.finished && transport.kind === "smtp") {
      const counts: SendCounts = { ...ledger.counts(), suppressed: audience.suppressed };
      const at = clock().toISOString();
      finalChanges = request.shard ? [{ kind: "shard-done", issue: number, shard: request.shard, attempt: attempt.name, at, counts }] : [{ kind: "complete", issue: number, attempt: attempt.name, at, counts }];
      recorded = request.shard ? "shard" : "complete";
    }
    const unsaved = await finish(checkpoints, finalChanges, journal);
    const failure = await reporter?.close();
    const reportedBack = reporter && reported > 0 ? { to: reporter.description, bounces: reported - reporter.pending, ...(failure ? { failure } : {}) } : undefined;
    return {
      ...base,
      issue: number,
      subject: compiled.subject,
      transport: transport.description,
      report: sent,
      audience,
      ...(recorded && !unsaved ? { recorded } : {}),
      ...(unsaved ? { unsaved } : {}),
      ...(reportedBack ? { reportedBack } : {}),
      ...(feedback ? { feedback: feedback.recent } : {}),
      ...(complaintRateIgnored ? { complaintRateIgnored } : {}),
    };
  } finally {
    request.stop?.removeEventListener("abort", forward);
    await unwatch?.();
    await reporter?.close();
    // An early return or an error: the lock is released and whatever was journalled saved (once).
    if (checkpoints && !finished.has(checkpoints)) await finish(checkpoints, [], journal);
    else if (writes && store && !checkpoints) await store.write([{ kind: "unlock", issue: number, attempt: attempt.name }], `Release the lock of issue #${number} by ${attempt.name}`).catch(() => {});
    await transport.close();
  }
}

const finished = new WeakSet<Checkpoints>();

/** What to do with a journal the store did not take: a send without it mails again those it recorded. */
const UNSAVED = `run presswork state save on this machine once the store takes it (under GitHub Actions, "Re-run failed jobs" restores the journal from the send-state artifact and saves it before sending); a send without it mails again those mailed since the last save`;

/** The last save of an attempt: its journal, its records, its lock released. Returns what to do when that failed. */
async function finish(checkpoints: Checkpoints | undefined, changes: StateChange[], journal: Journal | undefined): Promise<string | undefined> {
  if (!checkpoints || finished.has(checkpoints)) return undefined;
  finished.add(checkpoints);
  checkpoints.stop();
  journal?.end();
  try {
    await checkpoints.save(changes, true);
    journal?.remove();
    return undefined;
  } catch (error) {
    return `the state could not be saved (${(error as Error).message}); this attempt's records are in ${journal?.dir}: ${UNSAVED}`;
  }
}

/** Why this send has nothing to do: the issue is complete, or this shard's part of it is done. */
function doneMessage(request: SendRequest, state: IssueState | undefined): string | undefined {
  if (!state || request.retryFailed) return undefined;
  const c = state.complete;
  if (c) return `Issue #${state.issue.number} "${state.issue.subject}" is complete (sent to ${c.counts.sent}, ${c.counts.failed} failed, recorded ${c.at.slice(0, 10)}): nothing to send. To send again to those a 4xx left failed, use --retry-failed.`;
  const shard = request.shard ? state.shardsDone.get(`${request.shard.index}/${request.shard.count}`) : undefined;
  if (shard) return `Shard ${request.shard?.index}/${request.shard?.count} of issue #${state.issue.number} is done (sent to ${shard.counts.sent}, recorded ${shard.at.slice(0, 10)}): nothing to send. Run --finalize once every shard is done.`;
  return undefined;
}

/** The transport for an issue: SMTP when configured, the outbox only when asked for. Refuses at once when there is neither. */
function chooseTransport(request: SendRequest, config: Config): (issue: number) => Transport {
  const smtp = smtpFromEnv(request.env);
  if (request.outbox) return (issue) => new OutboxTransport(join(request.root, OUTBOX_DIR, `issue-${issue}${request.to ? "-test" : ""}`));
  if (smtp) return () => new SmtpTransport(smtp, { maxConnections: config.delivery.maxConnections, timeoutSeconds: config.delivery.timeoutSeconds });
  // A dry run sends nothing: any transport will do to count.
  if (request.dryRun) return (issue) => new OutboxTransport(join(request.root, OUTBOX_DIR, `issue-${issue}`));
  const ci = request.env["GITHUB_ACTIONS"] === "true" ? "GitHub Actions" : request.env["CI"] ? "CI" : undefined;
  throw new PressworkError("send-setup", 
    ci
      ? `no SMTP server is configured under ${ci} (SMTP_URL is empty: is the secret set for this job's environment?). Nothing was sent`
      : "no SMTP server is configured: set SMTP_URL (smtp://user:password@host:587), or pass --outbox to write the messages to outbox/ instead. Nothing was sent",
  );
}

/** The store, required when the send writes state; read when it is there. */
async function stateStore(request: SendRequest, settings: StateSettings, writes: boolean): Promise<StateStore | undefined> {
  if (settings.backend === "database") {
    if (writes && request.env["GITHUB_ACTIONS"] === "true" && parseDatabaseUrl(settings.databaseUrl, request.root).dialect === "sqlite") {
      throw new PressworkError("send-setup", "under GitHub Actions the send's state cannot live in a SQLite file: the file dies with the runner, and the next run would send the issue again. Use PostgreSQL (DATABASE_URL=postgres://…) or the state branch (state.store: branch)");
    }
    return openStore(request.root, settings, request.env);
  }
  if (writes && !settings.remote && request.env["GITHUB_ACTIONS"] === "true") {
    throw new PressworkError("send-setup", "under GitHub Actions the send's state must be pushed to the repository, or the next run would not see it: set PRESSWORK_STATE_REMOTE=origin (the workflow does) or state.remote in presswork.config.yaml");
  }
  const store = await openStore(request.root, settings, request.env);
  if (!store && writes) throw new PressworkError("send-setup", `the send keeps its state on the git branch ${settings.branch}, and ${request.root} is not in a git repository: run it in the project's repository (or git init one)`);
  return store;
}

type Chosen = { number: number } | { nothing: string };

/** The issue to send: --issue, the last one started when retrying, one in progress, or the next. */
function chooseIssue(request: SendRequest, issues: readonly IssueState[]): Chosen {
  const last = issues.at(-1);
  if (request.issue !== undefined) {
    const next = (last?.issue.number ?? 0) + 1;
    if (request.issue > next) throw new PressworkError("send-setup", `issue #${request.issue} does not exist yet: the next issue is #${next}`);
    return { number: request.issue };
  }
  if (request.retryFailed) return last ? { number: last.issue.number } : { nothing: "No issue was started yet: nothing to retry." };
  if (last && !last.complete) return { number: last.issue.number };
  return { number: (last?.issue.number ?? 0) + 1 };
}

/** What the issue is: frozen by its first attempt (with that attempt's date), or planned and compiled now (its first attempt). */
async function issueContent(
  request: SendRequest,
  config: Config,
  newsletter: NewsletterConfig,
  articles: readonly Article[],
  issues: readonly IssueState[],
  next: CompiledIssue | undefined,
  number: number,
): Promise<{ compiled: CompiledIssue; frozen: boolean } | { nothingNew: string }> {
  const started = issues.find((s) => s.issue.number === number)?.issue;
  if (started?.content) {
    const byId = new Map(articles.map((a) => [a.id, a]));
    const plan: IssuePlan = { number, date: new Date(started.date), articles: started.articles.flatMap((id) => byId.get(id) ?? []), more: 0 };
    const { html, text, preheader, webUrl } = started.content;
    return { compiled: { plan, subject: started.subject, preheader, webUrl, html, text, shortened: "no", leftOut: started.leftOut ?? [] }, frozen: true };
  }
  if (started) {
    // Carried over from an earlier version, without its content: compiled again from its articles.
    const byId = new Map(articles.map((a) => [a.id, a]));
    const plan: IssuePlan = { number, date: new Date(started.date), articles: started.articles.flatMap((id) => byId.get(id) ?? []), more: 0 };
    const compiled = await compileIssue(plan, config, newsletter, readEmailTemplates(request.root), mjmlToHtml);
    return { compiled: { ...compiled, subject: started.subject }, frozen: true };
  }
  const record = { issues: issues.map(({ issue }) => ({ number: issue.number, date: issue.date, subject: issue.subject, articles: issue.articles })) };
  const built = next?.plan.number === number ? next : undefined;
  const planned = built?.plan ?? planNextIssue(articles, record, newsletter, request.now);
  if (!planned || planned.number !== number) return { nothingNew: `Nothing new since issue #${number - 1}: no issue to send.` };
  // The issue's date is the clock of its first attempt.
  const compiled = await compileIssue({ ...planned, date: request.now }, config, newsletter, readEmailTemplates(request.root), mjmlAfterBuild(request.root));
  // The build's plan is the one it shortened to fit: what that left out is left out still.
  return { compiled: { ...compiled, leftOut: [...(built?.leftOut ?? []), ...compiled.leftOut] }, frozen: false };
}

function subscriberSource(request: SendRequest, list: string): SubscriberSource {
  const file = request.subscribers ?? request.env["PRESSWORK_SUBSCRIBERS_FILE"];
  const remote = file ? remoteSource(file, { env: request.env, root: request.root, list }) : undefined;
  if (remote) return remote;
  if (file) {
    const path = isAbsolute(file) ? file : join(request.root, file);
    if (!existsSync(path)) throw new PressworkError("send-setup", `the subscriber list ${file} does not exist: nothing was sent`);
    checkListFile(path, file);
    return { file: path };
  }
  const text = request.env["PRESSWORK_SUBSCRIBERS"];
  if (text) return { text, origin: "PRESSWORK_SUBSCRIBERS" };
  throw new PressworkError("send-setup", "no subscriber list: pass --subscribers FILE, or set PRESSWORK_SUBSCRIBERS_FILE, or put the list in PRESSWORK_SUBSCRIBERS");
}

/**
 * What the subscriber database says before a send, when one is in use: the
 * keys it stops and the last issues' feedback. One that cannot be read stops
 * the send, which would otherwise mail addresses that bounced or complained.
 */
async function listFeedback(request: SendRequest, list: string, secret: string, issues: readonly IssueState[], number: number): Promise<ListFeedback | undefined> {
  try {
    return await readListFeedback({ root: request.root, url: request.env["DATABASE_URL"], list, secret, issues, before: number });
  } catch (error) {
    if (isPressworkError(error, "database-url")) throw error;
    throw new PressworkError("database-unavailable", `cannot read the subscriber database, whose suppression list the send must honour (${(error as Error).message}). Nothing was sent`);
  }
}

/**
 * Headers a relay reads: through Postmark's SMTP, X-PM-Metadata-issue,
 * which Postmark keeps as the message's metadata and hands back in its
 * webhooks (it replaces the envelope sender, so VERP cannot name the issue
 * there). Through any other relay, nothing: it would be a stray header.
 */
export function relayHeaders(request: Pick<SendRequest, "env" | "outbox">, issue: number): Record<string, string> | undefined {
  if (request.outbox) return undefined;
  const host = smtpFromEnv(request.env)?.host.toLowerCase() ?? "";
  return host === "postmarkapp.com" || host.endsWith(".postmarkapp.com") ? { "X-PM-Metadata-issue": String(issue) } : undefined;
}

/** What --finalize found and did. */
export interface FinalizeOutcome {
  sent: number;
  failed: number;
  /** Shards that did not finish their part, with why, when the issue could not be recorded. */
  missing: string[];
}

/**
 * After a sharded send (a GitHub Actions matrix), records the issue
 * complete once every one of its `shards` shards went through its part of
 * the list, with the counts of the union of their ledgers. Names the shards
 * that did not, and refuses while any still holds the lock.
 */
export async function finalizeShards(root: string, env: NodeJS.ProcessEnv, issue: number, shards: number, clock: () => Date = () => new Date()): Promise<FinalizeOutcome> {
  const { config } = await loadProjectConfig(root);
  const store = await openStore(root, stateSettings(config, env), env);
  if (!store) throw new PressworkError("send-setup", `${root} is not in a git repository: the state is on a git branch`);
  try {
    return await finalizeIn(store, root, env, issue, shards, clock);
  } finally {
    await store.close();
  }
}

async function finalizeIn(store: StateStore, root: string, env: NodeJS.ProcessEnv, issue: number, shards: number, clock: () => Date): Promise<FinalizeOutcome> {
  await store.refresh();
  await saveJournals(store, root);
  const summary = await store.summary();
  const state = summary.issues.find((s) => s.issue.number === issue);
  if (!state) throw new PressworkError("send-setup", `cannot finalize issue #${issue}: no send of it was started`);
  const attempt = newAttempt(clock(), env);
  const lock: LockRecord = { issue, attempt, since: attempt.started, heartbeat: attempt.started };
  await takeLock(store, lock, clock);
  try {
    const fresh = (await store.summary()).issues.find((s) => s.issue.number === issue) ?? state;
    const missing: string[] = [];
    for (let index = 1; index <= shards; index++) {
      if (fresh.shardsDone.has(`${index}/${shards}`)) continue;
      const started = (await hasLedger(store, issue, `-s${index}of${shards}`)) ? "started but did not finish its part of the list (see its run's log; re-run it)" : "never started";
      missing.push(`shard ${index}/${shards} ${started}`);
    }
    const others = [...fresh.shardsDone.keys()].filter((k) => !k.endsWith(`/${shards}`));
    if (others.length) missing.push(`(shards of another split are done: ${others.join(", ")})`);
    if (missing.length > 0) return { sent: 0, failed: 0, missing };
    const ledger = await Ledger.read(issue, store.ledger(issue));
    const counts = ledger.counts();
    const suppressed = [...fresh.shardsDone.values()].reduce((n, d) => n + d.counts.suppressed, 0);
    await store.write([{ kind: "complete", issue, attempt: attempt.name, at: clock().toISOString(), counts: { ...counts, suppressed } }, { kind: "unlock", issue, attempt: attempt.name }], `Finalize issue #${issue} (${shards} shards)`);
    return { ...counts, missing: [] };
  } finally {
    await store.write([{ kind: "unlock", issue, attempt: attempt.name }], `Release the lock of issue #${issue} by ${attempt.name}`).catch((error: unknown) => {
      if (!(isPressworkError(error, "state-save"))) throw error;
    });
  }
}

async function hasLedger(store: StateStore, issue: number, shardSuffix: string): Promise<boolean> {
  for await (const part of store.ledger(issue)) if (part.attempt.endsWith(shardSuffix)) return true;
  return false;
}
