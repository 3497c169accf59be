import type { Address } from "../audience/address.js";
import { CONFIRM_DAYS } from "../issues/tokens.js";

/**
 * Subscribe requests one mailbox may make in the days a confirmation link
 * works, however its address is spelled: over an hour, four spellings an
 * hour mailed one Gmail inbox 72 confirmations a day, for as long as
 * someone kept typing them.
 */
export const MAILBOX_LIMIT = 3;
const WINDOW_MS = CONFIRM_DAYS * 86_400_000;
/** Mailboxes remembered at once: past this the least recently asked for is forgotten. */
const REMEMBERED = 50_000;

/** Providers that ignore dots in the local part (Gmail), by domain, with the domain they deliver to. */
const DOTLESS: Readonly<Record<string, string>> = { "gmail.com": "gmail.com", "googlemail.com": "gmail.com" };

/** Providers whose users get every address of a subdomain named for them: anything@ann.fastmail.com is ann@fastmail.com. */
const SUBDOMAIN_ADDRESSING: ReadonlySet<string> = new Set(["fastmail.com", "fastmail.fm"]);

/**
 * The mailbox an address delivers to, as far as its spelling shows: the
 * local part without a `+tag`, without dots at Gmail, and at Fastmail the
 * user a subdomain names. For limits only: two spellings of one mailbox
 * stay two subscribers, as most providers tell them apart.
 */
export function mailboxOf(address: Address): string {
  const at = address.identity.lastIndexOf("@");
  let domain = address.identity.slice(at + 1);
  let local = address.identity.slice(0, at);
  const dot = domain.indexOf(".");
  if (dot > 0 && SUBDOMAIN_ADDRESSING.has(domain.slice(dot + 1))) {
    local = domain.slice(0, dot);
    domain = domain.slice(dot + 1);
  }
  const plus = local.indexOf("+");
  if (plus > 0) local = local.slice(0, plus);
  const dotless = DOTLESS[domain];
  return dotless ? `${local.replaceAll(".", "")}@${dotless}` : `${local}@${domain}`;
}

/**
 * Counts subscribe requests by mailbox (see mailboxOf), so that spelling one
 * mailbox many ways (`a.nn`, `an.n`, `ann+1` at Gmail) cannot mail it a
 * confirmation for each: the per-address limits in the store see each
 * spelling as its own address. Kept in this process's memory, bounded.
 */
export class MailboxLimit {
  private readonly asked = new Map<string, number[]>();

  /** Whether `address` may be asked for now, counting this request if so. */
  take(address: Address, now: number): boolean {
    const mailbox = mailboxOf(address);
    const times = (this.asked.get(mailbox) ?? []).filter((t) => t > now - WINDOW_MS);
    this.asked.delete(mailbox);
    if (times.length >= MAILBOX_LIMIT) {
      this.asked.set(mailbox, times);
      return false;
    }
    times.push(now);
    this.asked.set(mailbox, times);
    // A Map keeps insertion order: the first key is the one asked for least recently.
    if (this.asked.size > REMEMBERED) this.asked.delete(this.asked.keys().next().value as string);
    return true;
  }
}
