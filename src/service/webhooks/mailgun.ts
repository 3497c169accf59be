import { createHmac } from "node:crypto";
import { eventId, withoutAddresses, type FeedbackEvent, type FeedbackKind } from "../../feedback/event.js";
import type { SenderIdentity } from "../../mailbox/identify.js";
import { severity } from "../../mailbox/severity.js";
import { bodyText, fromAnotherSender, isoTime, objectOf, recognise, refuse, sameSecret, text, type Echo, type SeenCheck, type WebhookRequest, type WebhookResult } from "./common.js";

/** What the Mailgun webhook needs. */
export interface MailgunOptions {
  /** The webhook signing key (Mailgun → Settings → Webhooks), from the environment. */
  signingKey: string;
  identity: SenderIdentity;
  now: Date;
  /** How old the signed timestamp may be (default MAILGUN_MAX_AGE_SECONDS). */
  maxAgeSeconds?: number;
  /** Refuses a token seen before (a replay within the window). */
  seen?: SeenCheck;
}

/**
 * How old a signature may be: Mailgun retries a failed call for 8 hours
 * with the first attempt's timestamp and token, so a day leaves margin.
 * Replays within it are refused by the token, which is remembered for
 * WEBHOOK_CALLS_KEPT_DAYS, longer than this.
 */
export const MAILGUN_MAX_AGE_SECONDS = 24 * 3600;

/** How far ahead of our clock a signature may be (the two clocks differ a little). */
const CLOCK_SKEW_SECONDS = 300;

/**
 * Mailgun's reasons for not sending at all to an address on one of its
 * suppression lists (codes 605, 606 and 607), by what they say of the
 * address. Mailgun sends them as `failed` events of severity `permanent`.
 */
const SUPPRESSED = new Map<string, FeedbackKind>([
  ["suppress-bounce", "hard-bounce"],
  ["suppress-unsubscribe", "unsubscribe"],
  ["suppress-complaint", "complaint"],
]);

/**
 * A Mailgun webhook call (JSON, `{ signature: { timestamp, token,
 * signature }, "event-data": { … } }`): the signature is an HMAC-SHA256 of
 * timestamp and token under the signing key; a timestamp older than the
 * window (or ahead of now by more than clock skew) or a token seen before
 * is refused. `failed` events for an address on one of Mailgun's
 * suppression lists are what put it there (a complaint so reported counts
 * against no issue: the issue never reached the address); a `failed`
 * event of severity `temporary` is a delay Mailgun retries, and records
 * nothing; other `failed` events are hard or soft by their status, `complained` complaints,
 * `unsubscribed` unsubscribes, `delivered` deliveries. An unsubscribe or
 * complaint about another sender's message changes nothing.
 */
export async function mailgunWebhook(request: WebhookRequest, options: MailgunOptions): Promise<WebhookResult> {
  let payload: Record<string, unknown> | undefined;
  try {
    payload = objectOf(JSON.parse(bodyText(request)));
  } catch {
    return refuse(400, "mailgun: the body is not JSON");
  }
  const signature = objectOf(payload?.["signature"]);
  const timestamp = text(signature?.["timestamp"]);
  const token = text(signature?.["token"]);
  const given = text(signature?.["signature"]);
  if (!timestamp || !token || !given) return refuse(401, "mailgun: unsigned call refused");
  const expected = createHmac("sha256", options.signingKey).update(timestamp + token).digest("hex");
  if (!sameSecret(expected, given.toLowerCase())) return refuse(401, "mailgun: bad signature refused");
  const age = options.now.getTime() / 1000 - Number(timestamp);
  if (!Number.isFinite(age) || age > (options.maxAgeSeconds ?? MAILGUN_MAX_AGE_SECONDS) || age < -CLOCK_SKEW_SECONDS) {
    return refuse(401, `mailgun: signed ${Number.isFinite(age) ? `${Math.round(Math.abs(age))} s ${age < 0 ? "ahead of" : "before"} now` : "at an unreadable time"}, outside the replay window: refused`);
  }
  // 406 tells Mailgun not to retry.
  if (options.seen && (await options.seen(`mailgun:${token}`))) return refuse(406, "mailgun: a token seen before (a replay) refused");

  const data = objectOf(payload?.["event-data"]);
  const name = text(data?.["event"]);
  if (!data || !name) return refuse(400, "mailgun: signed, but no event-data.event");
  const status = objectOf(data["delivery-status"]);
  const statusCode = text(status?.["enhanced-code"]);
  const diagnostic = [status?.["code"], text(status?.["message"]), text(status?.["description"])].filter((v) => v !== undefined && v !== "").join(" ");
  const reason = name === "failed" ? (text(data["reason"]) ?? "") : "";
  // Not sent at all: the address is on one of Mailgun's suppression lists.
  const suppressed = SUPPRESSED.has(reason);
  // A temporary failure is a delay: Mailgun tries the message again for hours, and reports the end (delivered, or
  // failed for good) as its own event. Counted as a soft bounce, a reader behind greylisting would be suppressed.
  if (name === "failed" && !suppressed && data["severity"] === "temporary") return { status: 200, events: [], log: "mailgun: a temporary failure Mailgun will retry (a delay), nothing to record" };
  let kind: FeedbackKind | undefined;
  if (name === "failed") {
    kind = SUPPRESSED.get(reason) ?? (severity(statusCode, diagnostic) === "hard" ? "hard-bounce" : "soft-bounce");
  } else if (name === "complained") kind = "complaint";
  else if (name === "unsubscribed") kind = "unsubscribe";
  else if (name === "delivered") kind = "delivered";
  if (!kind) return { status: 200, events: [], log: `mailgun: ${name} event, nothing to record` };

  const message = objectOf(data["message"]);
  const headers = objectOf(message?.["headers"]) ?? {};
  const recipient = text(data["recipient"]);
  const envelope = objectOf(data["envelope"]);
  const echo: Echo = {
    envelope: [text(envelope?.["sender"]), text(headers["return-path"])].filter((v): v is string => v !== undefined),
    headers: Object.entries(headers).filter((e): e is [string, string] => typeof e[1] === "string"),
  };
  // Mailgun's webhooks report every message of the domain: another application's too.
  if (fromAnotherSender(kind, options.identity, echo)) return { status: 200, events: [], log: `mailgun: ${name} about a message Presswork did not send, nothing to record` };
  const who = recognise(options.identity, { ...(recipient ? { address: recipient } : {}), ...echo });
  const event: FeedbackEvent = {
    id: eventId("mailgun", text(data["id"]) ?? token, kind, who.recipient?.key),
    kind,
    ...(who.recipient ? { recipient: who.recipient } : {}),
    ...(who.issue !== undefined && !(suppressed && kind !== "hard-bounce") ? { issue: who.issue } : {}),
    ...(statusCode ? { status: statusCode } : {}),
    ...(diagnostic && kind.endsWith("bounce") ? { diagnostic: withoutAddresses(diagnostic) } : {}),
    ...(kind === "complaint" ? { feedbackType: "abuse" } : {}),
    source: "mailgun",
    format: suppressed ? `${name}:${reason}` : name,
    at: isoTime(data["timestamp"], options.now),
  };
  return { status: 200, events: [event], log: `mailgun: ${name} recorded as ${kind}` };
}
