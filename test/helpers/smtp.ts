import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerSession } from "smtp-server";

/** How the test server answers one recipient. */
export type Behaviour =
  | "accept"
  /** Reply with this code (and text, e.g. "5.1.1 no such user") to RCPT TO; the first `times` times only, when given. */
  | { rcpt: number; text?: string; times?: number }
  /** Drop the connection in the middle of DATA the first `times` times. */
  | { drop: number }
  /** Wait this long before answering DATA. */
  | { slowMs: number };

/** A reply the server gives to every message once `after` messages were accepted: at MAIL FROM or at the end of DATA. */
export interface SessionRule {
  at: "MAIL FROM" | "DATA";
  code: number;
  text: string;
  after?: number;
}

/** A message the server accepted. */
export interface Received {
  /** The envelope sender (MAIL FROM). */
  from: string;
  to: string[];
  raw: Buffer;
}

/** An in-process SMTP server on loopback, scripted per recipient and per command. */
export interface TestSmtp {
  port: number;
  url: (user?: string, password?: string, query?: string) => string;
  received: Received[];
  /** How many times each recipient was offered (RCPT TO), accepted or not. */
  offered: Map<string, number>;
  /** Logins the server saw, in the clear (to prove a password was never sent). */
  logins: string[];
  /** TCP connections the server accepted, those turned away at the greeting included. */
  connections: () => number;
  behave: (address: string, behaviour: Behaviour) => void;
  /** Answers every message at a command, from the `after`+1-th accepted message on. */
  rule: (rule: SessionRule | undefined) => void;
  /** Holds every message at the end of DATA, unanswered, until the returned function is called. */
  hold: () => () => void;
  /** How many messages the hold keeps unanswered now. */
  holding: () => number;
  close: () => Promise<void>;
}

/** How the test server is set up. */
export interface SmtpOptions {
  /** Require this login. */
  auth?: { user: string; password: string };
  /** Offer STARTTLS (the default); false makes a server without it, where a login goes over plaintext. */
  starttls?: boolean;
  /** Greet a connection beyond this many open at once with 421 (smtp-server's maxClients). */
  maxClients?: number;
  /** Answer every login after the first `after` with this reply, the right password or not. */
  refuseLogins?: { after: number; code: number; text: string };
  /** Offer STARTTLS but answer it with this reply, on every session after the first `after` (0 by default), as a server whose TLS is out of order ("454 4.7.0 TLS not available"). */
  refuseStarttls?: { code: number; text: string; after?: number };
  /** Speak TLS from the first byte, on this port (465 for SMTPS): starting fails when the port cannot be had. */
  implicitTls?: { port: number };
}

/**
 * Starts an SMTP server with STARTTLS (smtp-server's built-in test
 * certificate, hence SMTP_TLS_INSECURE=1 in tests) and, when `auth` is set,
 * a required login.
 */
