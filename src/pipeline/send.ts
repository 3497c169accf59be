import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { VFile } from "vfile";
import { recipients, type AudienceCounts, type InvalidRow, type Recipient } from "../audience/audience.js";
import { estimateRows, remoteSource, type SubscriberSource } from "../audience/source.js";
import { acquireLock } from "../delivery/lock.js";
import { Ledger, ledgerPath } from "../delivery/ledger.js";
import { OutboxTransport } from "../delivery/outbox.js";
import { sendIssue, type SendProgress, type SendReport } from "../delivery/send.js";
import { SmtpTransport, smtpFromEnv } from "../delivery/smtp.js";
import type { Transport } from "../delivery/transport.js";
import { addressKey, messageFactory, type DkimKey } from "../issues/message.js";
import { planSentIssue, type IssuePlan } from "../issues/plan.js";
import { RECORD_FILE } from "../issues/limits.js";
import { appendToRecord, type SentRecord } from "../issues/record.js";
import { compileIssue, type CompiledIssue } from "../issues/render.js";
import { assemble, type Assembly } from "./build.js";
import { readEmailTemplates, readRecord } from "./newsletter.js";

/** Where ledgers live, relative to the project root: committed with the record, no address in them. */
export const LEDGER_DIR = "newsletter/ledger";
/** Keyed hashes of addresses never to mail again (5xx replies), one JSON object a line. */
export const SUPPRESSION_FILE = "newsletter/suppressed.jsonl";
/** Where messages go when no SMTP server is configured: outside dist/, which is deployed. */
export const OUTBOX_DIR = "outbox";

/** A problem with how the send was asked for or set up: printed as is, exit code 1. */
export class SendSetupError extends Error {}

/** What `presswork send` was asked to do. */
export interface SendRequest {
  root: string;
  now: Date;
  env: NodeJS.ProcessEnv;
  subscribers?: string;
  issue?: number;
  /** A test send of the issue to one address, outside the ledger. */
  to?: string;
  dryRun: boolean;
  retryFailed: boolean;
  shard?: { index: number; count: number };
  onProgress?: (progress: ListProgress) => void;
  onInvalid?: (row: InvalidRow) => void;
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
  recordUpdated?: boolean;
  /** Set for a test send. */
  testSentTo?: string;
  nothingToSend?: string;
}

/**
 * Sends the due issue (or `issue`) to the subscriber list, resuming from the
 * ledger, through SMTP when configured and into the outbox otherwise. When a
 * whole (unsharded) send completes, the record of sent issues is updated.
 */
