import type { Recipient } from "../audience/audience.js";
import type { Ledger, LedgerEvent, LedgerState } from "../state/ledger.js";
import type { Outcome, Transport } from "./transport.js";
import { domainOf } from "../audience/address.js";

/** Retry, pacing and stop rules for a send. */
export interface SendLimits {
  /** Further tries after a 4xx or a dropped connection, within the run. */
  retries: number;
  /** First wait before a retry; doubled each time. */
  retryDelayMs: number;
  /** At most this many messages in any hour. */
  hourlyLimit?: number;
  /** Messages spaced evenly, this many a second at most. */
  messagesPerSecond?: number;
  /** Stop when more than `failureShare` of the last `window` outcomes failed (once 20 are in). */
  stopWhen: { window: number; failureShare: number };
  /** Once told to stop, how long messages in flight may take to finish before their connections are cut. */
  drainMs: number;
  /** While the relay limits the sender's rate: the first pause, doubled while it keeps refusing, up to `maxMs` (1 s and 60 s unless given). */
  pause?: { firstMs: number; maxMs: number };
}

/** Live counts, for the progress display. */
export interface SendProgress {
  sent: number;
  outboxed: number;
  tempFailed: number;
  permFailed: number;
  /** Tried, refused with the message or the account: still owed the issue. */
  notSent: number;
  /** Recipients whose message could not be built (a line break in a name): skipped, with their line. */
  invalid: number;
  skippedSent: number;
  /** Already written to the outbox by an earlier run with --outbox, which this one writes to as well. */
  skippedOutboxed: number;
  skippedOther: number;
  resentInFlight: number;
  inFlight: number;
  /** Waiting for a retry. */
  retrying: number;
}

/** Why a send stopped before the end of its list. */
export interface Stop {
  /** "unavailable": the SMTP relay cannot be used for now; the same command run later resumes. */
  kind: "signal" | "refused" | "unavailable" | "failures" | "state" | "error";
  reason: string;
  /** For "signal": SIGINT or SIGTERM. */
  signal?: NodeJS.Signals;
}

/** The end of a send: the counts, whether it went through the whole list, and why it stopped if it did not. */
export interface SendReport extends SendProgress {
  stopped?: Stop;
  /** Every recipient of the list was handled (sent, failed or skipped). */
  finished: boolean;
}

/** Where the send writes each event as it happens. */
export interface EventSink {
  append(event: LedgerEvent): void;
}

