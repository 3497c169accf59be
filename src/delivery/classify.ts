import { maskAddress } from "../audience/address.js";
import type { Outcome } from "./transport.js";

const ADDRESS = /[^\s<>"]+@[^\s<>"]+/g;

/** Postfix's reply to a sender check at RCPT TO: `<sender>: Sender address rejected: …`. */
const SENDER_REJECTED = /<[^>]*>: Sender address rejected\b/i;

/**
 * A transient reply that limits the sender's rate, whatever the command it
 * answers: Postfix's "Error: too much mail from" (and "too many recipients
 * from"), a policy daemon's "Rate limit exceeded", Exim's "Sender rate
 * exceeds", Amazon SES's "Throttling failure: Maximum sending rate
 * exceeded", Gmail's "Try again later, closing connection" and "rate
 * limited", Microsoft 365's "sender thread limit exceeded" and "Server
 * busy", "Messages per second limit exceeded".
 */
const RATE_LIMIT = /throttl|rate[- ]?limit|\b(?:sending|send|sender|message|submission) rate\b|\btoo (?:much mail|many (?:messages|mails|emails|recipients|connections)\b)|\blimit exceeded\b|\b(?:message|sending|daily|hourly) quota\b|\bslow down\b|\bserver busy\b|try again later, closing connection/i;

/** A transient reply saying the sender's quota for the day is spent: "Daily message quota exceeded" (Amazon SES), "daily sending quota"; with limitsRate, not a mailbox's. */
const DAILY_QUOTA = /\bdaily (?:message |sending )?quota\b/i;

/**
 * Words of a reply about one mailbox ("The user you are trying to contact is
 * receiving mail at a rate…", "The recipient has exceeded their message rate
 * limit", "recipient thread limit exceeded", "Too many recipients received
 * this hour", "Disk quota exceeded") or one message ("Message size limit
 * exceeded").
 */
const NOT_THE_SENDER = /\b(?:recipient|receiv(?:e|ed|es|ing)|mailbox|size|disk)\b/i;

/**
 * Whether a 4xx reply says the relay limits the sender's rate: an answer
 * about the whole send, not one recipient. A reply about one mailbox (its
 * words, or an X.2.x mailbox status), one message's size, or greylisting is
 * not. The words are read without the addresses and host names in the reply
 * (a sender at mailbox.org), nor Postfix's "<address>: Recipient address
 * rejected:", which a policy daemon's sender limit at RCPT TO comes after.
 */
export function limitsRate(reply: string): boolean {
  if (enhancedStatus(reply)?.[1] === 2) return false;
  const words = reply.replace(/<[^>]*>:\s*(?:Recipient|Sender) address rejected:/gi, "").replace(ADDRESS, "").replace(/\S+\.\S+/g, "");
  return RATE_LIMIT.test(words) && !NOT_THE_SENDER.test(words);
}

/** A server reply with any address in it masked and its length capped, fit for a log line or the ledger. */
export function cleanResponse(text: string): string {
  return text
    .replace(ADDRESS, (a) => maskAddress(a.replace(/^<|>$/g, "")))
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 200);
}

