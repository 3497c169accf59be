import { spawn } from "node:child_process";
import { chownSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { getEventListeners } from "node:events";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse.js";
import type { MailboxConfig } from "../../src/config/schema.js";
import type { FeedbackEvent, FeedbackSink } from "../../src/feedback/event.js";
import { addressKey } from "../../src/issues/message.js";
import { imapFromEnv } from "../../src/mailbox/imap.js";
import { JsonLinesSink } from "../../src/mailbox/jsonl-sink.js";
import { imapClient, readMailbox, runMailbox } from "../../src/mailbox/read.js";
import { runCli, runCliAsync, runCliHere } from "../helpers/cli.js";
import { startDovecot, type TestDovecot } from "../helpers/dovecot.js";
import { imapProxy } from "../helpers/imap-proxy.js";
import { REPO, removeProjects, tempProject } from "../helpers/project.js";
import { CONFIG_WITH_BOUNCES, FIXTURE_SECRET, fixtureIdentity } from "./identity.js";

const FIXTURES = join(REPO, "test/fixtures/bounces");
const corpus = readdirSync(FIXTURES).filter((f) => f.endsWith(".eml")).sort();
const expected = corpus.map((f) => JSON.parse(readFileSync(join(FIXTURES, f.replace(/\.eml$/, ".json")), "utf8")) as { understood: boolean; events: Array<{ kind: string; recipient?: string }> });

let dovecot: TestDovecot | undefined;
let unavailable = "";

beforeAll(async () => {
  try {
    dovecot = await startDovecot();
  } catch (error) {
    unavailable = (error as Error).message;
    // Under .ci/run the IMAP tests must run: a server that cannot start is a failure there.
    if (process.env["PRESSWORK_CI"] === "1") throw error;
    console.warn(`SKIPPED: the IMAP mailbox tests need Dovecot: ${unavailable}`);
  }
});

afterAll(async () => {
  await dovecot?.stop();
  await removeProjects();
});

/** A user (its own mailbox) with the given messages appended to INBOX over IMAP. */
async function mailboxWith(user: string, messages: Array<string | Buffer>): Promise<string> {
  const server = dovecot as TestDovecot;
  const client = new ImapFlow({ host: "127.0.0.1", port: server.port, secure: false, auth: { user, pass: "test-password" }, logger: false });
  await client.connect();
  for (const message of messages) await client.append("INBOX", typeof message === "string" ? message.replace(/\r?\n/g, "\r\n") : message);
  await client.logout();
  return server.url(user);
}

/** How many messages each folder holds. */
async function folders(url: string): Promise<Record<string, number>> {
  const client = imapClient(imapFromEnv({ IMAP_URL: url }));
  await client.connect();
  const out: Record<string, number> = {};
  for (const box of await client.list()) {
    const status = await client.status(box.path, { messages: true });
    out[box.path] = (status && status.messages) || 0;
  }
  await client.logout();
  return out;
}

function readEvents(path: string): Array<Record<string, unknown>> {
  return existsSync(path) ? readFileSync(path, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
}

describe("presswork mailbox over a real IMAP server", () => {
  it("reads the whole corpus once: records each event, moves what it understood to the processed folder and the rest to the folder for a person", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    const url = await mailboxWith("corpus", corpus.map((f) => readFileSync(join(FIXTURES, f))));
    const root = await tempProject({ config: CONFIG_WITH_BOUNCES });
    const env = { IMAP_URL: url, PRESSWORK_SECRET: FIXTURE_SECRET, PRESSWORK_FEEDBACK_FILE: "feedback/events.jsonl" };
    const result = await runCliHere(["mailbox", "--once"], root, env);
    expect(result.stderr).not.toMatch(/Error|at \w+ \(/);
    expect(result.code).toBe(0);

    const understood = expected.filter((e) => e.understood).length;
    expect(await folders(url)).toEqual({ INBOX: 0, Presswork: 0, "Presswork.Processed": understood, "Presswork.Needs attention": corpus.length - understood });
    expect(result.stdout).toContain(`Read ${corpus.length} messages`);
    expect(result.stdout).toMatch(new RegExp(`${understood} understood and moved to the processed folder, ${corpus.length - understood} moved to the folder for a person`));

    const events = readEvents(join(root, "feedback/events.jsonl"));
    const want = expected.filter((e) => e.understood).flatMap((e) => e.events);
    expect(events.map((e) => e["kind"]).sort()).toEqual(want.map((e) => e.kind).sort());
    expect(new Set(events.map((e) => e["id"])).size).toBe(events.length);
    const jane = addressKey("jane@example.org", FIXTURE_SECRET);
    expect(events.filter((e) => e["key"] === jane && e["kind"] === "hard-bounce").length).toBeGreaterThanOrEqual(2);
    // Keyed hashes only: not one address in the file, nor in what the command printed.
    expect(readFileSync(join(root, "feedback/events.jsonl"), "utf8")).not.toMatch(/[\p{L}\p{N}_.+-]+@[\p{L}\p{N}-]+\.[\p{L}\p{N}.-]+/u);
    const printed = result.stdout + result.stderr;
    expect(printed).toMatch(/uid \d+: no delivery status, feedback report or bounce text found \(from i\*\*\*@gmail\.com, "Re: Signal & Noise #12/);
    // A forged unsubscribe request goes to a person, saying why; the reader's own, authenticated, unsubscribes.
    expect(printed).toContain('an unsubscribe request whose sender is not authenticated (dmarc=fail, dkim=none): left for a person (from v***@gmail.com, "unsubscribe")');
    expect(events.filter((e) => e["kind"] === "unsubscribe" && e["key"] === addressKey("victim@gmail.com", FIXTURE_SECRET))).toHaveLength(1);
    expect(printed.replace(/\w\*\*\*@[\w.-]+/g, "")).not.toMatch(/[\w.+-]+@[\w-]+\.[\w.-]+/);

    // The same reports delivered again change nothing in the events, and are moved all the same.
    await mailboxWith("corpus", corpus.slice(0, 5).map((f) => readFileSync(join(FIXTURES, f))));
    const again = await runCliHere(["mailbox", "--once"], root, env);
    expect(again.code).toBe(0);
    expect(readEvents(join(root, "feedback/events.jsonl"))).toEqual(events);
    expect((await folders(url))["INBOX"]).toBe(0);
  });

  it("moves nothing and records nothing on a dry run", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    const url = await mailboxWith("dry", [readFileSync(join(FIXTURES, "postfix-user-unknown.eml")), readFileSync(join(FIXTURES, "unknown-reader-reply.eml"))]);
    const root = await tempProject({ config: CONFIG_WITH_BOUNCES });
    const summary = join(root, "step-summary.md");
    const result = await runCliHere(["mailbox", "--once", "--dry-run", "--events", "events.jsonl"], root, { IMAP_URL: url, PRESSWORK_SECRET: FIXTURE_SECRET, GITHUB_STEP_SUMMARY: summary });
    expect(result.code).toBe(0);
    const table = readFileSync(summary, "utf8");
    expect(table).toContain("| messages read | 2 |");
    expect(table).toContain("| hard-bounce | 1 |");
    expect(table).toMatch(/- INBOX uid \d+: no delivery status.*i\*\*\*@gmail\.com/);
    expect(table.replace(/\w\*\*\*@[\w.-]+/g, "")).not.toMatch(/@/);
    expect(result.stdout).toContain("Dry run: read 2 messages");
    expect(result.stdout).toMatch(/1\s+hard-bounce/);
    expect(await folders(url)).toEqual({ INBOX: 2 });
    expect(readEvents(join(root, "events.jsonl"))).toEqual([]);
  });

  it("reads only the Authentication-Results of the servers mailbox.authservIds names", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    const url = await mailboxWith("authserv", [readFileSync(join(FIXTURES, "unsubscribe-from-dmarc-pass.eml"))]);
    const run = async (ids: string) => await runCliHere(["mailbox", "--once", "--dry-run"], await tempProject({ config: `${CONFIG_WITH_BOUNCES}\nmailbox:\n  authservIds: [${ids}]\n` }), { IMAP_URL: url, PRESSWORK_SECRET: FIXTURE_SECRET });
    const other = await run("mx.other.example");
    expect(other.code).toBe(0);
    expect(other.stdout + other.stderr).toContain("an unsubscribe request whose sender is not authenticated (no Authentication-Results from mx.other.example): left for a person");
    const ours = await run("mx.other.example, MX.Signal-Noise.example");
    expect(ours.code).toBe(0);
    expect(ours.stdout).toMatch(/1\s+unsubscribe/);
  });

  it("leaves a message in place when its event could not be made durable, and a second run records it once and moves it", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    const url = await mailboxWith("crash", [readFileSync(join(FIXTURES, "postfix-user-unknown.eml")), readFileSync(join(FIXTURES, "arf-yahoo.eml"))]);
    const root = await tempProject();
    const path = join(root, "events.jsonl");
    const config = parseConfig(CONFIG_WITH_BOUNCES).config?.mailbox;
    if (!config) throw new Error("no config");
    const options = { config, identity: fixtureIdentity(), imap: imapFromEnv({ IMAP_URL: url }), now: () => new Date() };

    const sink = await JsonLinesSink.open(path);
    const crashing = { record: (e: FeedbackEvent) => sink.record(e), flush: async () => Promise.reject(new Error("disk gone")) };
    const client = imapClient(options.imap);
    await client.connect();
    await expect(readMailbox(client, { ...options, sink: crashing })).rejects.toThrow("disk gone");
    await client.logout();
    await sink.close();
    expect(readEvents(path)).toHaveLength(2);
    expect(await folders(url)).toMatchObject({ INBOX: 2, "Presswork.Processed": 0 });

    const second = await JsonLinesSink.open(path);
    const again = imapClient(options.imap);
    await again.connect();
    const report = await readMailbox(again, { ...options, sink: second });
    await again.logout();
    await second.close();
    expect(report.processed).toBe(2);
    expect(readEvents(path)).toHaveLength(2);
    expect(await folders(url)).toMatchObject({ INBOX: 0, "Presswork.Processed": 2 });
  });

  it("reads the rest when the server cannot fetch one message, and sends that one to a person", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    const url = new URL(await mailboxWith("poison", ["postfix-user-unknown.eml", "arf-yahoo.eml", "exim-permanent.eml"].map((f) => readFileSync(join(FIXTURES, f)))));
    // Between reader and server, a proxy answers every fetch of UID 2's body as Yahoo and Office 365 sometimes do.
    const proxy = await imapProxy(Number(url.port), {
      fromClient: (line) => {
        const fetch = /^(\S+) UID FETCH (\S+) .*BODY\.PEEK\[\]/i.exec(line);
        const uids = fetch?.[2]?.split(",").flatMap((part) => {
          const [from = 0, to = from] = part.split(":").map(Number);
          return Array.from({ length: to - from + 1 }, (_, i) => from + i);
        });
        return fetch && uids?.includes(2) ? { answer: `${fetch[1]} NO [SERVERBUG] FETCH Server error while fetching messages\r\n` } : line;
      },
    });
    try {
      url.href = proxy.url(url.href);
      const root = await tempProject();
      const sink = await JsonLinesSink.open(join(root, "events.jsonl"));
      const imap = imapFromEnv({ IMAP_URL: url.href });
      const client = imapClient(imap);
      await client.connect();
      const config = parseConfig(CONFIG_WITH_BOUNCES).config?.mailbox as MailboxConfig;
      const report = await readMailbox(client, { config, identity: fixtureIdentity(), imap, now: () => new Date(), sink });
      await client.logout();
      await sink.close();
      expect(report.processed).toBe(2);
      expect(report.attention).toEqual([{ folder: "INBOX", uid: 2, reason: expect.stringContaining("the server could not fetch it: FETCH Server error while fetching messages") }]);
      expect(readEvents(join(root, "events.jsonl"))).toHaveLength(2);
      expect(await folders(url.href)).toMatchObject({ INBOX: 0, "Presswork.Processed": 2, "Presswork.Needs attention": 1 });
    } finally {
      await proxy.close();
    }
  });

  it("stops after the batch under way when told to (SIGTERM), leaving the rest for the next run", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    const url = await mailboxWith("stopped", Array.from({ length: 6 }, () => readFileSync(join(FIXTURES, "postfix-user-unknown.eml"))));
    const root = await tempProject();
    const sink = await JsonLinesSink.open(join(root, "events.jsonl"));
    const config = { ...(parseConfig(CONFIG_WITH_BOUNCES).config?.mailbox as MailboxConfig), batchSize: 2 };
    const imap = imapFromEnv({ IMAP_URL: url });
    const stop = new AbortController();
    const client = imapClient(imap);
    await client.connect();
    const report = await readMailbox(client, { config, identity: fixtureIdentity(), imap, now: () => new Date(), sink, signal: stop.signal, onProgress: () => stop.abort() });
    await client.logout();
    await sink.close();
    expect(report.read).toBe(2);
    expect(await folders(url)).toMatchObject({ INBOX: 4, "Presswork.Processed": 2 });
  });

  it("on a server without MOVE or UIDPLUS, never expunges a message a person marked deleted; a move the server refuses is an error, the messages left in place", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    // Older Exchange and some hosted servers: COPY and a plain EXPUNGE only. And an ACL that refuses inserts to Processed.
    const old = await startDovecot([
      "imap_capability = IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE",
      "mail_plugins = $mail_plugins acl",
      "protocol imap {",
      "  mail_plugins = $mail_plugins imap_acl",
      "}",
      "plugin {",
      "  acl = vfile",
      "}",
    ]);
    try {
      const names = ["postfix-user-unknown.eml", "arf-yahoo.eml", "exim-permanent.eml", "m365-recipient-not-found.eml"];
      const login = async (user: string) => {
        const client = new ImapFlow({ host: "127.0.0.1", port: old.port, secure: false, auth: { user, pass: "test-password" }, logger: false });
        await client.connect();
        return client;
      };
      const person = await login("old");
      for (const name of names) await person.append("INBOX", readFileSync(join(FIXTURES, name)));
      await person.mailboxOpen("INBOX");
      // Marked deleted in a mail program, not expunged yet.
      await person.messageFlagsAdd("4", ["\\Deleted"], { uid: true });
      await person.logout();
      const config = { ...(parseConfig(CONFIG_WITH_BOUNCES).config?.mailbox as MailboxConfig), batchSize: 2 };
      const pass = async (user: string) => {
        const root = await tempProject();
        const sink = await JsonLinesSink.open(join(root, "events.jsonl"));
        const client = imapClient(imapFromEnv({ IMAP_URL: old.url(user) }));
        await client.connect();
        try {
          return await readMailbox(client, { config, identity: fixtureIdentity(), imap: imapFromEnv({ IMAP_URL: old.url(user) }), now: () => new Date(), sink });
        } finally {
          await client.logout();
          await sink.close();
        }
      };
      expect((await pass("old")).read).toBe(3);
      // The three read are copied and marked deleted; the person's message is still there; nothing is read twice.
      const after = await login("old");
      await after.mailboxOpen("INBOX");
      expect((await after.search({ all: true }, { uid: true })) || []).toEqual([1, 2, 3, 4]);
      await after.logout();
      expect(await folders(old.url("old"))).toMatchObject({ INBOX: 4, "Presswork.Processed": 3 });
      expect((await pass("old")).read).toBe(0);
      expect(await folders(old.url("old"))).toMatchObject({ "Presswork.Processed": 3 });

      // Processed refuses inserts (a delegated mailbox's rights): an error naming the folder, and nothing leaves INBOX.
      const refused = await login("acl");
      await refused.append("INBOX", readFileSync(join(FIXTURES, "postfix-user-unknown.eml")));
      await refused.mailboxCreate(["Presswork", "Processed"]);
      await refused.logout();
      const acl = join(old.dir, "mail/acl/.Presswork.Processed/dovecot-acl");
      writeFileSync(acl, "owner lrwstekxa\n");
      chownSync(acl, statSync(join(old.dir, "mail/acl")).uid, statSync(join(old.dir, "mail/acl")).gid);
      await expect(pass("acl")).rejects.toThrow(/the IMAP server did not move 1 message\(s\) to "Presswork\/Processed"/);
      expect(await folders(old.url("acl"))).toMatchObject({ INBOX: 1, "Presswork.Processed": 0 });
    } finally {
      await old.stop();
    }
  });

  it("creates its folders once on a server that refuses to create an existing folder without saying ALREADYEXISTS, as Outlook.com does", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    const url = await mailboxWith("outlook", [readFileSync(join(FIXTURES, "postfix-user-unknown.eml"))]);
    // Outlook.com's answer to CREATE of a folder that is there: "NO Mailbox already exists." and no response code (RFC 5530).
    const proxy = await imapProxy(Number(new URL(url).port), { fromServer: (line) => line.replace(/^(\S+) NO \[ALREADYEXISTS\] .*\r\n$/, "$1 NO Mailbox already exists.\r\n") });
    try {
      const root = await tempProject({ config: CONFIG_WITH_BOUNCES });
      const env = { IMAP_URL: proxy.url(url), PRESSWORK_SECRET: FIXTURE_SECRET, PRESSWORK_FEEDBACK_FILE: "events.jsonl" };
      const first = await runCliHere(["mailbox", "--once"], root, env);
      expect(first.code, first.stderr).toBe(0);
      await mailboxWith("outlook", [readFileSync(join(FIXTURES, "arf-yahoo.eml"))]);
      const second = await runCliHere(["mailbox", "--once"], root, env);
      expect(second.stderr).toBe("");
      expect(second.code).toBe(0);
      expect(proxy.sent()).toMatch(/CREATE "?Presswork/);
      expect(await folders(url)).toMatchObject({ INBOX: 0, "Presswork.Processed": 2 });
    } finally {
      await proxy.close();
    }
  });

  it("speaks TLS from the first byte to port 993 written imap://, as imaps:// does", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    let implicit: TestDovecot;
    try {
      implicit = await startDovecot(["service imap-login {", "  inet_listener imaps {", "    address = 127.0.0.1", "    port = 993", "    ssl = yes", "  }", "}"], { tls: true });
    } catch (error) {
      // Port 993 is below 1024: only root may listen on it, as .ci/run does (PRESSWORK_CI=1), where not having it fails.
      if (process.env["PRESSWORK_CI"] === "1") throw error;
      return ctx.skip(`cannot listen on 127.0.0.1:993: ${(error as Error).message}`);
    }
    try {
      const root = await tempProject({ config: CONFIG_WITH_BOUNCES });
      const url = implicit.url("implicit").replace(`:${implicit.port}`, ":993");
      expect(url).toBe("imap://implicit:test-password@127.0.0.1:993");
      // Over plaintext it waited 15 s for a greeting the server never sends, and exited 4, try again later.
      const cli = await runCliAsync(["mailbox", "--once"], root, { PRESSWORK_SECRET: FIXTURE_SECRET, PRESSWORK_FEEDBACK_FILE: "events.jsonl", IMAP_URL: url, NODE_EXTRA_CA_CERTS: implicit.ca as string });
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toContain("Read 0 messages");
      expect(implicit.log().split("\n").filter((line) => line.includes("Login: user=<implicit>"))).toEqual([expect.stringMatching(/\bTLS\b/)]);
    } finally {
      await implicit.stop();
    }
  });

  it("requires STARTTLS for imap://: logs in over TLS, and says so and sends no password when the server's certificate does not verify or its STARTTLS was stripped", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    const secure = await startDovecot([], { tls: true });
    const proxy = await imapProxy(secure.port, { fromServer: (line) => line.replace(/ STARTTLS/g, "") });
    try {
      const url = secure.url("tls");
      await mailboxWith("tls", []);
      const root = await tempProject({ config: CONFIG_WITH_BOUNCES });
      const base = { PRESSWORK_SECRET: FIXTURE_SECRET, PRESSWORK_FEEDBACK_FILE: "events.jsonl" };
      const logins = () => secure.log().split("\n").filter((line) => line.includes("Login: user=<tls>"));

      // A certificate the machine does not trust: named, with how to trust it.
      const untrusted = await runCliHere(["mailbox", "--once"], root, { ...base, IMAP_URL: url });
      expect(untrusted.code, untrusted.stderr).toBe(3);
      expect(untrusted.stderr).toMatch(/certificate of the IMAP server 127\.0\.0\.1 does not verify \(.+\).*NODE_EXTRA_CA_CERTS/);
      expect(logins()).toEqual([]);

      // Trusted: the login goes over STARTTLS.
      const trusted = await runCliAsync(["mailbox", "--once"], root, { ...base, IMAP_URL: url, NODE_EXTRA_CA_CERTS: secure.ca as string });
      expect(trusted.stderr).toBe("");
      expect(trusted.code).toBe(0);
      expect(logins()).toEqual([expect.stringMatching(/\bTLS\b/)]);

      // A man in the middle strips STARTTLS from the server's capabilities: no login is tried.
      const stripped = await runCliAsync(["mailbox", "--once"], root, { ...base, IMAP_URL: proxy.url(url), NODE_EXTRA_CA_CERTS: secure.ca as string });
      expect(stripped.code).toBe(3);
      expect(stripped.stderr).toMatch(/STARTTLS with the IMAP server 127\.0\.0\.1 is not possible \(Server does not support STARTTLS\), and without it the password would cross the network unencrypted.*\?allow-plaintext-auth=true/);
      expect(proxy.sent()).not.toMatch(/LOGIN|AUTHENTICATE|test-password/i);
      expect(logins()).toHaveLength(1);
    } finally {
      await proxy.close();
      await secure.stop();
    }
  });

  it("watching, reads mail that arrived during a pass right after it, not a pollSeconds later", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    const fixture = (name: string) => readFileSync(join(FIXTURES, name));
    const url = await mailboxWith("arriving", [fixture("postfix-user-unknown.eml"), fixture("exim-permanent.eml")]);
    const config = { ...(parseConfig(CONFIG_WITH_BOUNCES).config?.mailbox as MailboxConfig), batchSize: 1, pollSeconds: 3600 };
    // A bounce arrives while the first is recorded: the server announces it in its answer to the next command of the pass.
    let appended = false;
    const sink: FeedbackSink = {
      record: async () => {
        if (appended) return;
        appended = true;
        await mailboxWith("arriving", [fixture("arf-yahoo.eml")]);
      },
    };
    const passes: number[] = [];
    const stop = new AbortController();
    const giveUp = setTimeout(() => stop.abort(), 15_000);
    await runMailbox({
      imap: imapFromEnv({ IMAP_URL: url }),
      config,
      identity: fixtureIdentity(),
      sink,
      now: () => new Date(),
      once: false,
      signal: stop.signal,
      onPass: (pass) => {
        passes.push(pass.read);
        if (passes.length === 2) stop.abort();
      },
    });
    clearTimeout(giveUp);
    expect(passes).toEqual([2, 1]);
  });

  it("watching pass after pass, leaves no listener behind on the stop signal", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    const url = await mailboxWith("passes", []);
    const config = { ...(parseConfig(CONFIG_WITH_BOUNCES).config?.mailbox as MailboxConfig), pollSeconds: 3600 };
    const stop = new AbortController();
    const listeners: number[] = [];
    const giveUp = setTimeout(() => stop.abort(), 30_000);
    await runMailbox({
      imap: imapFromEnv({ IMAP_URL: url }),
      config,
      identity: fixtureIdentity(),
      sink: { record: async () => {} },
      now: () => new Date(),
      once: false,
      signal: stop.signal,
      // Each pass ends in IDLE, woken by the next bounce: Node warns of a leak past 10 listeners.
      onPass: () => {
        listeners.push(getEventListeners(stop.signal, "abort").length);
        if (listeners.length === 12) stop.abort();
        else setTimeout(() => void mailboxWith("passes", [readFileSync(join(FIXTURES, "postfix-user-unknown.eml"))]), 100);
      },
    });
    clearTimeout(giveUp);
    expect(listeners).toHaveLength(12);
    expect(Math.max(...listeners)).toBeLessThanOrEqual(1);
  });

  it("says the server dropped the connection when it hangs up halfway", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    const url = await mailboxWith("dropped", [readFileSync(join(FIXTURES, "postfix-user-unknown.eml"))]);
    // A server shutting down as the first folder is opened.
    const proxy = await imapProxy(Number(new URL(url).port), { fromClient: (line) => (/^\S+ (SELECT|EXAMINE) /i.test(line) ? { answer: "* BYE Server shutting down\r\n", hangUp: true } : line) });
    try {
      const root = await tempProject({ config: CONFIG_WITH_BOUNCES });
      const result = await runCliHere(["mailbox", "--once"], root, { IMAP_URL: proxy.url(url), PRESSWORK_SECRET: FIXTURE_SECRET, PRESSWORK_FEEDBACK_FILE: "events.jsonl" });
      expect(result.code, result.stderr).toBe(4);
      expect(result.stderr).toMatch(/the IMAP server 127\.0\.0\.1 closed the connection/);
      expect(await folders(url)).toMatchObject({ INBOX: 1 });
    } finally {
      await proxy.close();
    }
  });

  it("reads a 20 MB bounce from its first megabyte, classifies it and moves it whole", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    const small = readFileSync(join(FIXTURES, "postfix-user-unknown.eml"), "utf8").replace(/\r?\n/g, "\r\n");
    const filler = `${"B".repeat(76)}\r\n`.repeat(Math.ceil((20 * 1024 * 1024) / 78));
    const huge = Buffer.from(small.replace("The week in chips and networks.\r\n", `The week in chips and networks.\r\n${filler}`));
    const url = await mailboxWith("huge", [huge]);
    const root = await tempProject({ config: CONFIG_WITH_BOUNCES });
    const result = await runCliHere(["mailbox", "--once", "--events", "events.jsonl"], root, { IMAP_URL: url, PRESSWORK_SECRET: FIXTURE_SECRET });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("1 larger than mailbox.maxMessageKilobytes were read from their start only");
    expect(readEvents(join(root, "events.jsonl"))).toMatchObject([{ kind: "hard-bounce", key: addressKey("jane@example.org", FIXTURE_SECRET), issue: 12 }]);
    expect(await folders(url)).toMatchObject({ INBOX: 0, "Presswork.Processed": 1 });
  });

  it("keeps watching without --once: a message that arrives is recorded, and SIGTERM ends it cleanly", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    const url = await mailboxWith("watch", []);
    const root = await tempProject({ config: CONFIG_WITH_BOUNCES });
    const child = spawn(process.execPath, [join(REPO, "bin/presswork.js"), "mailbox", "--events", "events.jsonl"], {
      cwd: root,
      env: { ...process.env, IMAP_URL: url, PRESSWORK_SECRET: FIXTURE_SECRET, PRESSWORK_ROOT: "" },
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await new Promise((r) => setTimeout(r, 1500));
    await mailboxWith("watch", [readFileSync(join(FIXTURES, "arf-yahoo.eml"))]);
    const deadline = Date.now() + 20_000;
    while (readEvents(join(root, "events.jsonl")).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(readEvents(join(root, "events.jsonl"))).toMatchObject([{ kind: "complaint", issue: 12 }]);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stdout).toContain("Read 1 messages");
  });

  it("says what is wrong with a bad setup, without the password", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    const root = await tempProject({ config: CONFIG_WITH_BOUNCES });
    const base = { PRESSWORK_SECRET: FIXTURE_SECRET, PRESSWORK_FEEDBACK_FILE: "events.jsonl" };
    const wrongPassword = await runCliHere(["mailbox", "--once"], root, { ...base, IMAP_URL: `imap://bounces:s3cret-W0rd@127.0.0.1:${dovecot.port}?allow-plaintext-auth=true` });
    expect(wrongPassword.code).toBe(3);
    expect(wrongPassword.stderr).toContain("refused the user name or password in IMAP_URL");
    expect(wrongPassword.stderr).not.toContain("s3cret-W0rd");
    // Watching, too: a password to fix is not tried again every pollSeconds.
    const watching = runCli(["mailbox"], root, { ...base, IMAP_URL: `imap://bounces:s3cret-W0rd@127.0.0.1:${dovecot.port}?allow-plaintext-auth=true` }, 30_000);
    expect(watching.code).toBe(3);
    expect(watching.stderr).toContain("refused the user name or password in IMAP_URL");
    expect(watching.stderr).not.toContain("connecting again");

    const typo = await runCliHere(["mailbox", "--onc"], root, base);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown option --onc");

    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ ...base, IMAP_URL: "" }, /IMAP_URL is not set/],
      [{ ...base, IMAP_URL: "pop3://u:p@127.0.0.1" }, /must be imaps:\/\/ \(TLS\) or imap:\/\//],
      [{ ...base, IMAP_URL: "imap://127.0.0.1" }, /no user name or password/],
      [{ ...base, IMAP_URL: "imap://bounces:s3cret-W0rd%ZZ@127.0.0.1" }, /IMAP_URL has a % in its password that is not followed by two hexadecimal digits/],
      [{ ...base, IMAP_URL: "imap://bounces:s3cret-W0rd@127.0.0.1?tls=off" }, /IMAP_URL has an unknown parameter "tls" \(the one parameter known is allow-plaintext-auth=true\)/],
      [{ ...base, IMAP_URL: dovecot.url(), PRESSWORK_SECRET: "" }, /PRESSWORK_SECRET is not set/],
      [{ IMAP_URL: dovecot.url(), PRESSWORK_SECRET: "x", PRESSWORK_FEEDBACK_FILE: "" }, /--events FILE or PRESSWORK_FEEDBACK_FILE/],
    ];
    for (const [env, message] of cases) {
      const result = await runCliHere(["mailbox", "--once"], root, env);
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toContain("s3cret-W0rd");
    }
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const unreachable = await runCliHere(["mailbox", "--once"], root, { ...base, IMAP_URL: `imap://u:p@127.0.0.1:${closed}` });
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toMatch(/cannot reach the IMAP server 127\.0\.0\.1 \(ECONNREFUSED\)/);

    const overlapping = await tempProject({ config: `${CONFIG_WITH_BOUNCES}\nmailbox:\n  folders: [INBOX, Presswork/Processed]\n` });
    const overlap = await runCliHere(["mailbox", "--once"], overlapping, { ...base, IMAP_URL: dovecot.url() });
    expect(overlap.code).toBe(3);
    expect(overlap.stderr).toMatch(/mailbox.folders names "Presswork\/Processed", which is where messages are moved to/);

    const missing = await tempProject({ config: `${CONFIG_WITH_BOUNCES}\nmailbox:\n  folders: [Bounces]\n` });
    const noFolder = await runCliHere(["mailbox", "--once"], missing, { ...base, IMAP_URL: dovecot.url() });
    expect(noFolder.code).toBe(3);
    expect(noFolder.stderr).toMatch(/the folder "Bounces" in mailbox.folders cannot be opened \(.+\): check its name on the server/);

    const badConfig = await tempProject({ config: `${CONFIG_WITH_BOUNCES}\nmailbox:\n  batchSize: 0\n` });
    const bad = await runCliHere(["mailbox", "--once"], badConfig, { ...base, IMAP_URL: dovecot.url() });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/presswork\.config\.yaml:\d+:\d+.*batchSize/);
  });
});
