import { createHmac, timingSafeEqual } from "node:crypto";
import { PressworkError } from "../errors/error.js";

/**
 * Per-recipient addresses that name a recipient and an issue without the
 * address in clear: the envelope sender of each message (VERP,
 * `bounces+<token>@domain`), so a bounce says whom it is about from its
 * envelope alone, and the unsubscribe mailto (`unsubscribe+<token>@domain`).
 *
 * The token is `<issue>.<key>.<mac>`: the issue number in decimal (0 in
 * the unsubscribe mailto of a mail that is no issue, the service's welcome), the
 * address's keyed hash (`addressKey`, 24 hex digits, the ledger's key) and
 * 12 hex digits of an HMAC of both under PRESSWORK_SECRET, so a forged
 * address is refused. Digits, a–f and dots only: it survives MTAs that
 * lower-case local parts, and decoding looks for it anywhere in the local
 * part, so it survives SRS and BATV rewriting and a delimiter other than
 * `+`. At most 44 characters for issues below a million, which leaves 19
 * for the mailbox name and delimiter within the 64 octets of a local part.
 */

/** What a feedback token names. */
export interface FeedbackToken {
  /** The issue; none for a mail that is no issue (the service's welcome mail). */
  issue?: number;
  /** The recipient's keyed address hash, 24 lower-case hex digits. */
  key: string;
}

/** What a token is for: a bounce address and an unsubscribe address do not stand in for each other. */
export type TokenPurpose = "bounce" | "unsubscribe";

/** Where a token goes: the configured address, and the delimiter between its mailbox and the token. */
export interface TokenAddress {
  address: string;
  delimiter: string;
}

/** Longest local part RFC 5321 allows. */
export const MAX_LOCAL_PART = 64;
/** Longest token for an issue number below one million. */
export const MAX_TOKEN_LENGTH = 6 + 1 + 24 + 1 + 12;

const KEY = /^[0-9a-f]{24}$/;
const TOKEN = /(?:^|[^0-9a-z])(\d{1,9})\.([0-9a-f]{24})\.([0-9a-f]{12})(?=$|[^0-9a-z])/g;

function mac(purpose: TokenPurpose, issue: number, key: string, secret: string): string {
  return createHmac("sha256", secret).update(`presswork ${purpose}\n${issue}\n${key}`).digest("hex").slice(0, 12);
}

/** The token for a recipient of an issue, or of no issue (written 0). Throws on a key that is not an address key or an issue that is not a positive integer. */
export function feedbackToken(purpose: TokenPurpose, token: FeedbackToken, secret: string): string {
  const key = token.key.toLowerCase();
  if (!KEY.test(key)) throw new PressworkError("internal", "a feedback token needs the address key (24 hex digits), never the address");
  const issue = token.issue ?? 0;
  if (token.issue !== undefined && (!Number.isInteger(issue) || issue < 1 || issue > 999_999_999)) throw new PressworkError("internal", `issue ${issue} is not an issue number`);
  return `${issue}.${key}.${mac(purpose, issue, key, secret)}`;
}

/** `local<delimiter><token>@domain`. Throws when the local part would pass 64 octets. */
function tokenAddress(purpose: TokenPurpose, where: TokenAddress, token: FeedbackToken, secret: string): string {
  const at = where.address.lastIndexOf("@");
  const local = `${where.address.slice(0, at)}${where.delimiter}${feedbackToken(purpose, token, secret)}`;
  if (local.length > MAX_LOCAL_PART) throw new PressworkError("verp-address", `the ${purpose} address's local part would be ${local.length} characters, over the ${MAX_LOCAL_PART} SMTP allows: shorten the mailbox name before the @`);
  return `${local}@${where.address.slice(at + 1)}`;
}

/**
 * The envelope sender (MAIL FROM) for one recipient of an issue:
 * `bounces+12.<key>.<mac>@example.com` for `newsletter.bounces`
 * `{ address: bounces@example.com, delimiter: "+" }`.
 */
export function verpAddress(bounces: TokenAddress, token: FeedbackToken, secret: string): string {
  return tokenAddress("bounce", bounces, token, secret);
}

/**
 * The mailto URL for one recipient's List-Unsubscribe header: the token in
 * the address and in the subject, so a mail system that strips the
 * `+` part still carries it: `mailto:unsubscribe+<token>@example.com?subject=unsubscribe%20<token>`.
 * Without a delimiter (a mailbox that may not take tagged addresses) the
 * token is in the subject alone.
 */
export function unsubscribeMailto(mailbox: { address: string; delimiter?: string }, token: FeedbackToken, secret: string): string {
  const value = feedbackToken("unsubscribe", token, secret);
  const address = mailbox.delimiter === undefined ? mailbox.address : tokenAddress("unsubscribe", { address: mailbox.address, delimiter: mailbox.delimiter }, token, secret);
  return `mailto:${address}?subject=unsubscribe%20${value}`;
}

/**
 * The recipient and issue a token names, from any text that holds one (an
 * address, a local part, a subject), in any letter case; no issue for a
 * token of issue 0; undefined when there is none or its MAC is wrong.
 */
export function readFeedbackToken(purpose: TokenPurpose, text: string, secret: string): FeedbackToken | undefined {
  for (const match of text.toLowerCase().matchAll(TOKEN)) {
    const issue = Number(match[1]);
    const key = match[2] as string;
    const expected = Buffer.from(mac(purpose, issue, key, secret));
    const given = Buffer.from(match[3] as string);
    if (timingSafeEqual(expected, given)) return issue > 0 ? { issue, key } : { key };
  }
  return undefined;
}

/** The recipient and issue named by a VERP bounce address (or any rewriting of it), when its MAC is genuine. */
export function decodeVerp(address: string, secret: string): FeedbackToken | undefined {
  const at = address.lastIndexOf("@");
  return readFeedbackToken("bounce", at < 0 ? address : address.slice(0, at), secret);
}
