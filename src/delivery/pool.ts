import SMTPConnection, { type SMTPConnectionOptions, type SMTPConnectionSendInfo, type SMTPEnvelope } from "nodemailer/lib/smtp-connection";
import { PressworkError } from "../errors/error.js";

/** How the pool opens and uses its connections. */
export interface PoolOptions {
  /** Handed to each nodemailer SMTPConnection as they are. */
  connection: SMTPConnectionOptions;
  /** Logged in with on every connection: tried even when the server does not announce AUTH. */
  auth?: { user: string; pass: string };
  /** Messages in flight at once, one a connection. */
  maxConnections: number;
  /** Messages a connection carries before it says QUIT and a new one takes its place. */
  maxMessages: number;
  /** A connection idle this long says QUIT, before the server's own timeout drops it. */
  idleMs: number;
}

/** What nodemailer tells of a failure: its code, and the server's reply and the command it answered when there was one. */
export interface PoolError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  /** Set on a temporary failure to open a connection (greeting, EHLO, login): the relay's failure, not the message's. */
  opening?: boolean;
  /** nodemailer's: which wait an ETIMEDOUT ended (connecting, the greeting, a TLS upgrade, an idle socket). */
  timeoutType?: string;
}

/** One SMTP session of the pool. */
interface Session {
  connection: SMTPConnection;
  /** Messages tried over it, delivered or not. */
  messages: number;
  /** Closed, failed or saying QUIT: never given another message. */
  done: boolean;
  /** Settles the message in flight, or the step of opening, when the connection ends without answering it. */
  onEnd?: () => void;
  /** The connection's last error event, which may be all that is told of a failure while opening. */
  lastError?: Error;
  idleTimer?: NodeJS.Timeout;
}

/** How long close() lets the servers answer QUIT before it cuts the connections. */
const QUIT_GRACE_MS = 2000;

/** The wait before opening again after a connection failed to open; doubled after each further failure, up to OPEN_BACKOFF_MAX_MS. */
const OPEN_BACKOFF_MS = 1000;
const OPEN_BACKOFF_MAX_MS = 60_000;

/** Connections failing to open in a row, with nothing delivered in between, that make the relay unavailable. */
const OPEN_FAILURES_UNAVAILABLE = 4;

/**
 * A small pool of nodemailer SMTPConnections, driven through their public
 * API only (connect, login, send, reset, quit, close and their events).
 * Each message is handed to send() as one Buffer with its envelope, so the
 * only pass over its bytes is nodemailer's own dot-stuffing: no composing,
 * no stream chain. A connection carries one message at a time; with
 * PIPELINING nodemailer sends MAIL FROM, RCPT TO and DATA in one batch.
 * A connection whose message was refused (a 4xx or 5xx to the envelope or
 * the data, not a 421) is reset with RSET and reused; one that failed, was
 * dropped or answered 421 is closed and another opened for the next
 * message. Nothing is ever sent twice on the pool's own account: a message
 * whose connection died fails, and retrying it is the caller's decision.
 * A connection that fails to open for a passing reason (no answer, a 4xx or
 * 421 at the greeting, EHLO or login) makes the pool wait before it opens
 * another, longer after each failure; while others are open it keeps to
 * those, as the server limits connections. OPEN_FAILURES_UNAVAILABLE such
 * failures in a row with nothing delivered in between make the relay
 * unavailable: every message then fails with EUNAVAILABLE.
 */
