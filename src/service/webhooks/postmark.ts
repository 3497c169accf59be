import { eventId, withoutAddresses, type FeedbackEvent, type FeedbackKind } from "../../feedback/event.js";
import type { SenderIdentity } from "../../mailbox/identify.js";
import { bodyText, fromAnotherSender, header, isoTime, objectOf, recognise, refuse, sameSecret, text, type SeenCheck, type WebhookRequest, type WebhookResult } from "./common.js";

/** What the Postmark webhook needs. */
export interface PostmarkOptions {
  /** The user name and password set in the webhook's URL (Postmark sends them as HTTP basic auth), from the environment. */
  user: string;
  password: string;
  identity: SenderIdentity;
  now: Date;
  /** Refuses a record seen before. */
  seen?: SeenCheck;
}

/**
 * Postmark's bounce types (its documented `Type` values) by what they mean
 * for the address. Types that are not a failure of the address
 * (auto-responders, challenge mails, DNS or SMTP API errors on Postmark's
 * side, spam and virus notifications) count as soft or nothing.
 */
const BOUNCE_TYPES: Record<string, FeedbackKind | undefined> = {
  HardBounce: "hard-bounce",
  BadEmailAddress: "hard-bounce",
  ManuallyDeactivated: "hard-bounce",
  // "The recipient has requested an address change": an automatic reply naming a new address, which still takes mail.
  AddressChange: "auto-reply",
  SoftBounce: "soft-bounce",
  // "Message delayed": Postmark tries again, and reports the end as its own bounce or delivery (as a DSN delay).
  Transient: "delayed",
  DnsError: "soft-bounce",
  Blocked: "soft-bounce",
  // An error accepting our own message through Postmark's SMTP API: nothing about the reader.
  SMTPApiError: undefined,
  InboundError: "soft-bounce",
  DMARCPolicy: "soft-bounce",
  Unknown: "soft-bounce",
  Undeliverable: "soft-bounce",
  SpamNotification: "soft-bounce",
  VirusNotification: "soft-bounce",
  ContentRelated: "soft-bounce",
  SpamComplaint: "complaint",
  Unsubscribe: "unsubscribe",
  AutoResponder: "auto-reply",
  ChallengeVerification: "auto-reply",
  Subscribe: undefined,
  OpenRelayTest: undefined,
  TemplateRenderingFailed: undefined,
  Unconfirmed: undefined,
};

/**
 * A Postmark webhook call: HTTP basic auth with the configured user and
 * password (Postmark signs nothing, so use https and a long password), then one record: `Bounce` (by its Type), `SpamComplaint`,
 * `Delivery`, or `SubscriptionChange` (a suppression Postmark applied:
 * HardBounce, SpamComplaint, ManualSuppression). An unsubscribe or
 * complaint about a message From another sender, without our metadata,
 * changes nothing.
 */
export async function postmarkWebhook(request: WebhookRequest, options: PostmarkOptions): Promise<WebhookResult> {
  const auth = header(request, "authorization");
  if (!auth) return refuse(401, "postmark: call without credentials refused");
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(auth.trim());
  const decoded = match ? Buffer.from(match[1] as string, "base64").toString("utf8") : "";
  if (!sameSecret(decoded, `${options.user}:${options.password}`)) return refuse(401, "postmark: wrong credentials refused");
  let record: Record<string, unknown> | undefined;
  try {
    record = objectOf(JSON.parse(bodyText(request)));
  } catch {
    return refuse(400, "postmark: the body is not JSON");
  }
  const recordType = text(record?.["RecordType"]);
  if (!record || !recordType) return refuse(400, "postmark: no RecordType");
  // Postmark's record IDs are 64-bit integers, beyond a JavaScript number: read from the text.
  const recordId = /"ID"\s*:\s*"?(\d+)/.exec(bodyText(request))?.[1] ?? String(record["MessageID"] ?? "");
  // Postmark retries a call that failed: a record seen before is answered 200 and changes nothing.
  if (options.seen && recordId && (await options.seen(`postmark:${recordType}:${recordId}:${text(record["ChangedAt"]) ?? ""}`))) return { status: 200, events: [], log: `postmark: ${recordType} seen before, nothing recorded again` };

  let kind: FeedbackKind | undefined;
  let at: unknown;
  if (recordType === "Bounce" || recordType === "SpamComplaint") {
    kind = recordType === "SpamComplaint" ? "complaint" : BOUNCE_TYPES[text(record["Type"]) ?? "Unknown"];
    at = record["BouncedAt"];
  } else if (recordType === "Delivery") {
    kind = "delivered";
    at = record["DeliveredAt"];
  } else if (recordType === "SubscriptionChange" && record["SuppressSending"] === true) {
    const reason = text(record["SuppressionReason"]);
    kind = reason === "SpamComplaint" ? "complaint" : reason === "HardBounce" ? "hard-bounce" : "unsubscribe";
    at = record["ChangedAt"];
  }
  if (!kind) return { status: 200, events: [], log: `postmark: ${recordType}${record["Type"] ? ` (${String(record["Type"])})` : ""}, nothing to record` };

  const address = text(record["Email"]) ?? text(record["Recipient"]);
  const metadata = objectOf(record["Metadata"]) ?? {};
  // Postmark keeps no envelope sender of ours: the issue comes from the message's metadata (X-PM-Metadata-issue) or its tag.
  const metadataIssue = text(metadata["issue"]) ?? (typeof metadata["issue"] === "number" ? String(metadata["issue"]) : undefined);
  // A server's stream may carry other applications' mail: without our metadata, the message's From tells.
  const from = text(record["From"]);
  if (metadataIssue === undefined && fromAnotherSender(kind, options.identity, { headers: from ? [["From", from]] : [] })) {
    return { status: 200, events: [], log: `postmark: ${recordType} about a message Presswork did not send, nothing to record` };
  }
  const who = recognise(options.identity, { ...(address ? { address } : {}) });
  const issueText = metadataIssue ?? /^issue-(\d+)$/.exec(text(record["Tag"]) ?? "")?.[1];
  const issue = who.issue ?? (issueText && /^\d+$/.test(issueText) ? Number(issueText) : undefined);
  const diagnostic = [text(record["Description"]), text(record["Details"])].filter(Boolean).join(" ");
  const event: FeedbackEvent = {
    id: eventId("postmark", recordType, recordId, kind, who.recipient?.key),
    kind,
    ...(who.recipient ? { recipient: who.recipient } : {}),
    ...(issue !== undefined ? { issue } : {}),
    ...(diagnostic && kind.endsWith("bounce") ? { diagnostic: withoutAddresses(diagnostic) } : {}),
    ...(kind === "complaint" ? { feedbackType: "abuse" } : {}),
    source: "postmark",
    format: recordType === "Bounce" ? `bounce:${text(record["Type"]) ?? "Unknown"}` : recordType,
    at: isoTime(at, options.now),
  };
  return { status: 200, events: [event], log: `postmark: ${recordType} recorded as ${kind}` };
}
