import { PressworkError } from "../errors/error.js";
import { decodeUrlPart } from "../config/url-part.js";
/** Where the mailbox is: parsed from IMAP_URL. */
export interface ImapSettings {
  host: string;
  port: number;
  /** Implicit TLS (imaps://); otherwise STARTTLS whenever the server offers it. */
  secure: boolean;
  user: string;
  password: string;
}


/**
 * The IMAP settings from `IMAP_URL` (`imaps://user:password@host[:993]` or
 * `imap://…[:143]`, user and password percent-encoded). Errors never repeat
 * the password.
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
  const secure = url.protocol === "imaps:";
  const decode = (part: string, what: string) => decodeUrlPart(part, "IMAP_URL", what, "mailbox-setup", "Write @ : / ? # and % in it as %40 %3A %2F %3F %23 and %25.");
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port ? Number(url.port) : secure ? 993 : 143,
    secure,
    user: decode(url.username, "user name"),
    password: decode(url.password, "password"),
  };
}