export class ConnectionPool {
  /** Sessions open or opening, those saying QUIT excepted. */
  private readonly sessions = new Set<Session>();
  private readonly idle: Session[] = [];
  /** Sends waiting for a session. */
  private readonly waiting: Array<() => void> = [];
  /** Callers of ready() waiting for a free place. */
  private readonly readers: Array<() => void> = [];
  /** Every connection not yet ended, for close() to wait on. */
  private readonly live = new Set<SMTPConnection>();
  /** Waiting for the messages in flight to be answered. */
  private readonly drains: Array<() => void> = [];
  private inFlight = 0;
  private closed = false;
  /** Connections open at once: maxConnections, lowered to those open when the server refuses one more. */
  private limit: number;
  /** Connections that failed to open since the last delivery. */
  private openFailures = 0;
  /** No connection is opened before this time (ms since the epoch). */
  private openAfter = 0;
  /** Set once the relay is unavailable, to the failures that made it so and the last of them: every message fails then. */
  private unavailable?: { failures: number; last: PoolError };

  constructor(private readonly options: PoolOptions) {
    this.limit = options.maxConnections;
  }

  /** Opens a connection and logs in, then keeps it for the first message; rejects with nodemailer's error. */
  async verify(): Promise<void> {
    this.park(await this.open());
  }

  /** Resolves when fewer messages are in flight than connections may be open, so that a message sent now need not wait. */
  async ready(): Promise<void> {
    while (this.inFlight >= this.limit && !this.closed) await new Promise<void>((resolve) => this.readers.push(resolve));
  }

  /** Sends one message over a pooled connection; rejects with nodemailer's error when it was not accepted. */
  async send(envelope: SMTPEnvelope, raw: Buffer): Promise<SMTPConnectionSendInfo> {
    this.inFlight++;
    try {
      const session = await this.acquire();
      session.messages++;
      let info: SMTPConnectionSendInfo;
      try {
        info = await this.transmit(session, envelope, raw);
      } catch (error) {
        this.afterFailure(session, error as PoolError);
        throw error;
      }
      this.openFailures = 0;
      this.park(session);
      return info;
    } finally {
      this.inFlight--;
      this.readers.shift()?.();
      if (this.inFlight === 0) for (const drained of this.drains.splice(0)) drained();
    }
  }

