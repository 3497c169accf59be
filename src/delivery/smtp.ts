import { isIP } from "node:net";
import { connect } from "node:tls";
import { classify, cleanResponse } from "./classify.js";
import { ConnectionPool, type PoolError } from "./pool.js";
import { type Outcome, type Outgoing, type Transport } from "./transport.js";
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

/** Limits for the pool, from the config. */
export interface SmtpLimits {
  maxConnections: number;
  timeoutSeconds: number;
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

/** Messages a connection carries before a fresh one takes over, as nodemailer's own pool does. */
const MESSAGES_PER_CONNECTION = 100;

/**
 * Sends through a small pool of nodemailer SMTP connections (see pool.ts),
 * each message pre-built with its envelope and handed over as one Buffer.
 * STARTTLS when the server offers it, and required when a password is
 * configured (unless the URL allows plaintext); the login is tried even
 * when a server does not announce AUTH, so a misconfigured server fails the
 * send instead of taking mail unauthenticated. The pool never resends a
 * message on its own: retries are the caller's, counted in the ledger.
 */
export class SmtpTransport implements Transport {
  readonly kind = "smtp";
  readonly description: string;
  private readonly pool: ConnectionPool;
  private readonly timeoutMs: number;

  constructor(
    private readonly settings: SmtpSettings,
    limits: SmtpLimits,
  ) {
    this.description = `${settings.secure ? "smtps" : "smtp"}://${settings.host}:${settings.port}${settings.user ? " (with authentication)" : ""}`;
    const timeout = limits.timeoutSeconds * 1000;
    this.timeoutMs = timeout;
    this.pool = new ConnectionPool({
      connection: {
        host: settings.host,
        port: settings.port,
        secure: settings.secure,
        requireTLS: settings.user !== undefined && !settings.secure && !settings.allowPlaintextAuth,
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout,
        tls: { rejectUnauthorized: settings.rejectUnauthorized },
      },
      ...(settings.user !== undefined ? { auth: { user: settings.user, pass: settings.password ?? "" } } : {}),
      maxConnections: limits.maxConnections,
      maxMessages: MESSAGES_PER_CONNECTION,
      // Half the socket timeout: an idle connection says QUIT before the timeout drops it.
      idleMs: timeout / 2,
    });
  }

  /**
   * Opens a connection and logs in: a wrong password, a refused TLS, a
   * missing STARTTLS, nothing listening or a busy server (a 4xx) stops here.
   * When no greeting came over plaintext, a TLS handshake tells a server that
   * waits for TLS from the first byte (smtps:// on a port other than 465)
   * from one that is down or slow.
   */
  async verify(): Promise<void> {
    try {
      await this.pool.verify();
    } catch (error) {
      if (!this.settings.secure && SILENT.has((error as PoolError).timeoutType ?? "") && (await speaksTlsFirst(this.settings, this.timeoutMs))) {
        const { host, port } = this.settings;
        throw new PressworkError("smtp-setup", `cannot send through ${this.description}: the server sent no greeting in plain text, and greets over TLS from the first byte, as smtps:// expects. Use smtps://${host}:${port} in SMTP_URL (user and password as before), or SMTP_SECURE=true with SMTP_HOST. Nothing was sent.`);
      }
      throw fatal(error, this.description, this.settings);
    }
  }

  ready(): Promise<void> {
    return this.pool.ready();
  }

  async send(message: Outgoing): Promise<Outcome> {
    try {
      const info = await this.pool.send({ from: message.envelope.from, to: [message.envelope.to], size: message.raw.length }, message.raw);
      const response = String(info.response ?? "250");
      return { state: "sent", code: Number(/^\d{3}/.exec(response)?.[0] ?? 250), response: cleanResponse(response) };
    } catch (error) {
      const to = message.envelope.to;
      return classify(Object.assign(error as PoolError, { utf8Recipient: /[^\x00-\x7f]/.test(to.slice(0, to.lastIndexOf("@"))) }));
    }
  }

