import type { NewsletterConfig } from "../config/schema.js";
import type { FeedbackRecipient } from "../feedback/event.js";
import { addressKey, listTag, verifyUnsubscribeToken } from "../issues/message.js";
import { decodeVerp, readFeedbackToken } from "../issues/verp.js";
import { field, type FieldBlock } from "./fields.js";
import { unsubscribeLink } from "../issues/unsubscribe-url.js";
import { domainOf } from "../audience/address.js";

/** What the mailbox needs to know of the sender to recognise its own mail coming back. */
export interface SenderIdentity {
  /** PRESSWORK_SECRET: keys the tokens and the address hashes. */
  secret: string;
  /** The domain of the From address, which Message-IDs carry. */
  domain: string;
  /** The From address (the envelope sender too, before per-recipient envelope senders). */
  from: string;
  /** The List-Id, which the unsubscribe tokens are made for. */
  listId: string;
  /** The one-click unsubscribe URL template, with {list} and {token}. */
  unsubscribeUrl: string;
  /** The unsubscribe mailbox (`newsletter.unsubscribe.mailto`). */
  unsubscribeMailto: string;
  /** The bounce mailbox (`newsletter.bounces.address`), when one is set. */
  bounces?: string;
}

/** The sender identity of a configured newsletter. */
export function senderIdentity(newsletter: NewsletterConfig, secret: string): SenderIdentity {
  return {
    secret,
    domain: domainOf(newsletter.from.address),
    from: newsletter.from.address,
    listId: newsletter.listId,
    unsubscribeUrl: newsletter.unsubscribe.url,
    unsubscribeMailto: newsletter.unsubscribe.mailto,
    ...(newsletter.bounces ? { bounces: newsletter.bounces.address } : {}),
  };
}

/** A recipient and an issue, as far as the evidence tells. */
export interface Identified {
  recipient?: FeedbackRecipient;
  issue?: number;
}

/** A recipient recognised by the address a report names. */
export function byAddress(address: string, identity: SenderIdentity, via: FeedbackRecipient["via"]): FeedbackRecipient {
  return { key: addressKey(address, identity.secret), address: address.trim(), via };
}

/** The recipient and issue a signed envelope address names (the VERP token), from any of the given header values. */
export function fromEnvelope(values: Iterable<string>, identity: SenderIdentity): Identified {
  for (const value of values) {
    for (const candidate of value.split(/[\s,<>]+/)) {
      if (!candidate.includes("@")) continue;
      const token = decodeVerp(candidate, identity.secret);
      if (token) return { recipient: { key: token.key, via: "verp" }, ...(token.issue !== undefined ? { issue: token.issue } : {}) };
    }
  }
  return {};
}

/** The recipient and issue an unsubscribe token names, in addresses or a subject (no issue: the welcome mail's). */
export function fromUnsubscribeToken(values: Iterable<string>, identity: SenderIdentity): Identified {
  for (const value of values) {
    const token = readFeedbackToken("unsubscribe", value, identity.secret);
    if (token) return { recipient: { key: token.key, via: "token" }, ...(token.issue !== undefined ? { issue: token.issue } : {}) };
  }
  return {};
}

/** An issue's Message-ID: issue, recipient key, the list's tag (since it has one), a test copy's nonce, domain (see issueMessageId). */
const MESSAGE_ID = /<?issue-(\d+)(?:-test)?\.([0-9a-f]{24})(?:\.([0-9a-f]{8}))?(?:\.[0-9a-f]+)?@([^>\s]+)>?/i;

/** The issue and recipient key an issue's Message-ID names, when it is this list's. */
function ourMessageId(value: string | undefined, identity: SenderIdentity): { issue: number; key: string } | undefined {
  const id = MESSAGE_ID.exec(value ?? "");
  if (!id || (id[4] as string).toLowerCase() !== identity.domain.toLowerCase()) return undefined;
  // Another newsletter sent from the same domain: its tag differs.
  if (id[3] !== undefined && id[3].toLowerCase() !== listTag(identity.listId)) return undefined;
  return { issue: Number(id[1]), key: (id[2] as string).toLowerCase() };
}

/**
 * The recipient and issue the head of an original message names: its
 * Return-Path (the envelope sender, when the report kept it), its
 * Message-ID (`<issue-N.KEY.TAG@domain>`, see issueMessageId) or the token in its List-Unsubscribe
 * URL. Whether the message is ours at all is `isOurs`.
 */
export function fromOriginal(head: FieldBlock | undefined, identity: SenderIdentity): Identified {
  if (!head) return {};
  const envelope = fromEnvelope([...(head.get("return-path") ?? []), ...(head.get("x-original-mail-from") ?? [])], identity);
  if (envelope.recipient) return envelope;
  const id = ourMessageId(field(head, "message-id"), identity);
  if (id) return { recipient: { key: id.key, via: "message-id" }, issue: id.issue };
  const list = field(head, "list-unsubscribe");
  if (list) {
    const mailto = fromUnsubscribeToken([list], identity);
    if (mailto.recipient) return { ...mailto, recipient: { ...mailto.recipient, via: "list-unsubscribe" } };
    const key = unsubscribeUrlKey(list, identity);
    if (key) return { recipient: { key, via: "list-unsubscribe" } };
  }
  return {};
}

/** Whether the head of an original message says Presswork sent it: our Message-ID domain, From address or List-Id. */
export function isOurs(head: FieldBlock, identity: SenderIdentity): boolean {
  if (ourMessageId(field(head, "message-id"), identity)) return true;
  if ((field(head, "list-id") ?? "").toLowerCase().includes(identity.listId.toLowerCase())) return true;
  return (field(head, "from") ?? "").toLowerCase().includes(identity.from.toLowerCase());
}

/** The keyed address hash in the unsubscribe URL of a List-Unsubscribe header, when its token is genuine. */
function unsubscribeUrlKey(header: string, identity: SenderIdentity): string | undefined {
  const [before, after] = unsubscribeLink(identity.unsubscribeUrl, identity.listId).split("{token}") as [string, string | undefined];
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`${escape(before)}([^&>\\s]+)${escape((after ?? "").split(/[?&#]/)[0] ?? "")}`);
  const match = pattern.exec(header.replace(/&amp;/g, "&"));
  if (!match) return undefined;
  try {
    return verifyUnsubscribeToken(decodeURIComponent(match[1] as string), identity.listId, identity.secret);
  } catch {
    return undefined;
  }
}

/** The local part and domain of an address, lower-cased. */
export function splitAddress(address: string): { local: string; domain: string } {
  const at = address.lastIndexOf("@");
  return { local: address.slice(0, at).toLowerCase(), domain: address.slice(at + 1).toLowerCase() };
}

/** Whether an address is a mailbox or one of its tagged forms (`unsubscribe+…@`, `unsubscribe-…@`). */
export function isMailbox(candidate: string, mailbox: string): boolean {
  const c = splitAddress(candidate);
  const m = splitAddress(mailbox);
  return c.domain === m.domain && (c.local === m.local || (c.local.startsWith(m.local) && /^[+\-=]/.test(c.local.slice(m.local.length))));
}
