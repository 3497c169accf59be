import type { ErrorId } from "../errors/catalogue.js";
import { PressworkError } from "../errors/error.js";

/**
 * A part of a URL-valued setting (SMTP_URL, IMAP_URL, DATABASE_URL) with its
 * %XX escapes decoded. A % that starts no escape is the setting's own error
 * `id`, naming the part (`what`) but never repeating it: it may be a password.
 */
export function decodeUrlPart(part: string, setting: string, what: string, id: ErrorId, hint: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new PressworkError(id, `${setting} has a % in its ${what} that is not followed by two hexadecimal digits. ${hint}`);
  }
}

/** The query parameter of SMTP_URL and IMAP_URL that allows a password over an unencrypted connection. */
export const PLAINTEXT_AUTH_PARAM = "allow-plaintext-auth";

/** Whether a setting's value says yes: true, 1 or yes. */
export function saysYes(value: string | undefined): boolean {
  return value === "true" || value === "1" || value === "yes";
}
