import { domainToASCII } from "node:url";

/** An address that passed validation: as given (trimmed), and the form to send to (domain in ASCII). */
export interface Address {
  /** The address to send to: local part as written, domain lower-cased and in ASCII (IDNA). */
  address: string;
  /** Case-insensitive identity, for de-duplication. */
  identity: string;
}

const LOCAL = /^[^\s@"(),:;<>[\]\\]{1,64}$/;
/** C0 and C1 controls, DEL, and the invisible format characters (bidi controls such as U+202E, zero-width ones). */
const CONTROL = /[\p{Cc}\p{Cf}]/u;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Validates an email address, taken in Unicode NFC: no control or invisible
 * formatting character, one @, a plausible local part, a domain of valid
 * labels with a dot and a top-level domain that is no number,
 * internationalised domains converted to ASCII.
 * Returns the reason when it is not an address.
 */
export function parseAddress(raw: string): Address | { reason: string } {
  // In Unicode NFC (RFC 6532, 3.1): "mär" typed with a combining mark is the same address as with "ä".
  const value = raw.trim().normalize("NFC");
  if (value === "") return { reason: "the address is empty" };
  const control = CONTROL.exec(value)?.[0].codePointAt(0);
  if (control !== undefined) return { reason: `the address has a control or invisible formatting character (U+${control.toString(16).toUpperCase().padStart(4, "0")}), which an address cannot have` };
  const at = value.lastIndexOf("@");
  if (at <= 0 || at === value.length - 1) return { reason: "an address needs a part before and after one @" };
  const local = value.slice(0, at);
  const domain = domainToASCII(value.slice(at + 1).toLowerCase());
  if (!LOCAL.test(local) || local.startsWith(".") || local.endsWith(".") || local.includes("..")) return { reason: "the part before @ has characters an address cannot have" };
  if (domain === "" || !domain.includes(".") || !domain.split(".").every((label) => LABEL.test(label))) return { reason: "the domain is not a valid domain name" };
  // No top-level domain is all digits (RFC 3696, 2): what ends in one is an IPv4 address (127.0.0.1, or 0x7f.1 as the
  // URL standard reads it), which an address may give only in brackets, and which no list mails.
  if (/\.[0-9]+$/.test(domain)) return { reason: "the domain is a number (an IP address), not a domain name" };
  const address = `${local}@${domain}`;
  if (address.length > 254) return { reason: "the address is longer than 254 characters" };
  return { address, identity: address.toLowerCase() };
}

/** The domain of an address (after its last @), lower-cased. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1).toLowerCase();
}

/** An address for logs: first letter of the local part, then stars, then the domain (j***@example.com). */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf("@");
  if (at <= 0) return "***";
  return `${address[0]}***${address.slice(at)}`;
}
