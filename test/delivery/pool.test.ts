import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterEach, describe, expect, it } from "vitest";
import { SmtpTransport } from "../../src/delivery/smtp.js";
import type { Outcome } from "../../src/delivery/transport.js";

/** How the server answers one recipient: at RCPT TO or at the end of DATA, by cutting its connection during DATA, or late. */
type Script = { at: "RCPT TO" | "DATA"; code: number; text: string } | "cut" | { delayMs: number };

/** A loopback SMTP server that counts its sessions and can cut a connection in the middle of a message. */
interface ScriptedServer {
  port: number;
  /** Sessions opened, and ended (by QUIT, by the server or by a cut). */
  opened: number;
  closed: number;
  /** QUIT commands received. */
  quits: number;
  /** Every message accepted, as it arrived, with its recipient. */
  received: Array<{ to: string; raw: Buffer }>;
  /** How many times each recipient was offered (RCPT TO). */
  offered: Map<string, number>;
  /** Messages received in full whose answer is being delayed. */
  delayed: number;
  script: Map<string, Script>;
  /** Cuts every open connection, as a server restarting does. */
  cutAll: () => void;
  close: () => Promise<void>;
}

const servers: ScriptedServer[] = [];
const transports: SmtpTransport[] = [];
afterEach(async () => {
  for (const transport of transports.splice(0)) await transport.close({ force: true });
  for (const server of servers.splice(0)) await server.close();
});

