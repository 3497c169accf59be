import { parseAddress } from "../audience/address.js";
import type { FeedbackConfig } from "../config/schema.js";
import type { FeedbackRecord, FeedbackVerdict, PastRow, SubscriberList } from "../store/subscribers.js";
import type { FeedbackEvent, FeedbackKind, FeedbackSink, FeedbackSource } from "./event.js";
import { decide, softBounceCount, type PastEvent } from "./rules.js";

/** How the events table names each source of feedback. */
const SOURCES: Record<FeedbackSource, string> = { imap: "mailbox", ses: "webhook:ses", postmark: "webhook:postmark", mailgun: "webhook:mailgun" };

/** What an event is recorded as; kinds absent here (delays, automatic replies, backscatter) change nothing and are not kept. */
const TYPES: Partial<Record<FeedbackKind, Pick<FeedbackRecord, "type" | "bounce">>> = {
  "hard-bounce": { type: "bounced", bounce: "hard" },
  "soft-bounce": { type: "bounced", bounce: "soft" },
  complaint: { type: "complained" },
  unsubscribe: { type: "unsubscribed" },
  delivered: { type: "delivered" },
};

/** What recording one event did. */
export type SinkOutcome = "ignored" | "duplicate" | "recorded" | "stopped";

/** Counts of what a sink did, for reports. */
export interface SinkCounts {
  recorded: number;
  duplicates: number;
  /** Events that stopped mail to an address: a subscriber's status changed, or an address went on the suppression list. */
  stopped: number;
  /** Events with no recipient, or of a kind that changes nothing. */
  ignored: number;
}

/**
 * Feedback events into the subscriber database: each is recorded once
 * (by its source and id) through `SubscriberList.recordFeedback`, with what
 * the rules (`decide`) make of it given the address's earlier events: a
 * hard bounce suppresses, soft bounces suppress once enough came within the
 * window since the last delivery, a complaint unsubscribes and suppresses,
 * an unsubscribe request unsubscribes. A delivery is kept only when it
 * resets soft bounces. Each record is its own committed transaction, so
 * `flush` has nothing left to do.
 */
export class DatabaseSink implements FeedbackSink {
  private counts: SinkCounts = { recorded: 0, duplicates: 0, stopped: 0, ignored: 0 };

  constructor(
    private readonly list: SubscriberList,
    private readonly rules: FeedbackConfig,
  ) {}

  async record(event: FeedbackEvent): Promise<void> {
    await this.apply(event);
  }

  /** Records one event and says what it did. */
  async apply(event: FeedbackEvent): Promise<SinkOutcome> {
    const type = TYPES[event.kind];
    if (!type || !event.recipient) {
      this.counts.ignored++;
      return "ignored";
    }
    const source = SOURCES[event.source];
    const at = new Date(event.at);
    const record: FeedbackRecord = { id: event.id, source, key: this.keyOf(event), ...type, at, ...(event.issue !== undefined ? { issue: event.issue } : {}) };
    const eventKey = `${source}:${event.id}`;
    const result = await this.list.recordFeedback(record, (history) => this.verdict(event, eventKey, at, history));
    if (!result.verdict) {
      this.counts.duplicates++;
      return "duplicate";
    }
    if (!result.inserted) {
      this.counts.ignored++;
      return "ignored";
    }
    this.counts.recorded++;
    // Only when the list changed: a subscriber already stopped, or one who subscribed (again) after the report's time, is not.
    if (result.verdict.stop && result.changed) {
      this.counts.stopped++;
      return "stopped";
    }
    return "recorded";
  }

  async flush(): Promise<void> {}

  /** What the sink did since the last call. */
  takeCounts(): SinkCounts {
    const counts = this.counts;
    this.counts = { recorded: 0, duplicates: 0, stopped: 0, ignored: 0 };
    return counts;
  }

  /**
   * The keyed hash to record under: a report that named the address in clear
   * is keyed the way the list keys it (domain in ASCII, lower case), so it
   * finds the subscriber whatever spelling the report used.
   */
  private keyOf(event: FeedbackEvent): string {
    const recipient = event.recipient as NonNullable<FeedbackEvent["recipient"]>;
    if (recipient.address && !["verp", "token", "message-id", "list-unsubscribe"].includes(recipient.via)) {
      const parsed = parseAddress(recipient.address);
      if (!("reason" in parsed)) return this.list.keyOf(parsed.identity);
    }
    return recipient.key;
  }

  private verdict(event: FeedbackEvent, eventKey: string, at: Date, history: readonly PastRow[]): FeedbackVerdict {
    const past = history.flatMap(pastEvent);
    const said = [event.status, event.diagnostic].filter(Boolean).join(" ");
    if (event.kind === "delivered") {
      const resets = softBounceCount(past, at, this.rules);
      return { record: resets > 0, stop: false, detail: `delivered (${event.format}): resets ${resets} soft bounce${resets === 1 ? "" : "s"}` };
    }
    const decision = decide({ id: eventKey, kind: event.kind, at: event.at, ...(event.issue !== undefined ? { issue: event.issue } : {}), ...(event.status ? { status: event.status } : {}) }, past, this.rules);
    const what = event.kind === "soft-bounce" ? decision.reason : event.kind === "complaint" ? `${event.format}${event.feedbackType ? ` (${event.feedbackType})` : ""}` : event.format;
    return { record: true, stop: decision.suppress || decision.unsubscribe, detail: said ? `${what}: ${said}` : what };
  }
}

/** An earlier event as the rules see it; subscriptions are not feedback, and a confirmation proves a delivery. */
function pastEvent(row: PastRow): PastEvent[] {
  const kind: FeedbackKind | undefined =
    row.type === "bounced" ? (row.bounce === "soft" ? "soft-bounce" : "hard-bounce") : row.type === "complained" ? "complaint" : row.type === "unsubscribed" ? "unsubscribe" : row.type === "delivered" || row.type === "confirmed" ? "delivered" : undefined;
  return kind ? [{ id: row.eventKey, kind, at: row.at, ...(row.issue !== null ? { issue: row.issue } : {}) }] : [];
}