/** The enhanced status code (RFC 3463) at the start of a reply, as [class, subject, detail]. */
export function enhancedStatus(response: string): [number, number, number] | undefined {
  const match = /^\d{3}[ -]([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(response.trimStart());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

/** What nodemailer tells of a failed message. */
export interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
  /** A connection for the message could not be opened, for a passing reason. */
  opening?: boolean;
  /** The recipient's local part has characters beyond ASCII: only a relay with SMTPUTF8 (RFC 6531) can take it. */
  utf8Recipient?: boolean;
}

/**
 * Classifies a failed message by what the reply is about (RFC 5321 4.2,
 * RFC 3463):
 * - the relay unavailable (connections keep failing to open): stop, run again later;
 * - no connection could be opened for the message (no reply, a 4xx): retry it, the relay's failure;
 * - no reply code, a 4xx or 421, a dropped connection, a timeout: retry later;
 *   a 4xx that limits the sender's rate (see limitsRate) is marked
 *   `throttled`, for the whole send to pause; one that says the day's
 *   sending quota is spent makes the relay unavailable: stop, run again
 *   later;
 * - a 5xx to RCPT TO about the sender (5.1.7, 5.1.8, "Sender address
 *   rejected"), as Postfix answers its sender checks there: the sender is
 *   refused, and the send must stop;
 * - a 5xx to RCPT TO with a mailbox status (5.1.x, 5.2.1): a hard bounce,
 *   but for an address with characters beyond ASCII before its @ refused
 *   as bad syntax (5.1.3), as a relay without SMTPUTF8 refuses any such
 *   address: that fails the recipient for this issue without suppressing
 *   an address another relay can deliver to (other syntax replies, 5.5.x
 *   and 5.6.7, fail any recipient so);
 *   5.2.2 (mailbox full) and other recipient refusals fail this recipient
 *   for this issue without suppressing the address; so does a policy
 *   refusal (5.7.x, 554), marked `policy` for the send to stop when such
 *   refusals repeat across recipients;
 * - a 5.4.5 to RCPT TO (Gmail's daily sending limit), a 5xx to MAIL FROM
 *   or DATA, 552 or 554 (content, size, transaction),
 *   any 5.7.x (policy) there, 5.3.4 (too big), a failed login or TLS: the
 *   message or the account is refused, and the send must stop.
 */
export function classify(failure: SmtpFailure): Outcome {
  const raw = failure.response ?? failure.message ?? "no reply";
  const response = cleanResponse(raw);
  const command = failure.command ?? "";
  const code = failure.responseCode && failure.responseCode >= 200 ? failure.responseCode : undefined;
  if (failure.code === "EUNAVAILABLE") return { state: "unavailable", response };
  if (failure.opening) return { state: "retry", response, relay: true, ...(code ? { code } : {}) };
  if (failure.code === "EAUTH" || failure.code === "ENOAUTH" || failure.code === "ETLS") return { state: "refused", command: command || "AUTH", response, ...(code ? { code } : {}) };
  // The server's SIZE limit, known before sending: no reply code, but the message is refused.
  if (failure.code === "EMESSAGE" && !code && /size/i.test(raw)) return { state: "refused", command: command || "MAIL FROM", response };
  // A sending quota for the day (SES's "454 Throttling failure: Daily message quota exceeded"): no pause lifts it.
  if (code && code < 500 && DAILY_QUOTA.test(raw) && limitsRate(raw)) return { state: "unavailable", response };
  if (!code || code < 500) return code ? { state: "retry", code, response, ...(limitsRate(raw) ? { throttled: true as const } : {}) } : { state: "retry", response };
  const status = failure.response ? enhancedStatus(failure.response) : undefined;
  const [, subject, detail] = status ?? [];
  // The envelope sender refused at RCPT TO (Postfix's sender checks, smtpd_delay_reject): X.1.7, X.1.8, or Postfix's
  // "<address>: Sender address rejected" (a reply about a recipient may mention a sender address in other words).
  if (command === "RCPT TO" && ((subject === 1 && (detail === 7 || detail === 8)) || SENDER_REJECTED.test(raw))) return { state: "refused", code, command, response };
  if (command === "RCPT TO") {
    if (failure.utf8Recipient && subject === 1 && detail === 3) return { state: "failed", code, response };
    if (subject === 1 || (subject === 2 && detail === 1)) return { state: "bounced", code, response };
    if (subject === 2 && detail === 2) return { state: "failed", code, response };
    // A policy refusal of this recipient: theirs alone, unless it repeats across recipients (see send.ts).
    if (subject === 7 || code === 554) return { state: "failed", code, response, policy: true };
    // The sender's quota spent ("550 5.4.5 Daily user sending limit exceeded", Gmail), or a message too big: the send stops.
    if ((subject === 4 && detail === 5) || (subject === 3 && detail === 4) || code === 552) return { state: "refused", code, command, response };
    return { state: "failed", code, response };
  }
  if (subject === 7 || (subject === 3 && detail === 4)) return { state: "refused", code, command, response };
  return { state: "refused", code, command: command || "DATA", response };
}
