import type { Address } from "../audience/address.js";

/** Subscribe requests one mailbox may make in an hour, however its address is spelled. */
export const MAILBOX_LIMIT = 3;
const WINDOW_MS = 3_600_000;
/** Mailboxes remembered at once: past this the least recently asked for is forgotten. */
const REMEMBERED = 50_000;

/** Providers that ignore dots in the local part (Gmail), by domain, with the domain they deliver to. */
const DOTLESS: Readonly<Record<string, string>> = { "gmail.com": "gmail.com", "googlemail.com": "gmail.com" };

/**
 * The mailbox an address delivers to, as far as its spelling shows: the
 * local part without a `+tag`, and without dots at Gmail. For limits only:
 * two spellings of one mailbox stay two subscribers, as most providers
 * tell them apart.
 */
export function mailboxOf(address: Address): string {
  const at = address.identity.lastIndexOf("@");
  const domain = address.identity.slice(at + 1);
  let local = address.identity.slice(0, at);
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
