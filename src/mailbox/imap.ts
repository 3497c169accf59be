import { PressworkError } from "../errors/error.js";
import { decodeUrlPart, PLAINTEXT_AUTH_PARAM, saysYes } from "../config/url-part.js";
/** Where the mailbox is: parsed from IMAP_URL. */
export interface ImapSettings {
  host: string;
  port: number;
  /** Implicit TLS (imaps://); otherwise STARTTLS, required unless `allowPlaintextAuth`. */
  secure: boolean;
  user: string;
  password: string;
  /** Log in over imap:// without STARTTLS when the server does not offer it: only when asked for in so many words. */
  allowPlaintextAuth: boolean;
}

/** IMAP over TLS from the first byte. */
const IMAPS_PORT = 993;

/**
 * The IMAP settings from `IMAP_URL` (`imaps://user:password@host[:993]` or
 * `imap://…[:143]`, user and password percent-encoded; port 993 is TLS
 * from the first byte whatever the scheme). An imap:// login
 * requires STARTTLS, as a stripped STARTTLS would otherwise hand the
 * password to whoever stripped it, unless the URL has
 * `?allow-plaintext-auth=true` or IMAP_ALLOW_PLAINTEXT_AUTH says yes.
 * Errors never repeat the password.
 */
export function imapFromEnv(env: NodeJS.ProcessEnv): ImapSettings {
  const value = env["IMAP_URL"];
  if (!value) throw new PressworkError("mailbox-setup", "IMAP_URL is not set: give the bounce mailbox as imaps://user:password@imap.example.com (percent-encode special characters)");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new PressworkError("mailbox-setup", "IMAP_URL is not a URL: write it as imaps://user:password@imap.example.com");
  }
  if (url.protocol !== "imap:" && url.protocol !== "imaps:") throw new PressworkError("mailbox-setup", `IMAP_URL starts with ${url.protocol}//: it must be imaps:// (TLS) or imap:// (STARTTLS)`);
  if (!url.username || !url.password) throw new PressworkError("mailbox-setup", "IMAP_URL has no user name or password: write it as imaps://user:password@host");
  const port = url.port ? Number(url.port) : url.protocol === "imaps:" ? IMAPS_PORT : 143;
  // Port 993 speaks TLS from the first byte (RFC 8314): over plaintext the client would wait for a greeting never sent.
  const secure = url.protocol === "imaps:" || port === IMAPS_PORT;
  let allowPlaintextAuth = saysYes(env["IMAP_ALLOW_PLAINTEXT_AUTH"]);
  for (const [name, value] of url.searchParams) {
    if (name !== PLAINTEXT_AUTH_PARAM) throw new PressworkError("mailbox-setup", `IMAP_URL has an unknown parameter "${name}" (the one parameter known is ${PLAINTEXT_AUTH_PARAM}=true)`);
    allowPlaintextAuth ||= saysYes(value);
  }
  const decode = (part: string, what: string) => decodeUrlPart(part, "IMAP_URL", what, "mailbox-setup", "Write @ : / ? # and % in it as %40 %3A %2F %3F %23 and %25.");
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port,
    secure,
    user: decode(url.username, "user name"),
    password: decode(url.password, "password"),
    allowPlaintextAuth,
  };
}