/** Everything a send needs; the orchestration itself owns no I/O but the journal's. */
export interface SendOptions {
  transport: Transport;
  /** Where every recipient stands (all attempts so far); this run's events are noted in it too. */
  ledger: Ledger;
  journal: EventSink;
  /** When this attempt started, for the events' times. */
  started: Date;
  recipients: AsyncIterable<Recipient>;
  /** The raw message for a recipient; may throw for a recipient whose message cannot be built. */
  message: (recipient: Recipient) => Promise<Buffer>;
  /** The envelope sender (MAIL FROM): one address, or each recipient's own (VERP). */
  envelopeFrom: string | ((recipient: Recipient) => string);
  /** Send only to those a previous run left temp-failed. */
  retryFailed: boolean;
  /** Count what would be sent; send and record nothing. */
  dryRun: boolean;
  limits: SendLimits;
  /** A hard bounce: the address goes on the suppression list. */
  suppress: (recipient: Recipient, code: number) => void;
  /** A recipient skipped because its message cannot be built. */
  onInvalid: (recipient: Recipient, reason: string) => void;
  onProgress?: (progress: SendProgress) => void;
  /** The send pauses `ms` because the relay limits its rate, as `reply` (addresses masked) says: once a pause. */
  onPause?: (ms: number, reply: string) => void;
  /** Aborted to stop taking recipients: its reason is a Stop. In-flight messages finish (within drainMs). */
  stop?: AbortSignal;
  /** Aborted to cut in-flight messages at once (a second signal). */
  hurry?: AbortSignal;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Policy refusals at RCPT TO (5.7.x, 554) of different recipients in a row,
 * at more than one domain, nothing delivered in between, that stop the
 * send: the server refuses the sender (a blocklisted address, relaying
 * denied), not these recipients.
 */
const POLICY_REFUSALS_IN_A_ROW = 3;

/**
 * Pauses at their longest, with nothing delivered since the first, after
 * which a relay that still limits the sender's rate stops the send as
 * unavailable: 1 + 2 + … + 32 + 3 × 60 s, about 4 minutes by default.
 */
const PAUSES_AT_CEILING = 3;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A recipient's message on its way: which try, when it may go. */
interface Job {
  recipient: Recipient;
  attempt: number;
  tries: number;
  due: number;
  raw?: Buffer;
  /** When it last went to the transport. */
  dispatchedAt?: number;
  /** How many messages sent after a pause began had been delivered when the relay last limited the rate at this one. */
  throttledAtFresh?: number;
}

/**
 * Sends one issue to a stream of recipients, each exactly once across runs:
 * the ledger says who already has it. Before each try a "sending" event is
 * journalled; after it, the outcome. The transport is fed while its pool is
 * idle; a recipient waiting for a retry (after a 4xx or a dropped
 * connection, with exponential backoff) waits in a queue and holds no
 * connection. A hard bounce is recorded perm-failed and suppressed; a
 * policy refusal at RCPT TO is that recipient's temp-failure, unless
 * POLICY_REFUSALS_IN_A_ROW of them, at more than one domain, come with
 * nothing delivered between, which is a refused sender: they are recorded
 * not-sent then; a
 * refused message or account, or a relay that is unavailable, stops the
 * send at once: the recipient is recorded not-sent and nobody is suppressed
 * for it. A message no connection could be opened for waits again, its
 * tries untouched. A 4xx that limits the sender's rate (see classify.ts) is
 * an answer about the whole send: the message waits again, its tries
 * untouched, and the send takes no message for a pause (doubled while the
 * relay keeps refusing, up to a ceiling), then one at a time until one is
 * delivered; PAUSES_AT_CEILING pauses at the ceiling with nothing delivered
 * make the relay unavailable, which stops the send as above. Only a
 * message sent after a pause began says anything of the relay since: its
 * delivery ends the pauses, and its refusal lengthens them. A recipient
 * limited again after the relay took others sent since has a limit of its
 * own (its domain's): it is retried as any 4xx. Failures are watched
 * over a sliding window of the whole run. When told to stop, it takes no
 * more recipients, lets the messages in flight finish (bounded), and
 * returns. Every message in flight has settled before this returns or
 * throws.
 */
export async function sendIssue(options: SendOptions): Promise<SendReport> {
  const { ledger, transport, limits } = options;
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? realSleep;
  const report: SendReport = { sent: 0, outboxed: 0, tempFailed: 0, permFailed: 0, notSent: 0, invalid: 0, skippedSent: 0, skippedOutboxed: 0, skippedOther: 0, resentInFlight: 0, inFlight: 0, retrying: 0, finished: false };
  const hourly = limits.hourlyLimit ? new HourlyWindow(limits.hourlyLimit, now) : undefined;
  const pace = limits.messagesPerSecond ? new Pace(1000 / limits.messagesPerSecond, now) : undefined;
  const failures = new FailureWindow(limits.stopWhen.window, limits.stopWhen.failureShare);
  const retries: Job[] = [];
  // The last policy refusals since the last delivery, with their attempts: recorded not-sent again when they turn out to be the sender's.
  const refusedInARow: Array<{ recipient: Recipient; attempt: number }> = [];
  // What a recipient tried but not mailed is recorded as: owed the issue, which the next run mails; in a run of
  // --retry-failed, temp-failed as it was, for the next such run (a plain send of a complete issue mails nobody).
  const owed: LedgerState = options.retryFailed ? "temp-failed" : "not-sent";
  const inFlight = new Set<Promise<void>>();
  const iterator = options.recipients[Symbol.asyncIterator]();
  let listDone = false;
  let cut = false;
  let error: unknown;
  let wake: () => void = () => {};
  let halt: () => void = () => {};
  // Settles once the send is told to stop: every wait of the loop (an idle pool, pacing, an hourly cap, a pause) gives way to it.
  const halted = new Promise<void>((resolve) => (halt = resolve));
  const { firstMs, maxMs } = limits.pause ?? { firstMs: 1000, maxMs: 60_000 };
  // While the relay limits the rate: the last pause (0 once a message sent after it began is delivered), when it
  // began and ends, how many reached maxMs, and how many messages sent after the last pause began were delivered:
  // the relay's news since. A message sent before it, delivered later, is none.
  let pauseMs = 0;
  let pauseBegan = -Infinity;
  let pausedUntil = 0;
  let pausesAtCeiling = 0;
  let fresh = 0;
  // A pause may last a minute: cut short when the send stops, so that no timer keeps a stopped send alive.
  const pause = (ms: number) => options.sleep?.(ms) ?? new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    void halted.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });

  const stop = (why: Stop) => {
    report.stopped ??= why;
    wake();
    halt();
  };
  const onStop = () => stop(options.stop?.reason as Stop);
  options.stop?.addEventListener("abort", onStop);
  if (options.stop?.aborted) onStop();

  const record = (recipient: Recipient, state: LedgerState, attempt: number, outcome?: Outcome) => {
    const code = outcome && "code" in outcome ? outcome.code : undefined;
    options.journal.append({
      key: recipient.key,
      state,
      attempt,
      ...(state === "sending" ? {} : { seconds: (now().getTime() - options.started.getTime()) / 1000 }),
      ...(code ? { code } : {}),
      ...(outcome && outcome.state !== "sent" && outcome.state !== "outboxed" ? { response: outcome.response } : {}),
    });
    options.ledger.note(recipient.key, state, attempt);
  };

  const progress = () => {
    report.retrying = retries.length;
    options.onProgress?.(report);
  };

  /** Whether a message went out after the last pause began: in the millisecond it began too, as one goes out only once a pause is over. */
  const sentSincePause = (job: Job) => (job.dispatchedAt ?? Infinity) > pauseBegan;

  /**
   * A reply that limits the rate: the send pauses, longer than the last time; returns whether it did. A reply to
   * a message that went out before the pause began (in flight then, answered during the pause or after it) is no
   * news of the relay since.
   */
  const throttle = (reply: string, job: Job): boolean => {
    const at = now().getTime();
    if (!sentSincePause(job)) return false;
    pauseMs = pauseMs === 0 ? firstMs : Math.min(pauseMs * 2, maxMs);
    if (pauseMs >= maxMs && ++pausesAtCeiling > PAUSES_AT_CEILING) {
      stop({ kind: "unavailable", reason: `the SMTP server kept limiting the sending rate through ${PAUSES_AT_CEILING} pauses of ${maxMs / 1000} s with nothing delivered (${reply}). Run the same command again later: it mails those still owed the issue` });
      return false;
    }
    pauseBegan = at;
    pausedUntil = at + pauseMs;
    options.onPause?.(pauseMs, reply);
    return true;
  };

  /** Waits out a pause, then, until a message is delivered, for the message in flight to be answered: one at a time. */
  const slowDown = async () => {
    while (!report.stopped) {
      const wait = pausedUntil - now().getTime();
      if (wait > 0) await Promise.race([pause(wait), halted]);
      else if (pauseMs > 0 && inFlight.size > 0) await new Promise<void>((resolve) => (wake = resolve));
      else return;
    }
  };

  const settle = (job: Job, outcome: Outcome) => {
    const { recipient, attempt } = job;
    // After the connections were cut, only a delivery is news: anything else may or may not have arrived.
    if (cut && outcome.state !== "sent") return;
    switch (outcome.state) {
      case "sent":
        record(recipient, "sent", attempt, outcome);
        report.sent++;
        refusedInARow.length = 0;
        if (sentSincePause(job)) {
          fresh++;
          pauseMs = 0;
          pausesAtCeiling = 0;
        }
        failures.add(false);
        break;
      case "outboxed":
        record(recipient, "outboxed", attempt, outcome);
        report.outboxed++;
        break;
      case "bounced":
        record(recipient, "perm-failed", attempt, outcome);
        options.suppress(recipient, outcome.code);
        report.permFailed++;
        failures.add(true);
        break;
      case "failed":
        if (outcome.policy && report.stopped) {
          record(recipient, owed, attempt, outcome);
          report.notSent++;
          break;
        }
        if (outcome.policy && refusedInARow.push({ recipient, attempt }) > POLICY_REFUSALS_IN_A_ROW) refusedInARow.shift();
        // Of one domain they may be that domain's rule (a list sorted by domain puts its people side by side).
        if (outcome.policy && refusedInARow.length >= POLICY_REFUSALS_IN_A_ROW && new Set(refusedInARow.map((r) => domainOf(r.recipient.address))).size > 1) {
          record(recipient, owed, attempt, outcome);
          report.notSent++;
          for (const earlier of refusedInARow.slice(0, -1)) {
            record(earlier.recipient, owed, earlier.attempt);
            report.tempFailed--;
            report.notSent++;
          }
          stop({ kind: "refused", reason: `the server refused ${refusedInARow.length} recipients in a row at RCPT TO, with nothing delivered in between: it refuses the sender, not them (the last: ${outcome.response})` });
          break;
        }
        record(recipient, "temp-failed", attempt, outcome);
        report.tempFailed++;
        failures.add(true);
        break;
      case "refused":
        record(recipient, owed, attempt, outcome);
        report.notSent++;
        stop({ kind: "refused", reason: `the server refused ${outcome.command === "MAIL FROM" ? "the sender" : outcome.command === "AUTH" || outcome.command === "write" ? "the send" : "the message"} at ${outcome.command}: ${outcome.response}` });
        break;
      case "unavailable":
        record(recipient, owed, attempt, outcome);
        report.notSent++;
        stop({ kind: "unavailable", reason: `the SMTP server is unavailable: ${outcome.response}. Run the same command again later: it mails those still owed the issue` });
        break;
      case "retry":
        // The relay limits the rate: the send's pause, not a try of the recipient's. Limited again at this recipient
        // after the relay took others sent since, the limit is its own (its domain's): a retry of its own, as below.
        // The one whose reply began a pause waits a pause longer, so that another recipient is the first to try.
        if (outcome.throttled && !report.stopped && !(job.throttledAtFresh !== undefined && fresh > job.throttledAtFresh)) {
          const began = throttle(outcome.response, job);
          if (!report.stopped) {
            const due = Math.max(now().getTime(), pausedUntil) + (began ? pauseMs : 0);
            retries.push({ ...job, attempt: attempt + 1, due, throttledAtFresh: fresh });
            retries.sort((a, b) => a.due - b.due);
            break;
          }
        }
        // No connection could be opened for it: the relay's failure, which the pool paces and bounds, not a try of the recipient's.
        if (outcome.relay && !report.stopped) {
          retries.push({ ...job, attempt: attempt + 1, due: now().getTime() });
          retries.sort((a, b) => a.due - b.due);
          break;
        }
        if (job.tries < limits.retries && !report.stopped) {
          retries.push({ ...job, attempt: attempt + 1, tries: job.tries + 1, due: now().getTime() + limits.retryDelayMs * 2 ** job.tries });
          retries.sort((a, b) => a.due - b.due);
          break;
        }
        if (report.stopped) {
          record(recipient, owed, attempt, outcome);
          report.notSent++;
          break;
        }
        record(recipient, "temp-failed", attempt, outcome);
        report.tempFailed++;
        failures.add(true);
        break;
    }
    if (failures.exceeded()) stop({ kind: "failures", reason: failures.describe() });
  };

  const dispatch = (job: Job) => {
    job.dispatchedAt = now().getTime();
    const flight = (async () => {
      report.inFlight++;
      try {
        job.raw ??= await options.message(job.recipient);
      } catch (problem) {
        report.inFlight--;
        report.invalid++;
        options.onInvalid(job.recipient, (problem as Error).message);
        return;
      }
      try {
        record(job.recipient, "sending", job.attempt);
        const outcome = await transport.send({ key: job.recipient.key, envelope: { from: typeof options.envelopeFrom === "string" ? options.envelopeFrom : options.envelopeFrom(job.recipient), to: job.recipient.address }, raw: job.raw });
        settle(job, outcome);
      } finally {
        report.inFlight--;
      }
    })()
      .catch((problem: unknown) => {
        error ??= problem;
        stop({ kind: "error", reason: (problem as Error).message ?? String(problem) });
      })
      .finally(() => {
        inFlight.delete(flight);
        progress();
        wake();
      });
    inFlight.add(flight);
  };

  /** The next recipient of the list that this run should mail, counting the others. */
  const nextFromList = async (): Promise<Job | undefined> => {
    while (!listDone && !report.stopped) {
      const next = await iterator.next();
      if (next.done) {
        listDone = true;
        return undefined;
      }
      const recipient = next.value;
      const known = ledger.state(recipient.key);
      const wanted = options.retryFailed ? known?.state === "temp-failed" : known === undefined || known.state === "sending" || known.state === "not-sent" || (known.state === "outboxed" && transport.kind !== "outbox");
      if (!wanted) {
        if (known?.state === "sent") report.skippedSent++;
        else if (known?.state === "outboxed") report.skippedOutboxed++;
        else report.skippedOther++;
        progress();
        continue;
      }
      if (known?.state === "sending") report.resentInFlight++;
      return { recipient, attempt: (known?.attempts ?? 0) + 1, tries: 0, due: 0 };
    }
    return undefined;
  };

  try {
    while (!report.stopped) {
      const due = retries[0] && retries[0].due <= now().getTime() ? retries.shift() : undefined;
      const job = due ?? (await nextFromList());
      if (report.stopped) break;
      if (!job) {
        if (retries.length === 0 && inFlight.size === 0) break;
        // Nothing to send now: wait for a retry to fall due or a message in flight to settle.
        const waitMs = retries[0] ? Math.max(0, retries[0].due - now().getTime()) : undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (waitMs !== undefined) void sleep(waitMs).then(resolve);
        });
        continue;
      }
      if (options.dryRun) {
        report.sent++;
        progress();
        continue;
      }
      await Promise.race([transport.ready(), halted]);
      if (pauseMs > 0 || pausedUntil > now().getTime()) await slowDown();
      if (hourly && !report.stopped) await Promise.race([hourly.take(sleep), halted]);
      if (pace && !report.stopped) await Promise.race([pace.take(sleep), halted]);
      if (report.stopped) {
        if (due) settle(job, { state: "retry", response: "the send stopped before this retry" });
        break;
      }
      dispatch(job);
    }
    report.finished = !report.stopped && listDone && retries.length === 0;
    // Stopped: retries still queued were not sent, and are owed the issue.
    for (const job of retries.splice(0)) {
      record(job.recipient, owed, job.attempt - 1);
      report.notSent++;
    }
    if (inFlight.size > 0) await drain(inFlight, report.stopped ? limits.drainMs : Infinity, options.hurry, async () => {
      cut = true;
      await transport.close({ force: true });
    });
  } finally {
    options.stop?.removeEventListener("abort", onStop);
    await iterator.return?.();
  }
  progress();
  if (error) throw error;
  return report;
}