export async function send(request: SendRequest): Promise<SendOutcome> {
  const secret = request.env["PRESSWORK_SECRET"];
  if (!secret) throw new SendSetupError("PRESSWORK_SECRET is not set: it keys the unsubscribe tokens and the ledger's address hashes. Set it to a long random value and keep it (changing it makes every ledger entry unknown)");
  const assembly = await assemble({ root: request.root, now: request.now, withoutSite: true });
  const { config, newsletter: letter } = assembly;
  if (assembly.files.some((f) => f.messages.some((m) => m.fatal)) || !config) return { files: assembly.files };
  if (!letter) throw new SendSetupError("no newsletter is configured: add a newsletter section to presswork.config.yaml");
  const newsletter = letter.newsletter;

  const chosen = chooseIssue(request, assembly, letter.record);
  if ("nothing" in chosen) return { files: assembly.files, nothingToSend: chosen.nothing };
  const { plan, ledgerFile } = chosen;
  const date = chosen.header ? new Date(chosen.header.date) : request.now;
  const compiled: CompiledIssue = await compileIssue({ ...plan, date }, config, newsletter, readEmailTemplates(request.root));
  const dkim = dkimFromEnv(request.env, newsletter.from.address);
  const factory = await messageFactory(compiled, config, newsletter, { secret, date, ...(dkim ? { dkim } : {}), ...(request.to ? { test: true } : {}) });
  const keyOf = (address: string) => addressKey(address, secret);
  const domain = newsletter.from.address.split("@")[1] ?? "localhost";
  const messageIdOf = (r: Recipient) => `<issue-${plan.number}.${r.key}@${domain}>`;

  const smtp = smtpFromEnv(request.env);
  const transport: Transport = smtp
    ? new SmtpTransport(smtp, { maxConnections: config.delivery.maxConnections, timeoutSeconds: config.delivery.timeoutSeconds })
    : new OutboxTransport(join(request.root, OUTBOX_DIR, `issue-${plan.number}${request.to ? "-test" : ""}`));
  const base = { files: assembly.files, issue: plan.number, subject: compiled.subject, transport: transport.description };

  if (request.to) {
    try {
      await transport.verify();
      const key = keyOf(request.to);
      const outcome = await transport.send({ key, envelope: { from: newsletter.from.address, to: request.to }, raw: await factory({ address: request.to }) });
      if (outcome.state !== "sent") throw new SendSetupError(`the test message was refused: ${outcome.response}`);
      return { ...base, testSentTo: request.to };
    } finally {
      await transport.close();
    }
  }

  const release = request.dryRun ? () => {} : acquireLock(ledgerFile.replace(/\.jsonl$/, ".lock"));
  try {
    // Read after taking the lock: a send that just finished has written its last events.
    const ledger = Ledger.open(ledgerFile);
    // Recipients handled by the issue's other ledgers (a sharded send, or an unsharded one) are known too.
    for (const other of issueLedgers(join(request.root, LEDGER_DIR), plan.number).filter((f) => f !== ledgerFile)) {
      ledger.absorb(Ledger.open(other));
    }
    for (const problem of ledger.problems.filter((p) => !p.torn)) {
      const file = new VFile({ path: ledgerFile.slice(request.root.length + 1) });
      file.message("this ledger line is not valid JSON and was skipped; its recipient may be mailed again", { place: { line: problem.line, column: 1 }, ruleId: "ledger", source: "delivery" });
      assembly.files.push(file);
    }
    if (!ledger.header && !request.dryRun) ledger.append({ type: "issue", issue: plan.number, date: date.toISOString(), subject: compiled.subject, articles: plan.articles.map((a) => a.id) });
    const audience: AudienceCounts = { rows: 0, invalid: 0, duplicates: 0, suppressed: 0, otherShards: 0 };
    const source = subscriberSource(request, newsletter.listId);
    const onProgress = request.onProgress;
    const total = onProgress ? estimateRows(source) : undefined;
    const progress: ListProgress = { sent: 0, tempFailed: 0, permFailed: 0, skippedSent: 0, skippedOther: 0, resentInFlight: 0, inFlight: 0, rows: 0, ...(total === undefined ? {} : { total }) };
    const stream = recipients(
      { source, firstSight: (key) => ledger.firstSight(key), keyOf, suppressed: readSuppressed(request.root), ...(request.shard ? { shard: request.shard } : {}), onInvalid: (row) => request.onInvalid?.(row) },
      audience,
    );
    if (!request.dryRun) await transport.verify();
    const report = await sendIssue({
      issue: plan.number,
      transport,
      ledger,
      recipients: stream,
      message: (r) => factory({ address: r.address, key: r.key, ...(r.name ? { name: r.name } : {}) }),
      messageIdOf,
      envelopeFrom: newsletter.from.address,
      retryFailed: request.retryFailed,
      dryRun: request.dryRun,
      limits: {
        retries: config.delivery.retries,
        retryDelayMs: config.delivery.retryDelaySeconds * 1000,
        stopWhen: config.delivery.stopWhen,
        ...(config.delivery.hourlyLimit ? { hourlyLimit: config.delivery.hourlyLimit } : {}),
        ...(config.delivery.messagesPerSecond ? { messagesPerSecond: config.delivery.messagesPerSecond } : {}),
      },
      suppress: (r, code) => appendSuppressed(request.root, r.key, code, plan.number, request.now),
      ...(onProgress ? { onProgress: (p: SendProgress) => onProgress(Object.assign(progress, p, { rows: audience.rows })) } : {}),
    });
    if (audience.rows === 0) throw new SendSetupError("the subscriber list is empty: nothing was sent");
    let recordUpdated = false;
    if (!request.dryRun && !request.shard && !report.stopped) {
      const entry = { number: plan.number, date, subject: compiled.subject, articles: plan.articles.map((a) => a.id) };
      recordUpdated = updateRecord(request.root, letter.record, entry, outcomes([ledger]), audience.suppressed);
    }
    return { ...base, report, audience, recordUpdated };
  } finally {
    release();
    await transport.close();
  }
}

type Chosen = { plan: IssuePlan; ledgerFile: string; header?: { date: string } } | { nothing: string };

/** The issue to send: a send in progress (its ledger names its articles), the next one, or an earlier one by number. */
function chooseIssue(request: SendRequest, assembly: Assembly, record: SentRecord): Chosen {
  const letter = assembly.newsletter;
  const dir = join(request.root, LEDGER_DIR);
  const last = record.issues.at(-1)?.number ?? 0;
  const number = request.issue ?? (request.retryFailed ? last : (letter?.next?.plan.number ?? last + 1));
  const ledgerFile = ledgerPath(dir, number, request.shard);
  const header = Ledger.open(ledgerFile).header;
  const byId = (ids: readonly string[]) => ({ number, date: request.now, articles: assembly.articles.filter((a) => ids.includes(a.id)), more: 0 });
  if (header) return { plan: byId(header.articles), ledgerFile, header };
  const sent = record.issues.find((i) => i.number === number);
  if (sent) return { plan: planSentIssue(sent, assembly.articles), ledgerFile };
  if (number > last + 1) throw new SendSetupError(`issue #${number} does not exist yet: the next issue is #${last + 1}`);
  if (!letter?.next) return { nothing: `Nothing new since issue #${last}: no issue to send.` };
  return { plan: letter.next.plan, ledgerFile };
}