  /**
   * Takes no more messages. Idle connections say QUIT at once, busy ones
   * once their message is answered (within the socket timeout); `force`
   * cuts every connection now, and the messages on them fail. Resolves when
   * every connection has ended, cut after a short grace when a server does
   * not answer QUIT.
   */
  async close(options: { force?: boolean } = {}): Promise<void> {
    this.closed = true;
    for (const wake of this.waiting.splice(0)) wake();
    for (const wake of this.readers.splice(0)) wake();
    for (const session of this.idle.splice(0)) this.quit(session);
    if (options.force) for (const connection of this.live) connection.close();
    else if (this.inFlight > 0) await new Promise<void>((resolve) => this.drains.push(resolve));
    if (this.live.size === 0) return;
    const ended = Promise.all([...this.live].map((connection) => new Promise<void>((resolve) => connection.once("end", () => resolve()))));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), QUIT_GRACE_MS)));
    if ((await Promise.race([ended, late])) === "late") for (const connection of this.live) connection.close();
    clearTimeout(timer);
  }

  /**
   * An idle session, or whichever comes first of a new one (opened while
   * fewer than the limit are, once any backoff is over) and one freed by
   * another message: a message never waits on a slow greeting or login
   * while a connection it could use is free. A session opened for a message
   * that went elsewhere is kept for the next. When its own opening fails for
   * a passing reason, the message waits for another session if any is open,
   * and fails marked `opening` if none is.
   */
  private async acquire(): Promise<Session> {
    for (;;) {
      if (this.closed) throw closedError();
      if (this.unavailable) throw unavailableError(this.unavailable);
      const session = this.idle.pop();
      if (session) {
        clearTimeout(session.idleTimer);
        if (!session.done) return session;
        continue;
      }
      let wake: () => void = () => {};
      const freed = new Promise<"freed">((resolve) => (wake = () => resolve("freed")));
      this.waiting.push(wake);
      const unwait = () => {
        const at = this.waiting.indexOf(wake);
        if (at >= 0) this.waiting.splice(at, 1);
        return at < 0;
      };
      if (this.sessions.size >= this.limit) {
        await freed;
        continue;
      }
      const backoff = this.openAfter - Date.now();
      if (backoff > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([freed, new Promise<void>((resolve) => (timer = setTimeout(resolve, backoff)))]);
        clearTimeout(timer);
        // A wake-up meant for this message that came with the timer goes to the next one waiting.
        if (unwait()) this.waiting.shift()?.();
        continue;
      }
      const opening = this.open();
      let woken = false;
      let first: Session | "freed";
      try {
        first = await Promise.race([opening, freed]);
      } catch (error) {
        woken = unwait();
        if (woken) this.waiting.shift()?.();
        if (this.unavailable) throw unavailableError(this.unavailable);
        if (!passing(error as PoolError) || this.closed) throw error;
        if (this.sessions.size > 0) continue;
        throw openingError(error as PoolError);
      }
      woken = unwait();
      if (first !== "freed") {
        // A session freed for this message in the same turn goes to the next one waiting.
        if (woken) this.waiting.shift()?.();
        return first;
      }
      opening.then(
        (opened) => this.park(opened),
        () => {},
      );
    }
  }

  /** Connects (greeting, EHLO, STARTTLS as configured) and logs in. */
  private async open(): Promise<Session> {
    const connection = new SMTPConnection(this.options.connection);
    const session: Session = { connection, messages: 0, done: false };
    this.sessions.add(session);
    this.live.add(connection);
    // A failure in use reaches the message's callback too; for an idle or opening connection this is all there is.
    connection.on("error", (error: Error) => {
      session.done = true;
      session.lastError = error;
    });
    connection.once("end", () => {
      session.done = true;
      this.live.delete(connection);
      this.forget(session);
      session.onEnd?.();
    });
    try {
      await this.step(session, (done) => {
        const failed = (error: Error) => done(error);
        connection.once("error", failed);
        connection.connect((error) => {
          connection.off("error", failed);
          done(error ?? null);
        });
      });
      const auth = this.options.auth;
      if (auth) await this.step(session, (done) => connection.login({ user: auth.user, pass: auth.pass }, (error) => done(error ?? null)));
      return session;
    } catch (error) {
      connection.close();
      this.forget(session);
      if (!this.closed && passing(error as PoolError)) this.openFailed(error as PoolError);
      throw error;
    }
  }

  /**
   * After a connection failed to open for a passing reason: while others are
   * open the server limits connections, so the pool keeps to those; the next
   * opening waits, twice as long after each failure; and too many failures
   * with nothing delivered in between make the relay unavailable.
   */
  private openFailed(error: PoolError): void {
    this.openFailures++;
    if (this.sessions.size > 0) this.limit = Math.min(this.limit, this.sessions.size);
    if (this.openFailures >= OPEN_FAILURES_UNAVAILABLE) {
      this.unavailable = { failures: this.openFailures, last: error };
      for (const wake of this.waiting.splice(0)) wake();
      return;
    }
    this.openAfter = Date.now() + Math.min(OPEN_BACKOFF_MS * 2 ** (this.openFailures - 1), OPEN_BACKOFF_MAX_MS);
  }

  /**
   * One step of opening a session (connecting, logging in), as a promise
   * that also settles when the connection ends first, as when close() cuts
   * it: nodemailer calls back on neither.
   */
  private step(session: Session, run: (done: (error: Error | null) => void) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const done = (error: Error | null) => {
        if (settled) return;
        settled = true;
        delete session.onEnd;
        if (error) reject(error);
        else resolve();
      };
      session.onEnd = () => setImmediate(() => done(this.closed ? closedError() : (session.lastError ?? connectionError("Connection closed before the session was ready", "CONN"))));
      run(done);
    });
  }

  /**
   * nodemailer's send, as a promise. A connection cut by close() forgets its
   * message without calling back: the end of the connection settles it then.
   * A failure of nodemailer's own calls back right after ending the
   * connection, so the end waits a turn to let that error through first.
   */
  private transmit(session: Session, envelope: SMTPEnvelope, raw: Buffer): Promise<SMTPConnectionSendInfo> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (error: Error | null, info?: SMTPConnectionSendInfo) => {
        if (settled) return;
        settled = true;
        delete session.onEnd;
        if (error || !info) reject(error ?? connectionError("no reply", "DATA"));
        else resolve(info);
      };
      session.onEnd = () => setImmediate(() => settle(connectionError("Connection closed before the server answered the message", "CONN")));
      session.connection.send(envelope, raw, settle);
    });
  }

  /** After a refused message the session goes on once reset; after a failed, dropped or closing (421) one it is closed. */
  private afterFailure(session: Session, error: PoolError): void {
    if (session.done) return;
    const refusedOnly = (error.code === "EENVELOPE" || error.code === "EMESSAGE") && error.responseCode !== 421;
    if (!refusedOnly || this.closed) {
      session.done = true;
      session.connection.close();
      this.forget(session);
      return;
    }
    session.connection.reset((resetError) => {
      if (resetError) {
        session.done = true;
        session.connection.close();
        this.forget(session);
      } else this.park(session);
    });
  }

  /** Makes a session available for the next message, or retires it after maxMessages or once the pool is closed. */
  private park(session: Session): void {
    if (session.done) return;
    if (this.closed || session.messages >= this.options.maxMessages || this.sessions.size > this.limit) {
      this.quit(session);
      return;
    }
    this.idle.push(session);
    session.idleTimer = setTimeout(() => {
      const at = this.idle.indexOf(session);
      if (at >= 0) this.idle.splice(at, 1);
      this.quit(session);
    }, this.options.idleMs);
    session.idleTimer.unref();
    this.waiting.shift()?.();
  }

  /** Says QUIT; the session's place goes to a new connection at once. */
  private quit(session: Session): void {
    clearTimeout(session.idleTimer);
    if (session.done) return;
    session.done = true;
    session.connection.quit();
    this.forget(session);
  }

  /** Frees a session's place in the pool for a waiting message. */
  private forget(session: Session): void {
    clearTimeout(session.idleTimer);
    const at = this.idle.indexOf(session);
    if (at >= 0) this.idle.splice(at, 1);
    if (this.sessions.delete(session)) this.waiting.shift()?.();
  }
}

