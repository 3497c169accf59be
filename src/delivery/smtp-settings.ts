import { PressworkError } from "../errors/error.js";
import { decodeUrlPart, PLAINTEXT_AUTH_PARAM, saysYes } from "../config/url-part.js";

/** How to reach the SMTP server; the password never appears in a message. */
export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (smtps://, port 465). Otherwise STARTTLS when the server offers it. */
  secure: boolean;
  user?: string;
  password?: string;
  /** Refuse a server whose certificate does not verify (off only for tests on loopback). */
  rejectUnauthorized: boolean;
  /** Send the password over a connection without TLS: only when the URL asks for it in so many words. */
  allowPlaintextAuth: boolean;
}

/**
 * Port 465 speaks TLS from the first byte (RFC 8314), whatever the URL's scheme says: over plaintext the client would
 * wait for a greeting the server never sends until it speaks TLS. nodemailer does the same when it is not told.
 */
const IMPLICIT_TLS_PORT = 465;

/**
 * SMTP settings from the environment: SMTP_URL (smtp:// or smtps://, user
 * and password in it, percent-encoded), or SMTP_HOST, SMTP_PORT, SMTP_USER,
 * SMTP_PASSWORD and SMTP_SECURE; SMTP_ALLOW_PLAINTEXT_AUTH with either
 * (or ?allow-plaintext-auth=true in the URL). Undefined when none is set.
 * A malformed URL is named part by part, never with its password.
 */
export function smtpFromEnv(env: NodeJS.ProcessEnv): SmtpSettings | undefined {
  const rejectUnauthorized = env["SMTP_TLS_INSECURE"] !== "1";
  if (env["SMTP_URL"]) {
    const settings = parseSmtpUrl(env["SMTP_URL"]);
    return { ...settings, allowPlaintextAuth: settings.allowPlaintextAuth || saysYes(env["SMTP_ALLOW_PLAINTEXT_AUTH"]), rejectUnauthorized };
  }
  if (!env["SMTP_HOST"]) return undefined;
  const told = env["SMTP_SECURE"] || undefined;
  const port = env["SMTP_PORT"] ? Number(env["SMTP_PORT"]) : saysYes(told) ? 465 : 587;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new PressworkError("smtp-setup", `SMTP_PORT is "${env["SMTP_PORT"]}", not a port number (1 to 65535)`);
  const secure = told === undefined ? port === IMPLICIT_TLS_PORT : saysYes(told);
  return {
    host: env["SMTP_HOST"],
    port,
    secure,
    ...(env["SMTP_USER"] ? { user: env["SMTP_USER"] } : {}),
    ...(env["SMTP_PASSWORD"] ? { password: env["SMTP_PASSWORD"] } : {}),
    rejectUnauthorized,
    allowPlaintextAuth: saysYes(env["SMTP_ALLOW_PLAINTEXT_AUTH"]),
  };
}

const URL_HINT = "Write it as smtp://user:password@host:587 or smtps://user:password@host:465, with @ : / ? # and % in the user name or password written as %40 %3A %2F %3F %23 and %25";

/** Parses SMTP_URL by hand, so that each mistake is named without repeating the password. */
function parseSmtpUrl(text: string): Omit<SmtpSettings, "rejectUnauthorized"> {
  const fail = (what: string): PressworkError => new PressworkError("smtp-setup", `SMTP_URL ${what}. ${URL_HINT}`);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (!scheme) throw fail("does not start with smtp:// or smtps://");
  const protocol = (scheme[1] ?? "").toLowerCase();
  if (protocol !== "smtp" && protocol !== "smtps") throw fail(`starts with ${protocol}://, not smtp:// or smtps://`);
  let rest = text.slice(scheme[0].length);
  // The host part ends at the first / ? or # after the last @ (an @ may only appear, encoded or not, in the user information).
  const at = rest.lastIndexOf("@");
  const userinfo = at >= 0 ? rest.slice(0, at) : undefined;
  rest = at >= 0 ? rest.slice(at + 1) : rest;
  if (userinfo !== undefined && /[/?#]/.test(userinfo)) throw fail("has a / ? or # in its user name or password");
  const end = rest.search(/[/?#]/);
  const hostPort = end < 0 ? rest : rest.slice(0, end);
  const tail = end < 0 ? "" : rest.slice(end);
  const hostMatch = /^(\[[0-9a-f:.]+\]|[^:[\]]*)(?::(.*))?$/i.exec(hostPort);
  const host = hostMatch?.[1]?.replace(/^\[|\]$/g, "") ?? "";
  if (!hostMatch || host === "" || /[\s%@]/.test(host)) throw fail("has no valid host name after the @");
  const portText = hostMatch[2];
  const port = portText === undefined || portText === "" ? (protocol === "smtps" ? IMPLICIT_TLS_PORT : 587) : Number(portText);
  if (!/^\d*$/.test(portText ?? "") || !Number.isInteger(port) || port < 1 || port > 65535) throw fail(`has "${portText}" as its port, not a number from 1 to 65535`);
  const secure = protocol === "smtps" || port === IMPLICIT_TLS_PORT;
  const query = /^\/?(?:\?([^#]*))?(?:#.*)?$/.exec(tail);
  if (!query) throw fail("has a path after the host; an SMTP URL has none");
  let allowPlaintextAuth = false;
  for (const pair of (query[1] ?? "").split("&").filter(Boolean)) {
    const [name = "", value = ""] = pair.split("=");
    if (name !== PLAINTEXT_AUTH_PARAM) throw fail(`has an unknown parameter "${name}" (the one parameter known is ${PLAINTEXT_AUTH_PARAM}=true)`);
    allowPlaintextAuth = saysYes(value);
  }
  let user: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(":");
    const decode = (part: string, what: string) => decodeUrlPart(part, "SMTP_URL", what, "smtp-setup", URL_HINT);
    user = decode(colon < 0 ? userinfo : userinfo.slice(0, colon), "user name");
    if (colon >= 0) password = decode(userinfo.slice(colon + 1), "password");
  }
  return { host, port, secure, ...(user ? { user } : {}), ...(password ? { password } : {}), allowPlaintextAuth };
}
