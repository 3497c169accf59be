import type { Address } from "./address.js";
import { addressKey } from "../issues/message.js";

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
export function mailboxOf(address: Pick<Address, "identity">): string {
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
 * The keyed hash a mailbox's subscribe requests are counted by: of the
 * mailbox (see mailboxOf) in a context of its own, so that it matches no
 * address's key in the list (a forgotten address leaves nothing to link).
 */
export function mailboxKey(identity: string, secret: string): string {
  return addressKey(`subscribe requests\n${mailboxOf({ identity })}`, secret);
}
