import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerSession } from "smtp-server";

/** How the test server answers one recipient. */
export type Behaviour =
  | "accept"
  /** Reply with this code to RCPT TO, every time. */
  | { rcpt: number }
  /** Reply with this code to RCPT TO the first `times` times, then accept. */
  | { rcpt: number; times: number }
  /** Drop the connection in the middle of DATA the first `times` times. */
  | { drop: number }
  /** Wait this long before answering DATA. */
  | { slowMs: number };

/** A message the server accepted. */
export interface Received {
  to: string[];
  raw: Buffer;
}

/** An in-process SMTP server on loopback, scripted per recipient. */
export interface TestSmtp {
  port: number;
  url: (user?: string, password?: string) => string;
  received: Received[];
  /** How many times each recipient was offered (RCPT TO), accepted or not. */
  offered: Map<string, number>;
  behave: (address: string, behaviour: Behaviour) => void;
  close: () => Promise<void>;
}

/**
 * Starts an SMTP server with STARTTLS (smtp-server's built-in test
 * certificate, hence SMTP_TLS_INSECURE=1 in tests) and, when `auth` is set,
 * a required login.
 */
export async function startSmtp(auth?: { user: string; password: string }): Promise<TestSmtp> {
  const behaviours = new Map<string, Behaviour>();
  const offered = new Map<string, number>();
  const received: Received[] = [];
  const rule = (address: string) => behaviours.get(address.toLowerCase()) ?? "accept";
  const server = new SMTPServer({
    logger: false,
    disabledCommands: auth ? [] : ["AUTH"],
    authOptional: !auth,
    size: 10 * 1024 * 1024,
    onAuth(credentials, _session, callback) {
      if (auth && credentials.username === auth.user && credentials.password === auth.password) callback(null, { user: auth.user });
      else callback(Object.assign(new Error("Authentication failed"), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      const to = address.address.toLowerCase();
      const count = (offered.get(to) ?? 0) + 1;
      offered.set(to, count);
      const behaviour = rule(to);
      if (typeof behaviour === "object" && "rcpt" in behaviour && (!("times" in behaviour) || count <= behaviour.times)) {
        callback(Object.assign(new Error(`${behaviour.rcpt} scripted reply for <${to}>`), { responseCode: behaviour.rcpt }));
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
          received.push({ to, raw: Buffer.concat(chunks) });
          callback(null, "2.0.0 queued");
        };
        if (typeof behaviour === "object" && "slowMs" in behaviour) setTimeout(finish, behaviour.slowMs);
        else finish();
      });
    },
  });
  const dropped = new Map<string, number>();
  server.on("error", () => {});
  const raw = server as unknown as { server: import("node:net").Server };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (raw.server.address() as AddressInfo).port;
  return {
    port,
    url: (user, password) => `smtp://${user ? `${encodeURIComponent(user)}:${encodeURIComponent(password ?? "")}@` : ""}127.0.0.1:${port}`,
    received,
    offered,
    behave: (address, behaviour) => behaviours.set(address.toLowerCase(), behaviour),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
