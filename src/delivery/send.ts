import type { Recipient } from "../audience/audience.js";
import type { Ledger } from "./ledger.js";
import { FatalTransportError, type Outcome, type Transport } from "./transport.js";

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
  /** Stop when more than `failureShare` of the first `first` outcomes failed. */
  stopWhen: { first: number; failureShare: number };
}

/** Live counts, for the progress display. */
export interface SendProgress {
  sent: number;
  tempFailed: number;
  permFailed: number;
  skippedSent: number;
  skippedOther: number;
  resentInFlight: number;
  inFlight: number;
}

/** The end of a send: the counts and, when it stopped early, why. */
export interface SendReport extends SendProgress {
  stopped?: string;
}

/** Everything a send needs; the orchestration itself owns no I/O but the ledger's. */
export interface SendOptions {
  issue: number;
  transport: Transport;
  ledger: Ledger;
  recipients: AsyncIterable<Recipient>;
  /** The raw message for a recipient. */
  message: (recipient: Recipient) => Promise<Buffer>;
  messageIdOf: (recipient: Recipient) => string;
  envelopeFrom: string;
  /** Send only to those a previous run left temp-failed. */
  retryFailed: boolean;
  /** Count what would be sent; send and record nothing. */
  dryRun: boolean;
  limits: SendLimits;
  /** A 5xx: the address goes on the suppression list. */
  suppress: (recipient: Recipient, code: number) => void;
  onProgress?: (progress: SendProgress) => void;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends one issue to a stream of recipients, each exactly once across runs:
 * the ledger says who already has it. Before each attempt a "sending" event
 * is recorded; after it, the outcome. A recipient whose last event is
 * "sending" was in flight when a run died, and is sent again (at-least-once
 * for those few, at most one per connection; the Message-ID is the same, so
 * many mailbox providers fold the copies). 4xx and dropped connections are
 * retried with exponential backoff, then recorded temp-failed; 5xx is
 * recorded perm-failed and suppressed. A FatalTransportError stops the send.
 */
export async function sendIssue(options: SendOptions): Promise<SendReport> {
  const { ledger, transport, limits } = options;
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? realSleep;
  const report: SendReport = { sent: 0, tempFailed: 0, permFailed: 0, skippedSent: 0, skippedOther: 0, resentInFlight: 0, inFlight: 0 };
  const window = limits.hourlyLimit ? new HourlyWindow(limits.hourlyLimit, now) : undefined;
  const pace = limits.messagesPerSecond ? new Pace(1000 / limits.messagesPerSecond, now) : undefined;
  let outcomes = 0;
  let failures = 0;
  let fatal: FatalTransportError | undefined;
  const iterator = options.recipients[Symbol.asyncIterator]();

  const record = (recipient: Recipient, state: "sending" | "sent" | "temp-failed" | "perm-failed", attempt: number, outcome?: Outcome) => {
    if (options.dryRun) return;
    ledger.append({
      issue: options.issue,
      key: recipient.key,
      state,
      attempt,
      at: now().toISOString(),
      messageId: options.messageIdOf(recipient),
      ...(outcome?.code ? { code: outcome.code } : {}),
      ...(outcome && outcome.state !== "sent" ? { response: outcome.response } : {}),
    });
  };

  const deliver = async (recipient: Recipient, firstAttempt: number) => {
    const raw = await options.message(recipient);
    for (let attempt = firstAttempt; ; attempt++) {
      if (window) await window.take(sleep);
      if (pace) await pace.take(sleep);
      record(recipient, "sending", attempt);
      const outcome = await transport.send({ key: recipient.key, envelope: { from: options.envelopeFrom, to: recipient.address }, raw });
      if (outcome.state === "sent") {
        record(recipient, "sent", attempt, outcome);
        report.sent++;
        return;
      }
      if (outcome.state === "rejected") {
        record(recipient, "perm-failed", attempt, outcome);
        options.suppress(recipient, outcome.code);
        report.permFailed++;
        failures++;
        return;
      }
      if (attempt - firstAttempt >= limits.retries || fatal) {
        record(recipient, "temp-failed", attempt, outcome);
        report.tempFailed++;
        failures++;
        return;
      }
      await sleep(limits.retryDelayMs * 2 ** (attempt - firstAttempt));
    }
  };

  const worker = async () => {
    while (!fatal && !report.stopped) {
      const next = await iterator.next();
      if (next.done) return;
      const recipient = next.value;
      const known = ledger.state(recipient.key);
      const wanted = options.retryFailed ? known?.state === "temp-failed" : known === undefined || known.state === "sending";
      if (!wanted) {
        if (known?.state === "sent") report.skippedSent++;
        else report.skippedOther++;
        options.onProgress?.(report);
        continue;
      }
      if (known?.state === "sending") report.resentInFlight++;
      if (options.dryRun) {
        report.sent++;
        continue;
      }
      report.inFlight++;
      try {
        await deliver(recipient, (known?.attempts ?? 0) + 1);
      } catch (error) {
        if (!(error instanceof FatalTransportError)) throw error;
        fatal = error;
      } finally {
        report.inFlight--;
      }
      outcomes++;
      if (outcomes <= limits.stopWhen.first && outcomes >= Math.min(limits.stopWhen.first, 20) && failures / outcomes > limits.stopWhen.failureShare) {
        report.stopped = `${failures} of the first ${outcomes} messages failed (more than ${Math.round(limits.stopWhen.failureShare * 100)} %): stopped to protect the sender's reputation. Check the server's replies in the ledger, then run again`;
      }
      options.onProgress?.(report);
    }
  };

  try {
    await Promise.all(Array.from({ length: options.dryRun ? 1 : transport.concurrency }, worker));
  } finally {
    ledger.close();
  }
  if (fatal) throw fatal;
  return report;
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
