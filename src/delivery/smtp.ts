import { isIP } from "node:net";
import { connect } from "node:tls";
import { classify, cleanResponse } from "./classify.js";
import { ConnectionPool, type PoolError } from "./pool.js";
import { type Outcome, type Outgoing, type Transport } from "./transport.js";
import { PressworkError } from "../errors/error.js";
import { PLAINTEXT_AUTH_PARAM } from "../config/url-part.js";
import type { SmtpSettings } from "./smtp-settings.js";

/** Limits for the pool, from the config. */
export interface SmtpLimits {
  maxConnections: number;
  timeoutSeconds: number;
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