/**
 * A failure worth opening again for, later: no reply at all, or a 4xx (421 included, and a 454 to STARTTLS:
 * "TLS not available due to temporary reason"); a 5xx, a failed TLS handshake or a missing login is not.
 */
function passing(error: PoolError): boolean {
  const code = error.responseCode;
  if (error.code === "ETLS") return code !== undefined && code >= 400 && code < 500;
  if (error.code === "ENOAUTH") return false;
  return !(code !== undefined && code >= 500);
}

/** A passing failure to open the connection a message needed: the relay's failure, which the caller retries without counting it against the recipient. */
function openingError(error: PoolError): PoolError {
  return Object.assign(error, { opening: true });
}

/** The failure of every message once connections kept failing to open. */
function unavailableError({ failures, last }: { failures: number; last: PoolError }): PoolError {
  const reply = last.response ?? last.message;
  return Object.assign(new PressworkError("smtp-unavailable", `${failures} connections in a row could not be opened, with nothing delivered in between (the last: ${reply})`), { code: "EUNAVAILABLE", command: last.command ?? "CONN" });
}

function closedError(): PoolError {
  return connectionError("the transport was closed before this message went out", "API");
}

/** A failure of the connection itself, shaped as nodemailer reports one so that the transport classifies it with the server's. */
function connectionError(message: string, command: string): PoolError {
  return Object.assign(new PressworkError("smtp-unavailable", message), { code: "ECONNECTION", command });
}
