import { timingSafeEqual } from "node:crypto";
import type { FeedbackEvent, FeedbackKind, FeedbackRecipient } from "../../feedback/event.js";
import { addressOf, field, type FieldBlock } from "../../mailbox/fields.js";
import { byAddress, fromEnvelope, fromOriginal, isMailbox, type Identified, type SenderIdentity } from "../../mailbox/identify.js";

/** A webhook call as the HTTP layer received it. */
export interface WebhookRequest {
  /** Header values by lower-case name. */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body, exactly as received (signatures are over it). */
  body: string | Buffer;
}

/**
 * What to answer and what to record. A refused call has no events; its
 * `log` line says why without the body or any address.
 */
export interface WebhookResult {
  status: number;
  events: FeedbackEvent[];
  log: string;
}

/**
 * Answers whether an id (a Mailgun token, an SNS MessageId, a Postmark
 * record) was seen before, remembering it when it was not: replays are
 * refused. Back it with the database; an in-memory set serves one process.
 */
export type SeenCheck = (id: string) => boolean | Promise<boolean>;

/** A refused call. */
export function refuse(status: number, why: string): WebhookResult {
  return { status, events: [], log: why };
}

/** Equal strings in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The body as text. */
export function bodyText(request: WebhookRequest): string {
  return typeof request.body === "string" ? request.body : request.body.toString("utf8");
}

/** One header's value. */
export function header(request: WebhookRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** A plain object, or undefined. */
export function objectOf(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** A string field, or undefined. */
export function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** What a provider echoes of the message its report is about: envelope senders and headers. */
export interface Echo {
  envelope?: string[];
  headers?: Array<[string, string]>;
}

/** Header values by lower-case name. */
function headOf(headers: Array<[string, string]>): FieldBlock {
  const head: FieldBlock = new Map();
  for (const [name, value] of headers) head.set(name.toLowerCase(), [...(head.get(name.toLowerCase()) ?? []), value]);
  return head;
}

/**
 * The recipient and issue of a provider's report: the signed envelope
 * sender, then our Message-ID (in the headers the provider echoes), then
 * the address the provider names.
 */
export function recognise(identity: SenderIdentity, evidence: Echo & { address?: string }): Identified {
  const envelope = fromEnvelope(evidence.envelope ?? [], identity);
  const original = fromOriginal(headOf(evidence.headers ?? []), identity);
  const issue = envelope.issue ?? original.issue;
  const recipient: FeedbackRecipient | undefined = envelope.recipient ?? original.recipient ?? (evidence.address ? byAddress(evidence.address, identity, "provider") : undefined);
  // The provider's address is the one to look the subscriber up by, whichever evidence named the key.
  const withAddress = recipient && evidence.address && !recipient.address ? { ...recipient, address: evidence.address } : recipient;
  return { ...(withAddress ? { recipient: withAddress } : {}), ...(issue !== undefined ? { issue } : {}) };
}

/**
 * Whether an unsubscribe or a complaint is about mail Presswork did not
 * send. An account-wide webhook (Mailgun's, a shared SES identity's)
 * reports other applications' mail too: when neither our envelope token
 * nor our Message-ID names the recipient, the message must show itself
 * ours by what the provider echoes (our From address or List-Id, or our
 * envelope sender). Bounces are not asked (a
 * dead address is dead for us too), nor is a report that echoes none of
 * these.
 */
export function fromAnotherSender(kind: FeedbackKind, identity: SenderIdentity, echo: Echo): boolean {
  if ((kind !== "unsubscribe" && kind !== "complaint") || recognise(identity, echo).recipient) return false;
  const head = headOf(echo.headers ?? []);
  const senders = (echo.envelope ?? []).map(addressOf).filter((a): a is string => a !== undefined);
  if (senders.length === 0 && !["message-id", "from", "list-id"].some((name) => head.has(name))) return false;
  const ourSender = (address: string) => isMailbox(address, identity.from) || (identity.bounces !== undefined && isMailbox(address, identity.bounces));
  // Not the Message-ID's domain: ours would have named the recipient above, and other applications sending through the same domain share it.
  const listId = field(head, "list-id");
  const ourList = listId !== undefined && (/<([^<>]+)>/.exec(listId)?.[1] ?? listId).trim().toLowerCase() === identity.listId.toLowerCase();
  const from = addressOf(field(head, "from"));
  return !ourList && !(from !== undefined && ourSender(from)) && !senders.some(ourSender);
}

/** An ISO 8601 time from a provider's timestamp, or `fallback`. */
export function isoTime(value: unknown, fallback: Date): string {
  const date = typeof value === "number" ? new Date(value < 1e12 ? value * 1000 : value) : typeof value === "string" ? new Date(value) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date.toISOString() : fallback.toISOString();
}
