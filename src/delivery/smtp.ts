import SMTPConnection, { type SMTPConnectionOptions } from "nodemailer/lib/smtp-connection";
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

/** One open SMTP session of the pool and how many messages it has carried. */
interface Session {
  connection: SMTPConnection;
  messages: number;
  /** The server closed it or it failed: never reused. */
  broken: boolean;
  /** Closed and no longer counted as open. */
  discarded: boolean;
  /** The message being sent is in wire form already: DATA passes it through. */
  wireReady: boolean;
}

/** nodemailer's DATA stream, as far as the wire-form fast path touches it (pinned nodemailer 10.6). */
interface DataStream {
  inByteCount: number;
  outByteCount: number;
  lastByte: number | false;
  push(chunk: Buffer): boolean;
  _transform(chunk: Buffer, encoding: string, done: () => void): void;
}
type SendStreamFactory = (callback: unknown) => DataStream;

/** Hands a chunk on untouched, keeping the counts nodemailer reads at the end of DATA. */
function passThrough(this: DataStream, chunk: Buffer, _encoding: string, done: () => void): void {
  this.inByteCount += chunk.length;
  this.outByteCount += chunk.length;
  if (chunk.length > 0) this.lastByte = chunk[chunk.length - 1] ?? false;
  this.push(chunk);
  done();
}

/** Whether this nodemailer still has the DATA stream hook the fast path relies on. */
export const wireFastPath = typeof (SMTPConnection.prototype as unknown as { _createSendStream?: unknown })._createSendStream === "function";

/**
 * The message in SMTP wire form: every line ending CRLF, a dot at the start
 * of a line doubled (RFC 5321 4.5.2). Undefined when the message has a bare
 * CR or LF; nodemailer's own DATA stream then normalises it byte by byte.
 * The searches are native; nodemailer's byte loop costs ten times more on a
 * 30 KB issue.
 */
export function wireForm(raw: Buffer): Buffer | undefined {
  const dots: number[] = raw[0] === 46 ? [0] : [];
  for (let i = raw.indexOf(10); i >= 0; i = raw.indexOf(10, i + 1)) {
    if (raw[i - 1] !== 13) return undefined;
    if (raw[i + 1] === 46) dots.push(i + 1);
  }
  for (let i = raw.indexOf(13); i >= 0; i = raw.indexOf(13, i + 1)) if (raw[i + 1] !== 10) return undefined;
  if (dots.length === 0) return raw;
  const parts: Buffer[] = [];
  let from = 0;
  for (const at of dots) {
    parts.push(raw.subarray(from, at), DOT);
    from = at;
  }
  parts.push(raw.subarray(from));
  return Buffer.concat(parts, raw.length + dots.length);
}
const DOT = Buffer.from(".");

/** Messages per connection before it is closed and a new one opened, as nodemailer's pool does. */
const MESSAGES_PER_CONNECTION = 100;

/**
 * Sends through a pool of nodemailer SMTP connections: STARTTLS when
 * offered, login when a user is set, up to `maxConnections` sessions reused
 * for 100 messages each. The pool is ours, not nodemailer's: it hands each
 * pre-composed raw message straight to an SMTPConnection, which costs less
 * than half of what the Mailer's pool spends per message, and it never
 * resends on its own (retries are counted and recorded by the caller). A
 * message already in wire form (see wireForm) skips nodemailer's byte-by-byte
 * DATA transform, which was 40 % of a send's CPU.
 */
export class SmtpTransport implements Transport {
  readonly concurrency: number;
  readonly description: string;
  private readonly options: SMTPConnectionOptions;
  private readonly idle: Session[] = [];
  private readonly waiting: Array<() => void> = [];
  private open = 0;
  private closed = false;

  constructor(
    private readonly settings: SmtpSettings,
    limits: SmtpLimits,
  ) {
    this.concurrency = limits.maxConnections;
    this.description = `${settings.secure ? "smtps" : "smtp"}://${settings.host}:${settings.port}${settings.user ? " (with authentication)" : ""}`;
    const timeout = limits.timeoutSeconds * 1000;
    this.options = {
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      tls: { rejectUnauthorized: settings.rejectUnauthorized },
    };
  }

