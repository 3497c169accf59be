import type { FeedbackConfig } from "../config/schema.js";
import type { FeedbackEvent, FeedbackKind } from "./event.js";

/**
 * What feedback does to the list, as pure functions over events: the store
 * records an event, asks `decide` with the recipient's earlier events, and
 * applies the answer; the send asks `complaintRateCheck` before it starts.
 */

/** An earlier event of the same recipient, as the store keeps it. */
export interface PastEvent {
  id: string;
  kind: FeedbackKind;
  issue?: number;
  /** ISO 8601. */
  at: string;
}

/** What to do to a recipient after an event. */
export interface Decision {
  /** Never mail the address again (the suppression list). */
  suppress: boolean;
  /** Mark the subscriber unsubscribed (they, or their provider for them, asked). */
  unsubscribe: boolean;
  /** Why, for `presswork subscribers show` and the send report; no address. */
  reason: string;
  /** The event was recorded before: nothing changes. */
  duplicate?: boolean;
}

const DAY = 86_400_000;

/**
 * The decision for one event given the recipient's earlier events: a hard
 * bounce suppresses at once; a complaint unsubscribes and suppresses; an
 * unsubscribe request unsubscribes; soft bounces suppress once
 * `softBounces.count` of them, for different issues, fall within
 * `softBounces.withinDays` with no confirmed delivery after the first of
 * them. Delays, automatic replies and deliveries change nothing.
 */
export function decide(event: Pick<FeedbackEvent, "id" | "kind" | "issue" | "at" | "status">, history: readonly PastEvent[], rules: FeedbackConfig): Decision {
  const none = (reason: string): Decision => ({ suppress: false, unsubscribe: false, reason });
  if (history.some((past) => past.id === event.id)) return { ...none("already recorded"), duplicate: true };
  const issue = event.issue !== undefined ? ` of issue #${event.issue}` : "";
  switch (event.kind) {
    case "hard-bounce":
      return { suppress: true, unsubscribe: false, reason: `hard bounce${issue}${event.status ? ` (${event.status})` : ""}` };
    case "complaint":
      return { suppress: true, unsubscribe: true, reason: `marked${issue || " an issue"} as spam` };
    case "unsubscribe":
      return { suppress: false, unsubscribe: true, reason: `asked by mail to unsubscribe${event.issue !== undefined ? ` (from issue #${event.issue})` : ""}` };
    case "soft-bounce": {
      const count = softBounceCount([...history, { id: event.id, kind: event.kind, at: event.at, ...(event.issue !== undefined ? { issue: event.issue } : {}) }], new Date(event.at), rules);
      const { count: limit, withinDays } = rules.softBounces;
      return count >= limit
        ? { suppress: true, unsubscribe: false, reason: `${count} soft bounces within ${withinDays} days, the last${issue}${event.status ? ` (${event.status})` : ""}` }
        : none(`soft bounce ${count} of ${limit} within ${withinDays} days${issue}`);
    }
    default:
      return none(`${event.kind}: nothing to change`);
  }
}

/**
 * Soft bounces that count at `now`: within the window, after the last
 * confirmed delivery, one per issue (a relay's several reports about one
 * message are one bounce).
 */
export function softBounceCount(events: readonly PastEvent[], now: Date, rules: FeedbackConfig): number {
  const since = now.getTime() - rules.softBounces.withinDays * DAY;
  const lastDelivery = Math.max(-Infinity, ...events.filter((e) => e.kind === "delivered").map((e) => Date.parse(e.at)));
  const counted = new Set<string>();
  for (const e of events) {
    const t = Date.parse(e.at);
    if (e.kind !== "soft-bounce" || t < since || t <= lastDelivery || t > now.getTime()) continue;
    counted.add(e.issue !== undefined ? `issue ${e.issue}` : `event ${e.id}`);
  }
  return counted.size;
}

/** What came back for one sent issue: distinct recipients per kind. */
export interface IssueFeedback {
  issue: number;
  /** Messages accepted by the relay (the ledger's `sent`). */
  sent: number;
  complaints: number;
  hardBounces: number;
  softBounces: number;
}

/** Bounce and complaint rates of an issue, as shares of what was sent (0 when nothing was). */
export function feedbackRates(feedback: IssueFeedback): { bounceRate: number; complaintRate: number } {
  if (feedback.sent <= 0) return { bounceRate: 0, complaintRate: 0 };
  return { bounceRate: (feedback.hardBounces + feedback.softBounces) / feedback.sent, complaintRate: feedback.complaints / feedback.sent };
}

/**
 * Counts, per issue, the distinct recipients who complained or bounced hard
 * or soft, from feedback events (each recipient once per kind and issue);
 * `sent` comes from the ledger.
 */
export function tallyIssues(events: Iterable<{ kind: FeedbackKind; issue?: number; key?: string; recipient?: { key: string } }>, sent: ReadonlyMap<number, number>): IssueFeedback[] {
  const seen = new Map<number, { complaints: Set<string>; hardBounces: Set<string>; softBounces: Set<string> }>();
  const field = { complaint: "complaints", "hard-bounce": "hardBounces", "soft-bounce": "softBounces" } as const;
  for (const e of events) {
    const which = field[e.kind as keyof typeof field];
    const key = e.recipient?.key ?? e.key;
    if (!which || e.issue === undefined || !key) continue;
    const entry = seen.get(e.issue) ?? { complaints: new Set<string>(), hardBounces: new Set<string>(), softBounces: new Set<string>() };
    entry[which].add(key);
    seen.set(e.issue, entry);
  }
  return [...new Set([...sent.keys(), ...seen.keys()])]
    .sort((a, b) => a - b)
    .map((issue) => {
      const entry = seen.get(issue);
      // A recipient who bounced hard is not counted soft too.
      const soft = [...(entry?.softBounces ?? [])].filter((k) => !entry?.hardBounces.has(k)).length;
      return { issue, sent: sent.get(issue) ?? 0, complaints: entry?.complaints.size ?? 0, hardBounces: entry?.hardBounces.size ?? 0, softBounces: soft };
    });
}

/** Whether the send may start, given what came back for the last issue. */
export type ComplaintCheck = { stop: false; rate: number } | { stop: true; rate: number; reason: string };

/**
 * Stops a send before it starts when the last issue's complaint rate passed
 * `complaintRate.max` (Gmail asks bulk senders to stay under 0.3 %), once
 * that issue went to at least `complaintRate.minimumSent` recipients.
 */
export function complaintRateCheck(last: IssueFeedback | undefined, rules: FeedbackConfig): ComplaintCheck {
  if (!last || last.sent === 0) return { stop: false, rate: 0 };
  const { complaintRate: rate } = feedbackRates(last);
  const { max, minimumSent } = rules.complaintRate;
  if (last.sent < minimumSent || rate <= max) return { stop: false, rate };
  const percent = (share: number) => `${(share * 100).toFixed(2).replace(/\.?0+$/, "")} %`;
  return {
    stop: true,
    rate,
    reason: `issue #${last.issue} drew ${last.complaints} spam complaints for ${last.sent} messages sent, a complaint rate of ${percent(rate)}, over the ${percent(max)} set in feedback.complaintRate.max. Mailbox providers filter senders above that. Nothing was sent: find out why readers complained (who was added, what changed) before sending again, or raise feedback.complaintRate.max`,
  };
}