export async function startSmtp(options: SmtpOptions | { user: string; password: string } = {}): Promise<TestSmtp> {
  const { auth, starttls = true, maxClients, refuseLogins, refuseStarttls, implicitTls } = "user" in options ? { auth: options, starttls: true } : (options as SmtpOptions);
  const behaviours = new Map<string, Behaviour>();
  const offered = new Map<string, number>();
  const received: Received[] = [];
  const logins: string[] = [];
  let sessionRule: SessionRule | undefined;
  let held: Promise<void> | undefined;
  let holding = 0;
  /** Sessions onConnect let in so far. */
  let sessions = 0;
  const rule = (address: string) => behaviours.get(address.toLowerCase()) ?? "accept";
  const refuse = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });
  const server = new SMTPServer({
    logger: false,
    disabledCommands: [...(auth ? [] : ["AUTH"]), ...(starttls ? [] : ["STARTTLS"])],
    authOptional: !auth,
    allowInsecureAuth: !starttls,
    hideENHANCEDSTATUSCODES: true,
    size: 10 * 1024 * 1024,
    ...(implicitTls ? { secure: true } : {}),
    ...(maxClients ? { maxClients } : {}),
    onConnect(session, callback) {
      sessions++;
      if (refuseStarttls && sessions > (refuseStarttls.after ?? 0)) {
        // smtp-server has no hook for STARTTLS: its handler is replaced on this session's connection.
        const all = (server as unknown as { connections: Set<{ id: string; send(code: number, text: string): void; handler_STARTTLS: unknown }> }).connections;
        for (const connection of all)
          if (connection.id === session.id)
            connection.handler_STARTTLS = (_command: Buffer, done: () => void) => {
              connection.send(refuseStarttls.code, refuseStarttls.text);
              done();
            };
      }
      callback();
    },
    onAuth(credentials, _session, callback) {
      logins.push(`${credentials.username}:${credentials.password}`);
      if (refuseLogins && logins.length > refuseLogins.after) callback(refuse(refuseLogins.code, refuseLogins.text));
      else if (auth && credentials.username === auth.user && credentials.password === auth.password) callback(null, { user: auth.user });
      else callback(refuse(535, "5.7.8 Authentication failed"));
    },
    onMailFrom(_address, _session, callback) {
      if (sessionRule?.at === "MAIL FROM" && received.length >= (sessionRule.after ?? 0)) callback(refuse(sessionRule.code, sessionRule.text));
      else callback();
    },
    onRcptTo(address, _session, callback) {
      const to = address.address.toLowerCase();
      const count = (offered.get(to) ?? 0) + 1;
      offered.set(to, count);
      const behaviour = rule(to);
      if (typeof behaviour === "object" && "rcpt" in behaviour && (behaviour.times === undefined || count <= behaviour.times)) {
        callback(refuse(behaviour.rcpt, behaviour.text ?? `scripted reply for <${to}>`));
        return;
      }
      callback();
    },
    onData(stream, session: SMTPServerSession, callback) {
      const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
      const chunks: Buffer[] = [];
      const behaviour = rule(to[0] ?? "");
      let bytes = 0;
      stream.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        bytes += chunk.length;
        if (typeof behaviour === "object" && "drop" in behaviour && bytes > 200) {
          const drops = (dropped.get(to[0] ?? "") ?? 0) + 1;
          if (drops <= behaviour.drop) {
            dropped.set(to[0] ?? "", drops);
            const all = (server as unknown as { connections: Set<{ id: string; _socket: { destroy(): void } }> }).connections;
            for (const connection of all) if (connection.id === session.id) connection._socket.destroy();
          }
        }
      });
      stream.on("end", () => {
        const finish = () => {
          if (sessionRule?.at === "DATA" && received.length >= (sessionRule.after ?? 0)) {
            callback(refuse(sessionRule.code, sessionRule.text));
            return;
          }
          received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to, raw: Buffer.concat(chunks) });
          callback(null, "2.0.0 queued");
        };
        const answer = () => (typeof behaviour === "object" && "slowMs" in behaviour ? setTimeout(finish, behaviour.slowMs) : finish());
        if (held) {
          holding++;
          void held.then(() => {
            holding--;
            answer();
          });
        } else answer();
      });
    },
  });
  const dropped = new Map<string, number>();
  server.on("error", () => {});
  const raw = server as unknown as { server: import("node:net").Server };
  await new Promise<void>((resolve, reject) => {
    raw.server.once("error", reject);
    server.listen(implicitTls?.port ?? 0, "127.0.0.1", () => {
      raw.server.off("error", reject);
      resolve();
    });
  });
  const port = (raw.server.address() as AddressInfo).port;
  let connections = 0;
  raw.server.on("connection", () => connections++);
  return {
    port,
    url: (user, password, query) => `smtp://${user ? `${encodeURIComponent(user)}:${encodeURIComponent(password ?? "")}@` : ""}127.0.0.1:${port}${query ? `?${query}` : ""}`,
    received,
    offered,
    logins,
    connections: () => connections,
    behave: (address, behaviour) => behaviours.set(address.toLowerCase(), behaviour),
    rule: (next) => {
      sessionRule = next;
    },
    hold: () => {
      let release: () => void = () => {};
      held = new Promise<void>((resolve) => (release = resolve));
      return () => {
        held = undefined;
        release();
      };
    },
    holding: () => holding,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