function subscriberSource(request: SendRequest, list: string): SubscriberSource {
  const file = request.subscribers ?? request.env["PRESSWORK_SUBSCRIBERS_FILE"];
  const remote = file ? remoteSource(file, { env: request.env, root: request.root, list }) : undefined;
  if (remote) return remote;
  if (file) {
    const path = isAbsolute(file) ? file : join(request.root, file);
    if (!existsSync(path)) throw new SendSetupError(`the subscriber list ${file} does not exist: nothing was sent`);
    return { file: path };
  }
  const text = request.env["PRESSWORK_SUBSCRIBERS"];
  if (text) return { text, origin: "PRESSWORK_SUBSCRIBERS" };
  throw new SendSetupError("no subscriber list: pass --subscribers FILE, or set PRESSWORK_SUBSCRIBERS_FILE, or put the list in PRESSWORK_SUBSCRIBERS");
}

function dkimFromEnv(env: NodeJS.ProcessEnv, from: string): DkimKey | undefined {
  const privateKey = env["DKIM_PRIVATE_KEY"];
  if (!privateKey) return undefined;
  const keySelector = env["DKIM_SELECTOR"];
  if (!keySelector) throw new SendSetupError("DKIM_PRIVATE_KEY is set but DKIM_SELECTOR is not: set the selector of the key's DNS record");
  return { privateKey: privateKey.replace(/\\n/g, "\n"), keySelector, domainName: env["DKIM_DOMAIN"] ?? from.split("@")[1] ?? "" };
}

function readSuppressed(root: string): Set<string> {
  try {
    return new Set(
      readFileSync(join(root, SUPPRESSION_FILE), "utf8")
        .split("\n")
        .flatMap((line) => {
          try {
            return [(JSON.parse(line) as { key: string }).key];
          } catch {
            return [];
          }
        }),
    );
  } catch {
    return new Set();
  }
}

function appendSuppressed(root: string, key: string, code: number, issue: number, now: Date): void {
  mkdirSync(join(root, "newsletter"), { recursive: true });
  appendFileSync(join(root, SUPPRESSION_FILE), `${JSON.stringify({ key, code, issue, at: now.toISOString() })}\n`);
}

/** Every ledger file of an issue: the unsharded one and each shard's. */
function issueLedgers(dir: string, issue: number): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const pattern = new RegExp(`^issue-${issue}(\\.shard-\\d+-of-\\d+)?\\.jsonl$`);
  return names.filter((n) => pattern.test(n)).map((n) => join(dir, n));
}

/** How many recipients the ledgers sent the issue to, and how many it failed: sent in any ledger counts as sent. */
function outcomes(ledgers: readonly Ledger[]): { sent: number; failed: number } {
  const [first, ...rest] = ledgers;
  if (!first) return { sent: 0, failed: 0 };
  for (const other of rest) first.absorb(other);
  let sent = 0;
  for (const [, { state }] of first.states()) if (state === "sent") sent++;
  return { sent, failed: first.size - sent };
}

/**
 * After a sharded send (a GitHub Actions matrix), adds the issue to the
 * record from all its shard ledgers, once every shard's ledger is in.
 */
export async function finalizeShards(root: string, issue: number, shards: number): Promise<{ recorded: boolean; sent: number; failed: number }> {
  const dir = join(root, LEDGER_DIR);
  const files = Array.from({ length: shards }, (_, i) => ledgerPath(dir, issue, { index: i + 1, count: shards }));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new SendSetupError(`cannot finalize issue #${issue}: no ledger yet for ${missing.map((f) => f.slice(root.length + 1)).join(", ")}`);
  const ledgers = files.map((f) => Ledger.open(f));
  const header = ledgers.map((l) => l.header).find((h) => h !== undefined);
  if (!header) throw new SendSetupError(`cannot finalize issue #${issue}: its ledgers do not say which articles it had`);
  const { record } = await readRecord(root);
  if (!record) throw new SendSetupError(`cannot finalize issue #${issue}: ${RECORD_FILE} is not readable; run presswork check`);
  const counts = outcomes(ledgers);
  updateRecord(root, record, { number: issue, date: new Date(header.date), subject: header.subject, articles: header.articles }, counts, 0);
  return { recorded: true, ...counts };
}

/** Adds the issue to the record (or refreshes its counts after a retry), with the ledgers' counts. */
function updateRecord(
  root: string,
  record: SentRecord,
  issue: { number: number; date: Date; subject: string; articles: string[] },
  { sent, failed }: { sent: number; failed: number },
  suppressed: number,
): boolean {
  const entry = { number: issue.number, date: issue.date.toISOString(), subject: issue.subject, articles: issue.articles, counts: { sent, failed, suppressed } };
  const others = record.issues.filter((i) => i.number < issue.number);
  const later = record.issues.filter((i) => i.number > issue.number);
  const text = appendToRecord({ issues: others }, entry, later);
  const path = join(root, RECORD_FILE);
  mkdirSync(join(root, "newsletter"), { recursive: true });
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
  return true;
}