/** Waits for the messages in flight, cutting them after `ms` or when `hurry` is aborted. */
async function drain(inFlight: Set<Promise<void>>, ms: number, hurry: AbortSignal | undefined, cut: () => Promise<void>): Promise<void> {
  const all = Promise.allSettled([...inFlight]);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"late">((resolve) => {
    if (Number.isFinite(ms)) timer = setTimeout(() => resolve("late"), ms);
    if (hurry?.aborted) resolve("late");
    hurry?.addEventListener("abort", () => resolve("late"), { once: true });
  });
  const first = await Promise.race([all.then(() => "done" as const), deadline]);
  if (timer) clearTimeout(timer);
  if (first === "late") {
    await cut();
    await Promise.allSettled([...inFlight]);
  }
}

/** The share of failures among the last `size` outcomes, over the whole run. */
class FailureWindow {
  private readonly ring: boolean[] = [];
  private next = 0;
  private failed = 0;
  private seen = 0;
  constructor(
    private readonly size: number,
    private readonly share: number,
  ) {}

  add(failed: boolean): void {
    this.seen++;
    if (this.ring.length < this.size) this.ring.push(failed);
    else {
      if (this.ring[this.next]) this.failed--;
      this.ring[this.next] = failed;
      this.next = (this.next + 1) % this.size;
    }
    if (failed) this.failed++;
  }

