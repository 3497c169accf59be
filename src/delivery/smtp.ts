import nodemailer from "nodemailer";
import { maskAddress } from "../audience/address.js";
import { FatalTransportError, type Outcome, type Outgoing, type Transport } from "./transport.js";

/** How to reach the SMTP server; the password never appears in a message. */
export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  password?: string;
  /** Refuse a server whose certificate does not verify (off only for tests on loopback). */
  rejectUnauthorized: boolean;
}

/** Limits for the pool, from the config. */
export interface SmtpLimits {
  maxConnections: number;
  messagesPerSecond?: number;
  timeoutSeconds: number;
}

/**
 * SMTP settings from the environment: SMTP_URL (smtp:// or smtps://, user
 * and password in it), or SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD and
 * SMTP_SECURE. Undefined when none is set.
 */
export function smtpFromEnv(env: NodeJS.ProcessEnv): SmtpSettings | undefined {
  const rejectUnauthorized = env["SMTP_TLS_INSECURE"] !== "1";
  if (env["SMTP_URL"]) {
    let url: URL;
    try {
      url = new URL(env["SMTP_URL"]);
    } catch {
      throw new FatalTransportError("SMTP_URL is not a URL: write it as smtp://user:password@host:587 or smtps://user:password@host:465");
    }
    if (url.protocol !== "smtp:" && url.protocol !== "smtps:") throw new FatalTransportError(`SMTP_URL must start with smtp:// or smtps://, not ${url.protocol}//`);
    const secure = url.protocol === "smtps:";
    return {
      host: url.hostname,
      port: Number(url.port) || (secure ? 465 : 587),
      secure,
      ...(url.username ? { user: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      rejectUnauthorized,
    };
  }
  if (!env["SMTP_HOST"]) return undefined;
  const secure = env["SMTP_SECURE"] === "true" || env["SMTP_SECURE"] === "1";
  return {
    host: env["SMTP_HOST"],
    port: Number(env["SMTP_PORT"]) || (secure ? 465 : 587),
    secure,
    ...(env["SMTP_USER"] ? { user: env["SMTP_USER"] } : {}),
    ...(env["SMTP_PASSWORD"] ? { password: env["SMTP_PASSWORD"] } : {}),
    rejectUnauthorized,
  };
}

const ADDRESS = /[^\s<>"]+@[^\s<>"]+/g;

/** A server reply with any address in it masked, fit for a log line or the ledger. */
export function cleanResponse(text: string): string {
  return text.replace(ADDRESS, (a) => maskAddress(a.replace(/^<|>$/g, ""))).slice(0, 300);
}

/** Sends through nodemailer's SMTP pool: STARTTLS when offered, several connections, optional rate limit. */
export class SmtpTransport implements Transport {
  readonly concurrency: number;
  readonly description: string;
  private readonly transporter: ReturnType<typeof nodemailer.createTransport>;

  constructor(settings: SmtpSettings, limits: SmtpLimits) {
    this.concurrency = limits.maxConnections;
    this.description = `${settings.secure ? "smtps" : "smtp"}://${settings.host}:${settings.port}${settings.user ? " (with authentication)" : ""}`;
    this.transporter = nodemailer.createTransport({
      pool: true,
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      ...(settings.user ? { auth: { user: settings.user, pass: settings.password ?? "" } } : {}),
      maxConnections: limits.maxConnections,
      maxMessages: 100,
      // Retries are ours, counted and recorded; the pool must not resend a message on its own.
      maxRequeues: 0,
      ...(limits.messagesPerSecond ? { rateLimit: limits.messagesPerSecond, rateDelta: 1000 } : {}),
      connectionTimeout: limits.timeoutSeconds * 1000,
      greetingTimeout: limits.timeoutSeconds * 1000,
      socketTimeout: limits.timeoutSeconds * 1000,
      tls: { rejectUnauthorized: settings.rejectUnauthorized },
    });
  }

  async verify(): Promise<void> {
    try {
      await this.transporter.verify();
    } catch (error) {
      throw fatal(error, this.description);
    }
  }

  async send(message: Outgoing): Promise<Outcome> {
    try {
      const info = await this.transporter.sendMail({ envelope: message.envelope, raw: message.raw });
      const response = String(info.response ?? "250");
      return { state: "sent", code: Number(/^\d{3}/.exec(response)?.[0] ?? 250), response: cleanResponse(response) };
    } catch (error) {
      const e = error as { code?: string; responseCode?: number; response?: string; message?: string };
      if (e.code === "EAUTH" || e.code === "ETLS") throw fatal(error, this.description);
      const response = cleanResponse(e.response ?? e.message ?? String(error));
      if (e.responseCode && e.responseCode >= 500) return { state: "rejected", code: e.responseCode, response };
      return e.responseCode ? { state: "retry", code: e.responseCode, response } : { state: "retry", response };
    }
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}

function fatal(error: unknown, where: string): FatalTransportError {
  const e = error as { code?: string; message?: string; response?: string };
  const reasons: Record<string, string> = {
    EAUTH: "the server refused the user name and password",
    ETLS: "the TLS handshake failed",
    ECONNECTION: "the connection failed",
    ETIMEDOUT: "the server did not answer in time",
    ESOCKET: "the connection failed",
  };
  const reason = reasons[e.code ?? ""] ?? "the server could not be used";
  return new FatalTransportError(`cannot send through ${where}: ${reason} (${cleanResponse(e.response ?? e.message ?? "")}). Nothing was recorded as sent.`);
}
