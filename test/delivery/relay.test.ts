import { chmodSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import getTLSOptions from "smtp-server/lib/tls-options";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { startCli, type CliResult } from "../helpers/cli.js";
import { git, initRepo } from "../helpers/git.js";
import { removeProjects, tempProject } from "../helpers/project.js";
import { startSmtp, type SmtpOptions, type TestSmtp } from "../helpers/smtp.js";
import { readState } from "../helpers/state.js";

const NOW = "2026-11-29T12:00:00Z";
const SECRET = "relay-secret";
/** More connection attempts than this is a pool opening again and again: the CLI is cut there, and the test fails on the count. */
const RUNAWAY = 60;
let smtp: TestSmtp;
let root: string;
const closers: Array<() => Promise<void>> = [];

async function project(maxConnections: number): Promise<string> {
  const dir = await tempProject({ samples: true, built: true });
  const path = join(dir, "presswork.config.yaml");
  const text = (await readFile(path, "utf8")).replace("maxConnections: 5", `maxConnections: ${maxConnections}`).replace("retryDelaySeconds: 2", "retryDelaySeconds: 0");
  await writeFile(path, text);
  initRepo(dir);
  return dir;
}

async function list(n: number): Promise<string[]> {
  const all = Array.from({ length: n }, (_, i) => `r${i}@example.org`);
  await writeFile(join(root, "subs.csv"), `email\n${all.join("\n")}\n`);
  return all;
}

async function server(options: SmtpOptions = {}): Promise<TestSmtp> {
  smtp = await startSmtp(options);
  closers.push(() => smtp.close());
  return smtp;
}

/** A TCP front for the server that, once `down()` is called, cuts every connection and refuses new ones; counts attempts and times the refused ones. */
async function front(port: number): Promise<{ port: number; attempts: () => number; refusedAt: number[]; down: () => void }> {
  let attempts = 0;
  let isDown = false;
  const refusedAt: number[] = [];
  const sockets = new Set<Socket>();
  const proxy: Server = createServer((client) => {
    attempts++;
    if (isDown) {
      refusedAt.push(performance.now());
      client.destroy();
      return;
    }
    const upstream = createConnection(port, "127.0.0.1");
    sockets.add(client).add(upstream);
    client.on("error", () => {});
    upstream.on("error", () => {});
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  closers.push(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
  return {
    port: (proxy.address() as AddressInfo).port,
    attempts: () => attempts,
    refusedAt,
    down: () => {
      isDown = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** Runs `presswork send`, cut when `count()` passes RUNAWAY; `watch` is polled while it runs. */
async function sendCli(smtpUrl: string, count: () => number, watch: () => void = () => {}, env: Record<string, string> = {}): Promise<CliResult> {
  const { child, done } = startCli(["send", "--subscribers", "subs.csv", "--now", NOW], root, { PRESSWORK_SECRET: SECRET, SMTP_URL: smtpUrl, SMTP_TLS_INSECURE: "1", CI: "", ...env });
  const timer = setInterval(() => {
    watch();
    if (count() > RUNAWAY) child.kill("SIGKILL");
  }, 5);
  try {
    return await done;
  } finally {
    clearInterval(timer);
  }
}

async function states(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [, s] of (await (await readState(root)).ledger(3)).states()) counts[s.state] = (counts[s.state] ?? 0) + 1;
  return counts;
}

beforeEach(() => {
  closers.length = 0;
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(removeProjects);

describe("a relay that cannot be connected to in the middle of a send", () => {
  it("stops after a few spaced attempts with exit 4, records those it tried as not sent, and the next run mails the rest", async () => {
    root = await project(1);
    const all = await list(40);
    await server();
    const relay = await front(smtp.port);
    const cli = await sendCli(`smtp://127.0.0.1:${relay.port}`, relay.attempts, () => {
      if (smtp.received.length >= 10) relay.down();
    });
    expect(relay.attempts()).toBeLessThanOrEqual(8);
    // The pool waits before each attempt after a failed one, longer each time (1 s, then twice as long). Only lower
    // bounds, each 1.5 times the one before: a busy machine can make a wait longer, never shorter.
    const gaps = relay.refusedAt.slice(1).map((at, i) => at - (relay.refusedAt[i] ?? at));
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    gaps.forEach((gap, i) => expect(gap, `gaps ${gaps.map(Math.round).join(", ")} ms`).toBeGreaterThanOrEqual(800 * 1.5 ** i));
    expect(cli.code).toBe(4);
    expect(cli.stderr).toContain("[smtp-unavailable]");
    expect(cli.stderr).toContain("Stopped: the SMTP server is unavailable");
    const counts = await states();
    expect(counts["temp-failed"] ?? 0).toBe(0);
    expect(counts["perm-failed"] ?? 0).toBe(0);
    // The message whose reply the cut connection lost may have arrived: it is not counted sent.
    expect(counts["sent"]).toBeGreaterThanOrEqual(smtp.received.length - 1);
    expect(counts["not-sent"]).toBeGreaterThanOrEqual(1);
    expect(await (await readState(root)).suppressed()).toEqual(new Set());
    // The relay back: everyone still owed the issue gets it, and nobody twice but that one.
    const again = await sendCli(smtp.url(), smtp.connections);
    expect(again.code).toBe(0);
    expect(new Set(smtp.received.map((m) => m.to[0]))).toEqual(new Set(all));
    expect(smtp.received.length).toBeLessThanOrEqual(all.length + 1);
  });

  it("exits 1, not 4, when the state could not be saved at the end either: the same command run again would mail some twice", async () => {
    // The project is a clone of a repository whose remote refuses the state branch from the moment the relay is gone.
    const base = await mkdtemp(join(tmpdir(), "presswork-relay-unsaved-"));
    closers.push(() => rm(base, { recursive: true, force: true }));
    const remote = join(base, "remote.git");
    git(base, "clone", "--quiet", "--bare", await project(1), remote);
    root = join(base, "clone");
    git(base, "clone", "--quiet", remote, root);
    await list(40);
    await server();
    const relay = await front(smtp.port);
    const hook = join(remote, "hooks/pre-receive");
    let gone = false;
    const cli = await sendCli(
      `smtp://127.0.0.1:${relay.port}`,
      relay.attempts,
      () => {
        if (gone || smtp.received.length < 10) return;
        gone = true;
        writeFileSync(hook, "#!/bin/sh\necho 'protected branch' >&2\nexit 1\n");
        chmodSync(hook, 0o755);
        relay.down();
      },
      { PRESSWORK_STATE_REMOTE: "origin" },
    );
    expect(cli.stderr).toContain("Stopped: the SMTP server is unavailable");
    expect(cli.stderr).toMatch(/the state could not be saved \(.*protected branch.*run presswork state save/);
    expect(cli.code).toBe(1);
  });

  it("opens again a few times when a new connection's STARTTLS is answered 454, stops with exit 4 if it lasts, and the next run mails the rest", async () => {
    root = await project(1);
    const all = await list(300);
    // The first connection carries at most 100 messages; every one after it is refused TLS for now.
    await server({ refuseStarttls: { code: 454, text: "4.7.0 TLS not available due to temporary reason", after: 1 } });
    const first = smtp;
    const cli = await sendCli(first.url(), first.connections);
    expect(cli.stderr).toContain("Stopped: the SMTP server is unavailable");
    expect(cli.stderr).toContain("454 4.7.0 TLS not available");
    expect(cli.code).toBe(4);
    expect(first.connections()).toBeLessThanOrEqual(8);
    const counts = await states();
    expect(counts["sent"]).toBe(first.received.length);
    expect(counts["temp-failed"] ?? 0).toBe(0);
    expect(counts["perm-failed"] ?? 0).toBe(0);
    expect(counts["not-sent"]).toBeGreaterThanOrEqual(1);
    // TLS back: everyone still owed the issue gets it, nobody twice.
    const second = await server();
    expect((await sendCli(second.url(), second.connections)).code).toBe(0);
    const to = [...first.received, ...second.received].map((m) => m.to[0]);
    expect(new Set(to)).toEqual(new Set(all));
    expect(to).toHaveLength(all.length);
  });

  it("stops with exit 4 when logins are answered 454 4.7.0, logging in a bounded number of times", async () => {
    root = await project(5);
    await list(300);
    await server({ auth: { user: "news", password: "right" }, refuseLogins: { after: 2, code: 454, text: "4.7.0 Too many login attempts, please try again later" } });
    const cli = await sendCli(smtp.url("news", "right"), () => smtp.logins.length);
    expect(smtp.logins.length).toBeLessThanOrEqual(12);
    expect(cli.code).toBe(4);
    expect(cli.stderr).toContain("454 4.7.0 Too many login attempts");
    const counts = await states();
    expect(counts["sent"]).toBe(smtp.received.length);
    expect(counts["temp-failed"] ?? 0).toBe(0);
    expect(counts["not-sent"]).toBeGreaterThanOrEqual(1);
  });

  it("keeps to the connections it has when the server greets one more with 421", async () => {
    root = await project(5);
    const all = await list(300);
    await server({ maxClients: 3 });
    const cli = await sendCli(smtp.url(), smtp.connections);
    expect(cli.code).toBe(0);
    expect(smtp.received).toHaveLength(all.length);
    // 3 at a time, each carrying at most 100 messages: a few more than 3, never one a message.
    expect(smtp.connections()).toBeLessThanOrEqual(12);
  });
});

describe("a busy server at the start of a send", () => {
  it("exits 4 (unavailable, try later) for a 421 greeting, as a server at its connection limit gives", async () => {
    root = await project(5);
    await list(5);
    await server({ maxClients: 1 });
    // Another client holds the one connection the server allows.
    const other = createConnection(smtp.port, "127.0.0.1");
    other.on("error", () => {});
    await new Promise<void>((resolve) => other.once("data", () => resolve()));
    closers.push(async () => void other.destroy());
    const cli = await sendCli(smtp.url(), smtp.connections);
    expect(cli.code).toBe(4);
    expect(cli.stderr).toContain("[smtp-unavailable]");
    expect(cli.stderr).toContain("Nothing was sent");
    expect(smtp.received).toHaveLength(0);
  });

  it.each([
    ["454 4.7.0 to the login exits 4 (unavailable, try later)", 454, "4.7.0 Too many login attempts, please try again later", 4, "[smtp-unavailable]"],
    ["535 5.7.8 to the login exits 3 (a setting to fix)", 535, "5.7.8 Username and Password not accepted", 3, "[smtp-setup]"],
  ])("%s", async (_what, code, text, exit, id) => {
    root = await project(5);
    await list(5);
    await server({ auth: { user: "news", password: "right" }, refuseLogins: { after: 0, code, text } });
    const cli = await sendCli(smtp.url("news", "right"), () => smtp.logins.length);
    expect(cli.code).toBe(exit);
    expect(cli.stderr).toContain(id);
    expect(cli.stderr).toContain(`${code} ${text}`);
    expect(smtp.received).toHaveLength(0);
  });

  it.each([
    ["454 4.7.0 to STARTTLS exits 4 (unavailable, try later)", 454, "4.7.0 TLS not available due to temporary reason", 4, "[smtp-unavailable]", "the server refused TLS for now"],
    ["554 5.7.0 to STARTTLS exits 3 (a setting to fix)", 554, "5.7.0 TLS not available", 3, "[smtp-setup]", "the server does not offer STARTTLS"],
  ])("%s", async (_what, code, text, exit, id, reason) => {
    root = await project(5);
    await list(5);
    await server({ auth: { user: "news", password: "right" }, refuseStarttls: { code, text } });
    const cli = await sendCli(smtp.url("news", "right"), smtp.connections);
    expect(cli.code).toBe(exit);
    expect(cli.stderr).toContain(id);
    expect(cli.stderr).toContain(reason);
    expect(cli.stderr).toContain(`${code} ${text}`);
    expect(smtp.logins).toEqual([]);
    expect(smtp.received).toHaveLength(0);
  });

  it("smtps:// to a server that speaks plain SMTP first (a STARTTLS port such as 587) exits 3, naming smtp:// for that port", async () => {
    root = await project(5);
    await list(5);
    await server({ auth: { user: "news", password: "right" } });
    const cli = await sendCli(smtp.url("news", "right").replace(/^smtp:/, "smtps:"), smtp.connections);
    // It said "the connection failed" with OpenSSL's words and exit 4, run again later: no later run would have helped.
    expect(cli.code, cli.stderr).toBe(3);
    expect(cli.stderr).toContain("[smtp-setup]");
    expect(cli.stderr).toContain(`the server speaks plain SMTP first, not TLS, as smtps:// and port 465 expect. A submission port such as 587 upgrades with STARTTLS: write smtp://…:${smtp.port}`);
    expect(cli.stderr).not.toContain("right");
    expect(smtp.logins).toEqual([]);
    expect(smtp.received).toHaveLength(0);
  });

  /** Shortens the wait for a greeting to two seconds: long enough for a loaded machine to see the connection open first. */
  async function greetingWithin2s(): Promise<void> {
    const path = join(root, "presswork.config.yaml");
    await writeFile(path, (await readFile(path, "utf8")).replace("timeoutSeconds: 60", "timeoutSeconds: 2"));
  }

  it("smtp:// to a server that speaks TLS from the first byte on a port other than 465 (Resend's 2465) exits 3 once no greeting came, naming smtps:// for that port", async () => {
    root = await project(5);
    await greetingWithin2s();
    await list(5);
    await server({ auth: { user: "news", password: "right" }, implicitTls: { port: 0 } });
    const cli = await sendCli(smtp.url("news", "right"), smtp.connections);
    // It said "the server did not answer in time" and exit 4, run again later: no later run would have helped.
    expect(cli.code, cli.stderr).toBe(3);
    expect(cli.stderr).toContain("[smtp-setup]");
    expect(cli.stderr).toContain(`the server sent no greeting in plain text, and greets over TLS from the first byte, as smtps:// expects. Use smtps://127.0.0.1:${smtp.port} in SMTP_URL`);
    expect(cli.stderr).not.toContain("right");
    expect(smtp.logins).toEqual([]);
    expect(smtp.received).toHaveLength(0);
  });

  it("a server that accepts the connection and says nothing, in plain text or TLS, is still one that did not answer in time: exit 4", async () => {
    root = await project(5);
    await greetingWithin2s();
    await list(5);
    const silent = new Set<Socket>();
    const mute: Server = createServer((socket) => silent.add(socket.on("error", () => {})));
    await new Promise<void>((resolve) => mute.listen(0, "127.0.0.1", resolve));
    closers.push(() => {
      for (const socket of silent) socket.destroy();
      return new Promise<void>((resolve) => mute.close(() => resolve()));
    });
    const cli = await sendCli(`smtp://127.0.0.1:${(mute.address() as AddressInfo).port}`, () => silent.size);
    expect(cli.code, cli.stderr).toBe(4);
    expect(cli.stderr).toContain("[smtp-unavailable]");
    expect(cli.stderr).toContain("the server did not answer in time");
    // The plain connection, then the TLS handshake that tells a TLS-first server apart.
    expect(silent.size, cli.stderr).toBe(2);
  });

  it("a TLS service that is no SMTP server (HTTPS on 443, IMAP on 993) is not taken for smtps://: exit 4, as for any server that did not answer", async () => {
    root = await project(5);
    await greetingWithin2s();
    await list(5);
    // Takes the handshake, then waits for the client to speak first, as HTTPS does.
    const https = createTlsServer(getTLSOptions({}), (socket) => socket.on("error", () => {}));
    await new Promise<void>((resolve) => https.listen(0, "127.0.0.1", resolve));
    let handshakes = 0;
    https.on("secureConnection", () => handshakes++);
    closers.push(() => new Promise<void>((resolve) => https.close(() => resolve())));
    const cli = await sendCli(`smtp://127.0.0.1:${(https.address() as AddressInfo).port}`, () => handshakes);
    expect(cli.code, cli.stderr).toBe(4);
    expect(cli.stderr).toContain("the server did not answer in time");
    expect(cli.stderr).not.toContain("smtps://127.0.0.1");
    expect(handshakes).toBe(1);
  });
});