  exceeded(): boolean {
    return this.ring.length >= Math.min(this.size, 20) && this.failed / this.ring.length > this.share;
  }

  describe(): string {
    return `${this.failed} of the last ${this.ring.length} messages failed (more than ${Math.round(this.share * 100)} %, after ${this.seen} in all): stopped to protect the sender's reputation. Check the server's replies, then run again`;
  }
}

/** At most `limit` events in any hour: waits when the window is full. */
class HourlyWindow {
  private readonly times: number[] = [];
  constructor(
    private readonly limit: number,
    private readonly clock: () => Date,
  ) {}

  async take(sleep: (ms: number) => Promise<void>): Promise<void> {
    for (;;) {
      const now = this.clock().getTime();
      while (this.times.length > 0 && (this.times[0] ?? 0) <= now - 3_600_000) this.times.shift();
      if (this.times.length < this.limit) {
        this.times.push(now);
        return;
      }
      await sleep((this.times[0] ?? now) + 3_600_000 - now);
    }
  }
}

/** Spaces events at least `intervalMs` apart, in the order they ask. */
class Pace {
  private next = 0;
  constructor(
    private readonly intervalMs: number,
    private readonly clock: () => Date,
  ) {}

  async take(sleep: (ms: number) => Promise<void>): Promise<void> {
    const now = this.clock().getTime();
    const slot = Math.max(now, this.next);
    this.next = slot + this.intervalMs;
    if (slot > now) await sleep(slot - now);
  }
}