  /** Opens the first session (kept for sending): a wrong password, a TLS failure or nothing listening stops here. */
  async verify(): Promise<void> {
    let session: Session;
    try {
      session = await this.connect();
    } catch (error) {
      throw fatal(error, this.description);
    }
    this.release(session);
  }

  async send(message: Outgoing): Promise<Outcome> {
    let session: Session;
    try {
      session = await this.acquire();
    } catch (error) {
      const e = error as { code?: string };
      if (e.code === "EAUTH" || e.code === "ETLS") throw fatal(error, this.description);
      return { state: "retry", response: cleanResponse((error as Error).message ?? String(error)) };
    }
    const wire = wireFastPath ? wireForm(message.raw) : undefined;
    session.wireReady = wire !== undefined;
    try {
      const info = await new Promise<{ response?: string }>((resolve, reject) => {
        session.connection.send({ from: message.envelope.from, to: [message.envelope.to] }, wire ?? message.raw, (error, result) => (error ? reject(error) : resolve(result ?? {})));
      });
      session.messages++;
      this.release(session);
      const response = String(info.response ?? "250");
      return { state: "sent", code: Number(/^\d{3}/.exec(response)?.[0] ?? 250), response: cleanResponse(response) };
    } catch (error) {
      const e = error as { code?: string; responseCode?: number; response?: string; message?: string };
      session.messages++;
      // The server refused this message; the session itself is fine once reset.
      if ((e.code === "EENVELOPE" || e.code === "EMESSAGE") && e.responseCode !== 421 && !session.broken) this.reset(session);
      else {
        session.broken = true;
        this.discard(session);
      }
      if (e.code === "EAUTH" || e.code === "ETLS") throw fatal(error, this.description);
      const response = cleanResponse(e.response ?? e.message ?? String(error));
      if (e.responseCode && e.responseCode >= 500) return { state: "rejected", code: e.responseCode, response };
      return e.responseCode ? { state: "retry", code: e.responseCode, response } : { state: "retry", response };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const session of this.idle.splice(0)) this.discard(session);
  }

  /** An idle session, a new one while fewer than `concurrency` are open, or the next one released. */
  private async acquire(): Promise<Session> {
    for (;;) {
      const session = this.idle.pop();
      if (session) {
        if (!session.broken) return session;
        this.discard(session);
        continue;
      }
      if (this.open < this.concurrency) return this.connect();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private async connect(): Promise<Session> {
    this.open++;
    const connection = new SMTPConnection(this.options);
    const session: Session = { connection, messages: 0, broken: false, discarded: false, wireReady: false };
    if (wireFastPath) {
      const internals = connection as unknown as { _createSendStream: SendStreamFactory };
      const create = internals._createSendStream.bind(connection);
      internals._createSendStream = (callback) => {
        const stream = create(callback);
        if (session.wireReady) stream._transform = passThrough;
        return stream;
      };
    }
    // A session in use hears of its errors through the send callback as well; an idle one only here.
    connection.on("error", () => {
      session.broken = true;
    });
    connection.once("end", () => {
      session.broken = true;
    });
    try {
      await new Promise<void>((resolve, reject) => {
        // A refused connection, a TLS failure or a timeout before the greeting arrive as events.
        connection.once("error", reject);
        connection.connect((error) => {
          connection.off("error", reject);
          if (error) reject(error);
          else resolve();
        });
      });
      const { user, password } = this.settings;
      if (user) await new Promise<void>((resolve, reject) => connection.login({ user, pass: password ?? "" }, (error) => (error ? reject(error) : resolve())));
      return session;
    } catch (error) {
      session.broken = true;
      this.discard(session);
      throw error;
    }
  }

  private reset(session: Session): void {
    session.connection.reset((error) => {
      if (error) session.broken = true;
      this.release(session);
    });
  }

  private release(session: Session): void {
    if (this.closed || session.broken || session.messages >= MESSAGES_PER_CONNECTION) {
      this.discard(session);
      return;
    }
    this.idle.push(session);
    this.waiting.shift()?.();
  }

  /** Closes a session: politely (QUIT) when it still works. */
  private discard(session: Session): void {
    if (session.discarded) return;
    session.discarded = true;
    if (session.broken) session.connection.close();
    else session.connection.quit();
    session.broken = true;
    this.open--;
    this.waiting.shift()?.();
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