async function startServer(options: { pipelining?: boolean; secondConnectionDelayMs?: number } = {}): Promise<ScriptedServer> {
  const sockets = new Map<number, Socket>();
  const state: Omit<ScriptedServer, "port" | "cutAll" | "close"> = { opened: 0, closed: 0, quits: 0, received: [], offered: new Map(), delayed: 0, script: new Map() };
  const refuse = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ["AUTH", "STARTTLS"],
    authOptional: true,
    hidePIPELINING: options.pipelining === false,
    onConnect(_session, callback) {
      state.opened++;
      if (state.opened === 2 && options.secondConnectionDelayMs) setTimeout(callback, options.secondConnectionDelayMs);
      else callback();
    },
    onClose() {
      state.closed++;
    },
    onRcptTo(address, _session, callback) {
      const to = address.address;
      state.offered.set(to, (state.offered.get(to) ?? 0) + 1);
      const script = state.script.get(to);
      if (typeof script === "object" && "at" in script && script.at === "RCPT TO") callback(refuse(script.code, script.text));
      else callback();
    },
    onData(stream, session, callback) {
      const to = session.envelope.rcptTo[0]?.address ?? "";
      const script = state.script.get(to);
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        if (script === "cut") sockets.get(session.remotePort)?.destroy();
      });
      stream.on("end", () => {
        if (typeof script === "object" && "at" in script && script.at === "DATA") return callback(refuse(script.code, script.text));
        const accept = () => {
          state.received.push({ to, raw: Buffer.concat(chunks) });
          callback(null, "2.0.0 queued");
        };
        if (typeof script === "object" && "delayMs" in script) {
          state.delayed++;
          setTimeout(accept, script.delayMs);
        }
        else accept();
      });
    },
  });
  server.on("error", () => {});
  // smtp-server's own net.Server: the sockets, by the client's port, so that a test can cut one.
  const net = (server as unknown as { server: Server }).server;
  net.on("connection", (socket: Socket) => {
    const port = socket.remotePort ?? 0;
    sockets.set(port, socket);
    socket.once("close", () => sockets.delete(port));
    // What the client sent, read beside smtp-server: no message of these tests has a line QUIT.
    socket.on("data", (chunk: Buffer) => (state.quits += chunk.toString("latin1").match(/^QUIT\r$/gm)?.length ?? 0));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const running: ScriptedServer = Object.assign(state, {
    port: (net.address() as AddressInfo).port,
    cutAll: () => {
      for (const socket of sockets.values()) socket.destroy();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
  servers.push(running);
  return running;
}

function transportTo(server: ScriptedServer, limits = { maxConnections: 2, timeoutSeconds: 5 }): SmtpTransport {
  const transport = new SmtpTransport({ host: "127.0.0.1", port: server.port, secure: false, rejectUnauthorized: false, allowPlaintextAuth: false }, limits);
  transports.push(transport);
  return transport;
}

const message = (to: string, body = "body\r\n") => ({ key: to, envelope: { from: "news@example.org", to }, raw: Buffer.from(`Subject: for ${to}\r\n\r\n${body}`, "latin1") });
const LONG_BODY = `${"x".repeat(70)}\r\n`.repeat(2000);

/** Sends to every address as the send does, a message as soon as ready() allows. */
async function sendAll(transport: SmtpTransport, addresses: string[], body?: string): Promise<Map<string, Outcome>> {
  const flights: Array<Promise<[string, Outcome]>> = [];
  for (const to of addresses) {
    await transport.ready();
    flights.push(transport.send(message(to, body)).then((outcome) => [to, outcome]));
  }
  return new Map(await Promise.all(flights));
}

/** Waits for a condition the server reports. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

const addresses = (count: number, prefix = "reader") => Array.from({ length: count }, (_, i) => `${prefix}${i}@example.org`);

describe("the SMTP connection pool", () => {
  it("fails only the message whose connection died in the middle of it, resends nothing, and carries the rest", async () => {
    const server = await startServer();
    server.script.set("reader4@example.org", "cut");
    const transport = transportTo(server);
    await transport.verify();
    const outcomes = await sendAll(transport, addresses(10), LONG_BODY);
    expect(outcomes.get("reader4@example.org")).toMatchObject({ state: "retry" });
    expect([...outcomes].filter(([, outcome]) => outcome.state === "sent").map(([to]) => to)).toEqual(addresses(10).filter((to) => to !== "reader4@example.org"));
    expect(server.offered.get("reader4@example.org")).toBe(1);
    expect(server.received.map((m) => m.to).sort()).toEqual(addresses(10).filter((to) => to !== "reader4@example.org").sort());
    server.script.delete("reader4@example.org");
    expect(await transport.send(message("reader4@example.org"))).toMatchObject({ state: "sent" });
  });

  it("opens a new connection when the server dropped an idle one, without failing the next message", async () => {
    const server = await startServer();
    const transport = transportTo(server);
    expect(await transport.send(message("first@example.org"))).toMatchObject({ state: "sent" });
    server.cutAll();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // A turn of the event loop that reads the sockets, however late the timer fired: the pool has seen the end of its connection.
    await new Promise((resolve) => setImmediate(resolve));
    expect(await transport.send(message("second@example.org"))).toMatchObject({ state: "sent" });
    expect(server.opened).toBe(2);
  });

  it.each(["RCPT TO", "DATA"] as const)("reports a 421 at %s for a retry, gives up that connection and sends the next message over a new one", async (at) => {
    const server = await startServer();
    server.script.set("busy@example.org", { at, code: 421, text: "4.7.0 Too busy, closing connection" });
    const transport = transportTo(server, { maxConnections: 1, timeoutSeconds: 5 });
    expect(await transport.send(message("before@example.org"))).toMatchObject({ state: "sent" });
    expect(await transport.send(message("busy@example.org"))).toMatchObject({ state: "retry", code: 421, response: expect.stringContaining("Too busy") });
    expect(await transport.send(message("after@example.org"))).toMatchObject({ state: "sent" });
    expect(server.received.map((m) => m.to)).toEqual(["before@example.org", "after@example.org"]);
    expect(server.opened).toBe(2);
  });

  it("keeps using a connection after a 4xx or 5xx that does not close it, resetting the transaction first", async () => {
    const server = await startServer();
    server.script.set("full@example.org", { at: "RCPT TO", code: 452, text: "4.2.2 Mailbox full" });
    server.script.set("spam@example.org", { at: "DATA", code: 550, text: "5.6.0 Content rejected" });
    const transport = transportTo(server, { maxConnections: 1, timeoutSeconds: 5 });
    expect(await transport.send(message("full@example.org"))).toMatchObject({ state: "retry", code: 452 });
    expect(await transport.send(message("spam@example.org"))).toMatchObject({ state: "refused", code: 550, command: "DATA" });
    expect(await transport.send(message("fine@example.org"))).toMatchObject({ state: "sent" });
    expect(server.received.map((m) => m.to)).toEqual(["fine@example.org"]);
    expect(server.opened).toBe(1);
  });

  it("gives a message the first connection free, never holding it for one that is slow to open", async () => {
    const server = await startServer({ secondConnectionDelayMs: 3000 });
    const transport = transportTo(server);
    await transport.verify();
    const started = Date.now();
    const outcomes = await sendAll(transport, addresses(10));
    expect([...outcomes.values()].every((outcome) => outcome.state === "sent")).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("sends to a server that does not offer PIPELINING, a command at a time, refusals included", async () => {
    const server = await startServer({ pipelining: false });
    server.script.set("reader3@example.org", { at: "RCPT TO", code: 550, text: "5.1.1 No such user" });
    const transport = transportTo(server);
    await transport.verify();
    const outcomes = await sendAll(transport, addresses(20));
    expect(outcomes.get("reader3@example.org")).toMatchObject({ state: "bounced", code: 550 });
    expect(server.received.map((m) => m.to).sort()).toEqual(addresses(20).filter((to) => to !== "reader3@example.org").sort());
    expect(server.opened).toBeLessThanOrEqual(2);
  });

  it("hands a connection over to a new one after 100 messages, and says QUIT to a connection left idle before the server's timeout", async () => {
    const server = await startServer();
    // Idle for half the timeout, a connection says QUIT: 2 s, where a stall of the busy test process could outlast a shorter one.
    const transport = transportTo(server, { maxConnections: 1, timeoutSeconds: 4 });
    const outcomes = await sendAll(transport, addresses(250));
    expect([...outcomes.values()].every((outcome) => outcome.state === "sent")).toBe(true);
    expect(server.opened).toBe(3);
    expect(server.closed).toBe(2);
    // Said by the pool once its connection was idle, before the socket's timeout would close it unsaid.
    await until(() => server.closed === 3);
    expect(server.quits).toBe(3);
    expect(await transport.send(message("later@example.org"))).toMatchObject({ state: "sent" });
  });

  it("lets a message in flight finish on close(), and says QUIT", async () => {
    const server = await startServer();
    server.script.set("slow@example.org", { delayMs: 300 });
    const transport = transportTo(server);
    const flight = transport.send(message("slow@example.org"));
    await until(() => server.delayed === 1);
    await transport.close();
    expect(await flight).toMatchObject({ state: "sent" });
    expect(server.received.map((m) => m.to)).toEqual(["slow@example.org"]);
    await until(() => server.closed === 1);
    expect(server.quits).toBe(1);
  });

  it("cuts a message in flight on close({ force: true }), reports it for a retry, and takes no more", async () => {
    const server = await startServer();
    server.script.set("slow@example.org", { delayMs: 2000 });
    const transport = transportTo(server);
    const flight = transport.send(message("slow@example.org"));
    await until(() => server.delayed === 1);
    const started = Date.now();
    await transport.close({ force: true });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await flight).toMatchObject({ state: "retry" });
    expect(await transport.send(message("late@example.org"))).toMatchObject({ state: "retry" });
    expect(server.offered.has("late@example.org")).toBe(false);
  });

  it("settles a message whose connection close({ force: true }) cut before the server greeted it", async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const transport = new SmtpTransport({ host: "127.0.0.1", port: (silent.address() as AddressInfo).port, secure: false, rejectUnauthorized: false, allowPlaintextAuth: false }, { maxConnections: 2, timeoutSeconds: 30 });
    const flight = transport.send(message("first@example.org"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await transport.close({ force: true });
    expect(await flight).toMatchObject({ state: "retry", response: expect.stringContaining("closed") });
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it("delivers lines that begin with a dot intact, as a mail client reads them", async () => {
    const server = await startServer();
    const transport = transportTo(server);
    const text = ".first line begins with a dot\r\n..two dots\r\n.\r\nthe line above is a lone dot\r\n. a dot and a space\r\n.\r\n";
    const raw = Buffer.from(`From: news@example.org\r\nTo: dots@example.org\r\nSubject: dots\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}`);
    expect(await transport.send({ key: "dots", envelope: { from: "news@example.org", to: "dots@example.org" }, raw })).toMatchObject({ state: "sent" });
    const parsed = await simpleParser(server.received[0]?.raw as Buffer);
    expect(parsed.subject).toBe("dots");
    expect(parsed.text?.replace(/\r?\n/g, "\r\n")).toBe(text);
  });
});