  close(options: { force?: boolean } = {}): Promise<void> {
    return this.pool.close(options);
  }
}

/**
 * nodemailer's timeouts of a server that said nothing once connected: the
 * greeting's, or the socket's own, which it arms for as long just before
 * and which fires first when the connection opened within the millisecond.
 */
const SILENT = new Set(["GREETING_TIMEOUT", "SOCKET_TIMEOUT"]);

/**
 * Whether the server greets in SMTP ("220") once spoken to in TLS: one that
 * speaks TLS from the first byte does; one that speaks plain SMTP first
 * answers the handshake with its greeting in the clear, another TLS service
 * (HTTPS on 443, IMAP on 993) with something else or nothing, and one that
 * is down or stuck with nothing. Nothing is sent, and the certificate is not
 * judged (the send itself judges it, over smtps://).
 */
function speaksTlsFirst(settings: SmtpSettings, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: settings.host, port: settings.port, rejectUnauthorized: false, ...(isIP(settings.host) ? {} : { servername: settings.host }) });
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("data", (chunk: Buffer) => done(/^220[ -]/.test(chunk.toString("latin1", 0, 4))));
    socket.once("error", () => done(false));
  });
}

/** What OpenSSL says (Node 20, 22 and 24 alike) when the server's first bytes are its "220" greeting, not a TLS record. */
const PLAIN_SMTP_FIRST = /wrong version number/i;

function fatal(error: unknown, where: string, settings: SmtpSettings): PressworkError {
  const e = error as { code?: string; message?: string; response?: string; command?: string; responseCode?: number };
  const reply = cleanResponse(e.response ?? e.message ?? "");
  let reason: string;
  let id: "smtp-setup" | "smtp-unavailable" = "smtp-setup";
  const temporary = e.responseCode !== undefined && e.responseCode >= 400 && e.responseCode < 500;
  if (e.code === "ETLS" && e.command === "STARTTLS" && temporary) {
    // "454 4.7.0 TLS not available due to temporary reason": busy, not wrong.
    reason = "the server refused TLS for now; run the same command again later";
    id = "smtp-unavailable";
  } else if (e.code === "ETLS" && e.command === "STARTTLS" && e.responseCode)
    reason = `the server does not offer STARTTLS, and a password would cross the network unencrypted. Use smtps:// (port 465), turn STARTTLS on at the server, or, if the network between is trusted, add ?${PLAINTEXT_AUTH_PARAM}=true to SMTP_URL (or set SMTP_ALLOW_PLAINTEXT_AUTH=true)`;
  else if (temporary) {
    // A 421 greeting, or a 4xx to EHLO or the login ("454 4.7.0 Too many login attempts"): busy, not wrong.
    reason = "the server is busy or limits connections or logins for now; run the same command again later";
    id = "smtp-unavailable";
  } else if (settings.secure && PLAIN_SMTP_FIRST.test(e.message ?? "")) {
    // OpenSSL's words for a TLS client that got "220 …" where a TLS record should be: the reply adds nothing.
    return new PressworkError("smtp-setup", `cannot send through ${where}: the server speaks plain SMTP first, not TLS, as smtps:// and port 465 expect. A submission port such as 587 upgrades with STARTTLS: write smtp://…:${settings.port}. Nothing was sent.`);
  } else if (e.code === "ETLS") reason = "the TLS handshake failed";
  else if (e.code === "EAUTH" || e.code === "ENOAUTH") reason = settings.user ? "the server refused the user name and password" : "the server asks for a user name and password";
  else if (e.code === "ETIMEDOUT" || e.code === "ECONNECTION" || e.code === "ESOCKET" || e.code === "EDNS") {
    reason = e.code === "ETIMEDOUT" ? "the server did not answer in time" : "the connection failed";
    id = "smtp-unavailable";
  } else reason = "the server could not be used";
  return new PressworkError(id, `cannot send through ${where}: ${reason} (${reply}). Nothing was sent.`);
}
