import { createHash } from "node:crypto";

/**
 * What a piece of feedback says about a recipient:
 * - `hard-bounce`: the address does not take mail (suppress at once);
 * - `soft-bounce`: a transient or sender-side failure (suppress after several);
 * - `complaint`: the recipient marked an issue as spam (unsubscribe and suppress);
 * - `unsubscribe`: the recipient asked by mail (or through a provider) to leave;
 * - `delivered`: a receiving server confirmed delivery (resets soft bounces);
 * - `delayed`: still being retried by a relay, nothing failed yet;
 * - `auto-reply`: an out-of-office or other automatic answer, not a bounce;
 * - `not-ours`: feedback about mail Presswork did not send (backscatter).
 */
export type FeedbackKind = "hard-bounce" | "soft-bounce" | "complaint" | "unsubscribe" | "delivered" | "delayed" | "auto-reply" | "not-ours";

/** Where a piece of feedback came from. */
export type FeedbackSource = "imap" | "ses" | "postmark" | "mailgun";

/**
 * How the recipient was recognised, most trusted first: the signed envelope
 * sender or unsubscribe address (`verp`, `token`), the original message's
 * Message-ID or List-Unsubscribe URL, a provider's report, the bounce's text,
 * or the sender of an unsubscribe mail (`from`, unsigned).
 */
export type RecipientEvidence = "verp" | "token" | "message-id" | "list-unsubscribe" | "provider" | "dsn" | "text" | "from";

/** The recipient feedback is about. */
export interface FeedbackRecipient {
  /** The address's keyed hash (`addressKey`), the ledger's key. */
  key: string;
  /**
   * The address, when the feedback named it. Kept in memory for a sink that
   * looks subscribers up by address; never written to a log or a file.
   */
  address?: string;
  via: RecipientEvidence;
}

/** One fact learnt from a bounce, a complaint, an unsubscribe mail or a provider's webhook. */
export interface FeedbackEvent {
  /** Idempotency key: the same report read twice gives the same id. */
  id: string;
  kind: FeedbackKind;
  /** Absent when the report names no recipient we can recognise. */
  recipient?: FeedbackRecipient;
  /** The issue the feedback is about, when it can be told. */
  issue?: number;
  /** The enhanced status code (RFC 3463), e.g. 5.1.1. */
  status?: string;
  /** The remote server's words, with every address replaced by `<address>`. */
  diagnostic?: string;
  /** For a complaint: the ARF Feedback-Type (abuse, fraud, …) or the provider's. */
  feedbackType?: string;
  source: FeedbackSource;
  /** What produced it: dsn, arf, jmrp, exim, qmail, yahoo, unsubscribe-mail, auto-reply, a provider's event name… */
  format: string;
  /** When it happened, ISO 8601: the report's own date when it has one, else when it was read. */
  at: string;
}

/** Receives feedback events; recording the same event (same id) twice changes nothing. */
export interface FeedbackSink {
  /** Records one event; resolves once it is recorded. */
  record(event: FeedbackEvent): Promise<void>;
  /** Resolves once everything recorded so far would survive a crash of the machine. */
  flush?(): Promise<void>;
  close?(): Promise<void>;
}

/** An address, internationalised ones too (RFC 6531: any letters in the local part and the domain). */
const ADDRESS = /<?[^\s<>"'(),;:@]+@[\p{L}\p{M}\p{N}.-]+\.\p{L}[\p{L}\p{M}\p{N}-]+>?/gu;

/** Text with every email address in it replaced by `<address>`, whitespace folded, at most 500 characters. */
export function withoutAddresses(text: string): string {
  return text.replace(ADDRESS, "<address>").replace(/\s+/g, " ").trim().slice(0, 500);
}

/** A stable id from the parts that make an event what it is. */
export function eventId(...parts: Array<string | number | undefined>): string {
  return createHash("sha256").update(parts.map((p) => String(p ?? "")).join("\u0000")).digest("hex").slice(0, 32);
}
