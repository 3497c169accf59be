import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { domainToASCII } from "node:url";
import { simpleParser } from "mailparser";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { shardOf } from "../../src/audience/audience.js";
import { addressKey, listTag, verifyUnsubscribeToken } from "../../src/issues/message.js";
import { send, type SendRequest } from "../../src/pipeline/send.js";
import { encodeHeader } from "../../src/state/ledger.js";
import { openStore, stateSettings } from "../../src/state/state.js";
import { runCliAsync, runCliHere } from "../helpers/cli.js";
import { git, initRepo, stateFiles } from "../helpers/git.js";
import { removeProjects, tempProject } from "../helpers/project.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";
import { readState } from "../helpers/state.js";

const NOW = new Date("2026-11-29T12:00:00Z");
const SECRET = "test-secret";
let smtp: TestSmtp;
let root: string;

/**
 * A project in a git repository whose delivery settings keep tests fast: no waiting between retries. The
 * server's timeout is 10 s, where a stall of the busy test process would otherwise read as a server too slow.
 */
async function project(built = true): Promise<string> {
  const dir = await tempProject({ samples: true, built });
  const path = join(dir, "presswork.config.yaml");
  const text = (await readFile(path, "utf8")).replace("timeoutSeconds: 60", "timeoutSeconds: 10").replace("retryDelaySeconds: 2", "retryDelaySeconds: 0").replace("retries: 3", "retries: 2");
  await writeFile(path, text);
  initRepo(dir);
  return dir;
}

async function list(addresses: string[], name = "subs.csv"): Promise<string> {
  await writeFile(join(root, name), `email,name\n${addresses.map((a, i) => `${a},Reader ${i}`).join("\n")}\n`);
  return name;
}

const addresses = (n: number, prefix = "r") => Array.from({ length: n }, (_, i) => `${prefix}${i}@example.org`);
const env = (extra: Record<string, string> = {}) => ({ PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1", ...extra });

function request(extra: Partial<SendRequest> = {}): SendRequest {
  return { root, now: NOW, env: env(), dryRun: false, retryFailed: false, subscribers: "subs.csv", ...extra };
}

beforeEach(async () => {
  smtp = await startSmtp();
  root = await project();
});
afterEach(async () => smtp.close());
afterAll(removeProjects);

describe("sending an issue over SMTP", () => {
  it("delivers one message to each subscriber, each with their own unsubscribe link, and records it on the state branch", async () => {
    await list(addresses(20));
    const head = git(root, "rev-parse", "HEAD");
    const notices: string[] = [];
    const outcome = await send(request({ onNotice: (line) => notices.push(line) }));
    expect(outcome.report?.sent).toBe(20);
    // Unsigned here: the relay must sign the unsubscribe headers, or the big mailboxes offer no one-click unsubscribe.
    expect(notices.filter((line) => line.startsWith("No DKIM_PRIVATE_KEY:"))).toHaveLength(1);
    expect(outcome.recorded).toBe("complete");
    expect(smtp.received).toHaveLength(20);
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(addresses(20).sort());
    for (const message of smtp.received.slice(0, 5)) {
      const mail = await simpleParser(message.raw);
      const unsubscribe = mail.headerLines.find((h) => h.key === "list-unsubscribe")?.line ?? "";
      const token = decodeURIComponent(/token=([^>]+)>/.exec(unsubscribe)?.[1] ?? "");
      expect(verifyUnsubscribeToken(token, "weekly.signal-noise.example", SECRET)).toBe(addressKey(message.to[0] ?? "", SECRET));
      // Greeted by the first word of their name ("Reader 7").
      expect(mail.text).toContain("\nHi Reader,\n");
      expect(mail.messageId).toBe(`<issue-3.${addressKey(message.to[0] ?? "", SECRET)}.${listTag("weekly.signal-noise.example")}@signal-noise.example>`);
      expect(mail.headers.get("content-transfer-encoding")).toBeUndefined();
    }
    const state = await readState(root);
    const issue = state.summary.issues.at(-1);
    expect(issue?.issue).toMatchObject({ number: 3, date: NOW.toISOString() });
    expect(issue?.complete?.counts).toEqual({ sent: 20, failed: 0, suppressed: 0 });
    // The issue as it was sent, tokens and all, for the archive to build from.
    expect(issue?.issue.content?.html).toContain("%%unsubscribe_url%%");
    expect(issue?.issue.content?.text).toContain("%%greeting%%");
    expect(issue?.issue.content?.webUrl).toBe("https://signal-noise.example/issues/3/");
    const ledger = stateFiles(root, "ledger/3").map((p) => git(root, "show", `presswork-state:${p}`)).join("\n");
    expect(ledger).not.toContain("example.org");
    expect((await state.ledger(3)).counts()).toEqual({ sent: 20, failed: 0 });
    // The editor's branch and working tree are untouched, and no lock is left.
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
    expect(git(root, "status", "--porcelain", "--untracked-files=no")).toBe("");
    expect(state.summary.locks).toEqual([]);
    await expect(readdir(join(root, ".presswork-state/attempts"))).resolves.toEqual([]);
  });

  it("dates each message when it is made, on a send that runs for hours, while the issue keeps the date it was planned with", async () => {
    await list(addresses(3));
    // A clock that moves on an hour each time it is read, as a send held back by an hourly limit does.
    let hours = 0;
    const clock = () => new Date(NOW.getTime() + 86_400_000 + hours++ * 3_600_000);
    await send(request({ clock }));
    const dates = await Promise.all(smtp.received.map(async (m) => (await simpleParser(m.raw)).date?.getTime() ?? 0));
    expect(new Set(dates).size).toBe(3);
    for (const date of dates) expect(date).toBeGreaterThan(NOW.getTime() + 86_400_000);
    expect((await readState(root)).summary.issues.at(-1)?.issue.date).toBe(NOW.toISOString());
  });

  it("sends nothing twice when run again, and refuses a complete issue with exit code 0", async () => {
    await list(addresses(10));
    await send(request());
    expect((await send(request())).nothingToSend).toContain("Nothing new since issue #3");
    const again = await runCliHere(["send", "--issue", "3", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, env());
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Issue #3 ".*" is complete \(sent to 10, 0 failed, recorded \d{4}-\d\d-\d\d\): nothing to send/);
    expect(smtp.received).toHaveLength(10);
  });

  it("refuses --issue beyond the next one", async () => {
    await list(addresses(1));
    await expect(send(request({ issue: 5 }))).rejects.toThrow("issue #5 does not exist yet: the next issue is #3");
  });

  it("reads the state branch, not the checked-out files: a ledger on another branch or in newsletter/ does not count", async () => {
    await list(addresses(6));
    const first = await send(request({ subscribers: "subs.csv" }));
    expect(first.report?.sent).toBe(6);
    // An old copy of the state in the working tree (as a checkout of an older commit would have) changes nothing.
    await writeFile(join(root, "newsletter/sent.json"), JSON.stringify({ issues: [] }));
    expect((await send(request({ issue: 3 }))).nothingToSend).toContain("is complete");
    expect(smtp.received).toHaveLength(6);
  });
});

describe("what each SMTP reply means", () => {
  it.each([421, 450, 451, 452])("retries a %i reply from a queue and delivers once the server takes it", async (code) => {
    await list(addresses(3));
    smtp.behave("r1@example.org", { rcpt: code, text: `${code === 421 ? "4.3.2" : "4.2.0"} try again later`, times: 1 });
    const outcome = await send(request());
    expect(outcome.report).toMatchObject({ sent: 3, tempFailed: 0 });
    expect(smtp.offered.get("r1@example.org")).toBe(2);
    expect(smtp.received.filter((m) => m.to[0] === "r1@example.org")).toHaveLength(1);
  });

  it("records a 4xx that lasts as temp-failed, suppresses nobody, and --retry-failed sends only those", async () => {
    await list(addresses(4));
    smtp.behave("r2@example.org", { rcpt: 451, text: "4.7.1 greylisted" });
    const before = Date.now();
    const first = await send(request());
    expect(first.report).toMatchObject({ sent: 3, tempFailed: 1 });
    expect(smtp.offered.get("r2@example.org")).toBe(3);
    expect(await (await readState(root)).suppressed()).toEqual(new Set());
    smtp.behave("r2@example.org", "accept");
    // Four days later: the retry sends the frozen issue.
    const later = new Date(NOW.getTime() + 4 * 86_400_000);
    const retry = await send(request({ retryFailed: true, now: later }));
    expect(retry.report).toMatchObject({ sent: 1, tempFailed: 0, skippedSent: 3 });
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(addresses(4).sort());
    expect((await readState(root)).summary.issues.at(-1)?.complete?.counts).toMatchObject({ sent: 4, failed: 0 });
    const [first0, retried] = await Promise.all(["r0@example.org", "r2@example.org"].map((to) => simpleParser(smtp.received.find((m) => m.to[0] === to)?.raw ?? "")));
    // Each message is dated when it goes out, by the wall clock, not by --now: the workflow gives the send its build's
    // clock, which a re-run days later keeps, and a Date hours or days before Received scores as spam.
    for (const mail of [first0, retried]) expect(mail?.date?.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    for (const mail of [first0, retried]) expect(mail?.date?.getTime()).toBeLessThanOrEqual(Date.now());
    expect(retried?.subject).toBe(first0?.subject);
    expect((await readState(root)).summary.issues.at(-1)?.issue.date).toBe(NOW.toISOString());
  });

  it.each([
    ["550 5.1.1", 550, "5.1.1 <r0@example.org>: Recipient address rejected: User unknown"],
    ["550 5.1.10", 550, "5.1.10 RESOLVER.ADR.RecipientNotFound; not found"],
    ["551 5.1.6", 551, "5.1.6 mailbox has moved"],
    ["552 5.2.1", 552, "5.2.1 The email account that you tried to reach is disabled"],
  ])("a %s to RCPT TO is a hard bounce: perm-failed, suppressed, never retried, the send goes on", async (_what, code, text) => {
    await list(addresses(3));
    smtp.behave("r0@example.org", { rcpt: code, text });
    const outcome = await send(request());
    expect(outcome.report).toMatchObject({ sent: 2, permFailed: 1, tempFailed: 0 });
    expect(outcome.report?.stopped).toBeUndefined();
    expect(smtp.offered.get("r0@example.org")).toBe(1);
    const suppressed = await (await readState(root)).suppressed();
    expect(suppressed).toEqual(new Set([addressKey("r0@example.org", SECRET)]));
    await send(request({ issue: 3, retryFailed: true }));
    expect(smtp.offered.get("r0@example.org")).toBe(1);
  });

  it.each([
    ["550 without a mailbox status", 550, "Requested action not taken"],
    ["552 5.2.2 (mailbox full)", 552, "5.2.2 mailbox full"],
    ["550 5.4.1 (access denied)", 550, "5.4.1 Recipient address rejected: Access denied"],
  ])("a %s to RCPT TO fails that recipient for this issue without suppressing the address", async (_what, code, text) => {
    await list(addresses(3));
    smtp.behave("r0@example.org", { rcpt: code, text });
    const outcome = await send(request());
    expect(outcome.report).toMatchObject({ sent: 2, tempFailed: 1, permFailed: 0 });
    expect(smtp.offered.get("r0@example.org")).toBe(1);
    expect(await (await readState(root)).suppressed()).toEqual(new Set());
  });

  it.each([
    ["a 552 size refusal at DATA", () => smtp.rule({ at: "DATA", code: 552, text: "5.3.4 Message size exceeds fixed limit", after: 4 }), "DATA: 552 5.3.4 Message size exceeds fixed limit"],
    ["a 554 content refusal at DATA", () => smtp.rule({ at: "DATA", code: 554, text: "5.7.0 Message rejected as spam", after: 4 }), "DATA: 554 5.7.0 Message rejected as spam"],
    ["a 550 at MAIL FROM (quota exceeded)", () => smtp.rule({ at: "MAIL FROM", code: 550, text: "5.4.5 Daily user sending quota exceeded", after: 4 }), "MAIL FROM: 550 5.4.5 Daily user sending quota exceeded"],
  ])("%s refuses the message or the account: the send stops, suppresses nobody, records those recipients as not sent", async (_what, script, reply) => {
    await list(addresses(30));
    script();
    const outcome = await send(request());
    const r = outcome.report;
    expect(r?.stopped?.kind).toBe("refused");
    expect(r?.stopped?.reason).toContain(reply);
    expect(r?.permFailed).toBe(0);
    expect(r?.notSent).toBeGreaterThanOrEqual(1);
    expect((r?.sent ?? 0) + (r?.notSent ?? 0)).toBeLessThan(30);
    const state = await readState(root);
    expect(await state.suppressed()).toEqual(new Set());
    expect(state.summary.issues.at(-1)?.complete).toBeUndefined();
    expect(outcome.recorded).toBeUndefined();
    const ledger = await state.ledger(3);
    expect([...ledger.states()].filter(([, s]) => s.state === "not-sent")).toHaveLength(r?.notSent ?? -1);
    // Once the cause is fixed, a run sends to everyone owed the issue, and nobody twice.
    smtp.rule(undefined);
    smtp.behave("r4@example.org", "accept");
    const again = await send(request());
    expect(again.report?.stopped).toBeUndefined();
    expect(again.recorded).toBe("complete");
    const times = new Map<string, number>();
    for (const m of smtp.received) times.set(m.to[0] ?? "", (times.get(m.to[0] ?? "") ?? 0) + 1);
    expect([...times.keys()].sort()).toEqual(addresses(30).sort());
    expect([...times.values()].every((n) => n === 1)).toBe(true);
  });

  it("exits non-zero with the server's reply when the account is refused", async () => {
    await list(addresses(10));
    smtp.rule({ at: "MAIL FROM", code: 550, text: "5.4.5 Daily user sending quota exceeded", after: 3 });
    const cli = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, env());
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("Stopped: the server refused the sender at MAIL FROM: 550 5.4.5 Daily user sending quota exceeded");
    expect(cli.stdout).toMatch(/\d+ {2}not sent, still owed the issue/);
  });

  it("retries a connection dropped in the middle of DATA", async () => {
    await list(addresses(3));
    smtp.behave("r1@example.org", { drop: 1 });
    const outcome = await send(request());
    expect(outcome.report).toMatchObject({ sent: 3, tempFailed: 0 });
    expect(smtp.received.filter((m) => m.to[0] === "r1@example.org")).toHaveLength(1);
  });

  it("gives up on a server slower than the timeout, recording temp-failed", async () => {
    const config = join(root, "presswork.config.yaml");
    await writeFile(config, (await readFile(config, "utf8")).replace("timeoutSeconds: 10", "timeoutSeconds: 1"));
    await list(addresses(2));
    smtp.behave("r0@example.org", { slowMs: 2500 });
    const outcome = await send(request());
    expect(outcome.report?.tempFailed).toBe(1);
    expect(outcome.report?.sent).toBe(1);
  });

  it("watches failures over the whole run: a run of bounces late in the list stops it", async () => {
    const all = addresses(150);
    await list(all);
    for (const a of all.slice(100)) smtp.behave(a, { rcpt: 550, text: "5.1.1 no such user" });
    const path = join(root, "presswork.config.yaml");
    await writeFile(path, (await readFile(path, "utf8")).replace("stopWhen: { window: 200", "stopWhen: { window: 50"));
    const outcome = await send(request());
    expect(outcome.report?.stopped?.kind).toBe("failures");
    expect(outcome.report?.stopped?.reason).toMatch(/of the last 50 messages failed/);
    expect(outcome.report?.sent).toBe(100);
    expect(outcome.report?.permFailed).toBeLessThan(20);
    expect(outcome.recorded).toBeUndefined();
  });
});

describe("the state a send reads", () => {
  it("refuses a ledger of another issue among the issue's parts, naming it, and mails nobody", async () => {
    await list(addresses(4));
    const store = await openStore(root, stateSettings(undefined, {}), process.env);
    const attempt = "20261129T110000Z.copied-by-hand";
    await store?.write([{ kind: "ledger", part: { issue: 3, attempt, offset: 0, text: `${encodeHeader({ issue: 2, attempt, started: NOW.toISOString(), offset: 0 })}\n` } }], "a part of issue #2 under issue #3");
    const cli = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, env());
    expect(cli.code).toBe(5);
    expect(cli.stderr).toContain(`presswork send: ledger part 0 of attempt ${attempt} is the ledger of issue #2, not of issue #3: refused`);
    expect(smtp.received).toHaveLength(0);
    const state = await readState(root);
    expect(state.summary.locks).toEqual([]);
    expect(state.summary.issues.find((s) => s.issue.number === 3)).toBeUndefined();
  });

  it("--retry-failed works on the last issue started, not the last one recorded complete", async () => {
    await list(addresses(30));
    smtp.behave("r1@example.org", { rcpt: 451, text: "4.2.0 try later" });
    smtp.rule({ at: "MAIL FROM", code: 550, text: "5.4.5 Daily user sending quota exceeded", after: 20 });
    const first = await send(request());
    expect(first.report?.stopped?.kind).toBe("refused");
    const state = await readState(root);
    expect(state.summary.issues.at(-1)).toMatchObject({ issue: { number: 3 } });
    expect(state.summary.issues.at(-1)?.complete).toBeUndefined();
    smtp.rule(undefined);
    smtp.behave("r1@example.org", "accept");
    const retry = await send(request({ retryFailed: true }));
    expect(retry.issue).toBe(3);
    expect(retry.report?.sent).toBe(1);
    expect(smtp.received.filter((m) => m.to[0] === "r1@example.org")).toHaveLength(1);
  });
});

describe("shards", () => {
  it("split a list into shards that cover it exactly once, and --finalize records the issue", async () => {
    const all = addresses(90);
    await list(all);
    for (const index of [1, 2, 3]) {
      const outcome = await send(request({ shard: { index, count: 3 } }));
      expect(outcome.report?.sent).toBe(all.filter((a) => shardOf(addressKey(a, SECRET), 3) === index).length);
      expect(outcome.recorded).toBe("shard");
    }
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual([...all].sort());
    expect((await readState(root)).summary.issues.at(-1)?.complete).toBeUndefined();
    // An unsharded run of the issue sends to nobody again.
    const again = await send(request({ issue: 3 }));
    expect(again.report).toMatchObject({ sent: 0, skippedSent: 90 });
    const cli = await runCliHere(["send", "--issue", "3", "--finalize", "3"], root, env());
    expect(cli.stdout).toContain("Issue #3: 90 sent, 0 not, across 3 shards");
    expect((await readState(root)).summary.issues.at(-1)?.complete?.counts).toMatchObject({ sent: 90, failed: 0 });
    expect((await send(request())).nothingToSend).toContain("Nothing new since issue #3");
  });

  it("--finalize names the shards that did not finish, and records nothing", async () => {
    await list(addresses(12));
    await send(request({ shard: { index: 1, count: 3 } }));
    smtp.rule({ at: "MAIL FROM", code: 554, text: "5.7.1 account suspended", after: smtp.received.length });
    await send(request({ shard: { index: 2, count: 3 } }));
    const cli = await runCliHere(["send", "--issue", "3", "--finalize", "3"], root, env());
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("cannot finalize issue #3: shard 2/3 started but did not finish its part of the list");
    expect(cli.stderr).toContain("shard 3/3 never started");
    expect((await readState(root)).summary.issues.at(-1)?.complete).toBeUndefined();
  });
});

describe("what stops a send before it starts", () => {
  it("refuses a wrong password without showing it, and records nothing", async () => {
    await smtp.close();
    smtp = await startSmtp({ auth: { user: "news", password: "right-password" } });
    await list(addresses(3));
    await expect(send(request({ env: env({ SMTP_URL: smtp.url("news", "hunter2-wrong") }) }))).rejects.toThrow(/the server refused the user name and password/);
    const cli = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, env({ SMTP_URL: smtp.url("news", "hunter2-wrong") }));
    expect(cli.code).toBe(3);
    expect(cli.stderr).toContain("cannot send through smtp://127.0.0.1");
    expect(cli.stderr).toContain("[smtp-setup]");
    expect(cli.stderr + cli.stdout).not.toContain("hunter2-wrong");
    expect(smtp.received).toHaveLength(0);
    expect(stateFiles(root, "issues/3")).toEqual([]);
  });

  it("sends with the right password, over STARTTLS", async () => {
    await smtp.close();
    smtp = await startSmtp({ auth: { user: "news", password: "right-password" } });
    await list(addresses(2));
    const outcome = await send(request({ env: env({ SMTP_URL: smtp.url("news", "right-password") }) }));
    expect(outcome.report?.sent).toBe(2);
  });

  it("refuses to log in over a connection without STARTTLS, unless SMTP_URL or SMTP_ALLOW_PLAINTEXT_AUTH allows it in so many words", async () => {
    await smtp.close();
    smtp = await startSmtp({ auth: { user: "news", password: "right-password" }, starttls: false });
    await list(addresses(2));
    await expect(send(request({ env: env({ SMTP_URL: smtp.url("news", "right-password") }) }))).rejects.toThrow(
      /the server does not offer STARTTLS, and a password would cross the network unencrypted.*allow-plaintext-auth=true/,
    );
    expect(smtp.logins).toEqual([]);
    expect(smtp.received).toHaveLength(0);
    const outcome = await send(request({ env: env({ SMTP_URL: smtp.url("news", "right-password"), SMTP_ALLOW_PLAINTEXT_AUTH: "true" }) }));
    expect(outcome.report?.sent).toBe(2);
  });

  it("refuses when nothing listens", async () => {
    await list(addresses(2));
    const port = smtp.port;
    await smtp.close();
    await expect(send(request({ env: env({ SMTP_URL: `smtp://127.0.0.1:${port}` }) }))).rejects.toThrow(/cannot send through smtp:\/\/127\.0\.0\.1:\d+: the connection failed/);
    smtp = await startSmtp();
  });

  it("refuses without SMTP unless --outbox is given, and never falls back to the outbox under GitHub Actions", async () => {
    await list(addresses(3));
    const local = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, { PRESSWORK_SECRET: SECRET, SMTP_URL: "", CI: "", GITHUB_ACTIONS: "" });
    expect(local.code).toBe(3);
    expect(local.stderr).toContain("no SMTP server is configured: set SMTP_URL (smtp://user:password@host:587), or pass --outbox");
    const actions = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, { PRESSWORK_SECRET: SECRET, SMTP_URL: "", GITHUB_ACTIONS: "true", PRESSWORK_STATE_REMOTE: root });
    expect(actions.code).toBe(3);
    expect(actions.stderr).toContain("no SMTP server is configured under GitHub Actions (SMTP_URL is empty");
    expect(stateFiles(root, "ledger")).toEqual([]);
  });

  it("refuses to send under GitHub Actions when the state would not be pushed anywhere", async () => {
    await list(addresses(1));
    const cli = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, env({ GITHUB_ACTIONS: "true" }));
    expect(cli.code).toBe(3);
    expect(cli.stderr).toContain("under GitHub Actions the send's state must be pushed to the repository");
    expect(smtp.received).toHaveLength(0);
  });

  it("refuses outside a git repository, where there is no state branch", async () => {
    const bare = await tempProject({ samples: true });
    await writeFile(join(bare, "subs.csv"), "email\na@example.org\n");
    await expect(send({ ...request(), root: bare })).rejects.toThrow(/the send keeps its state on the git branch presswork-state, and .* is not in a git repository/);
  });

  it("refuses while another send of the issue runs, and takes over a lock whose process is gone", async () => {
    await list(addresses(2));
    const store = await openStore(root, stateSettings(undefined, {}), process.env);
    const attempt = (pid: number) => ({ name: `20261129T115900Z.local-${pid}`, started: NOW.toISOString(), host: hostname(), pid });
    const now = new Date().toISOString();
    await store?.write([{ kind: "lock", lock: { issue: 3, attempt: attempt(process.pid), since: now, heartbeat: now } }], "a live send");
    await expect(send(request())).rejects.toThrow(/issue #3 is being sent by an unsharded send by process \d+ on .*: wait for it to finish/);
    expect(smtp.received).toHaveLength(0);
    await store?.write([{ kind: "unlock", issue: 3, attempt: attempt(process.pid).name }, { kind: "lock", lock: { issue: 3, attempt: attempt(2 ** 22 + 12345), since: now, heartbeat: now } }], "a dead send");
    expect((await send(request())).report?.sent).toBe(2);
    expect((await readState(root)).summary.locks).toEqual([]);
  });
});

describe("bad subscriber input", () => {
  // Some tests here look for the cache a send that got as far as building would leave: the project starts without one.
  beforeEach(async () => {
    root = await project(false);
  });

  it("mails nobody a list stops in a later row: an address active on one line and unsubscribed, bounced or complained on another", async () => {
    await writeFile(
      join(root, "subs.csv"),
      "email,name,status\nann@example.org,Ann,active\nbob@example.org,Bob,active\ncy@example.org,Cy,active\nANN@example.org,Ann,unsubscribed\nfay@example.org,Fay,active\ncy@Example.org,Cy,complained\n",
    );
    const skipped: string[] = [];
    const outcome = await send(request({ onInvalid: (row) => skipped.push(`${row.line}: ${row.reason}`) }));
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(["bob@example.org", "fay@example.org"]);
    expect(outcome.audience).toMatchObject({ rows: 6, duplicates: 2, suppressed: 2 });
    expect(skipped).toEqual([5, 7].map((line) => `${line}: the address is already on the list (compared without case and in Unicode NFC): this row is skipped`));
  });

  it("mails nobody from a CSV list malformed near its end, naming the line", async () => {
    await writeFile(join(root, "subs.csv"), `email,name\n${addresses(40).map((a) => `${a},Reader`).join("\n")}\n"unclosed@example.org,Never\nzed@example.org,Zed\n`);
    await expect(send(request())).rejects.toThrow(/subs\.csv:42: the CSV is malformed/);
    expect(smtp.received).toHaveLength(0);
  });

  it("skips invalid and duplicate rows with their line numbers, a name with a line break and NFC/NFD twins among them, and sends to the rest", async () => {
    const nfc = "jos\u00e9@example.org";
    const nfd = "jose\u0301@example.org";
    await writeFile(
      join(root, "subs.csv"),
      `Email,Name,Status\nann@example.org,Ann,active\nANN@Example.org,Ann again,\nnot-an-address,X,\nbob@münchen.example,Bob,\ncarol@example.org,Carol,unsubscribed\ndave@example.org,Dave,paused\n${nfc},José,\n${nfd},José again,\neve@example.org,"Eve\nBcc: everyone@example.org",\nfay@example.org,Fay,\n`,
    );
    const skipped: string[] = [];
    const outcome = await send(request({ onInvalid: (row) => skipped.push(`${row.line}: ${row.reason}`) }));
    expect(skipped).toEqual([
      "3: the address is already on the list (compared without case and in Unicode NFC): this row is skipped",
      "4: an address needs a part before and after one @",
      '7: status "paused" is not one of active, unsubscribed, bounced, complained',
      "9: the address is already on the list (compared without case and in Unicode NFC): this row is skipped",
      "11: the name has a line break or another control character, which would break the message's headers",
    ]);
    expect(outcome.audience).toMatchObject({ rows: 10, invalid: 3, duplicates: 2, suppressed: 1 });
    // smtp-server shows an IDNA domain in Unicode; compare in ASCII.
    const ascii = (a = "") => `${a.split("@")[0]}@${domainToASCII(a.split("@")[1] ?? "")}`;
    expect(smtp.received.map((m) => ascii(m.to[0]).normalize("NFC")).sort()).toEqual(["ann@example.org", "bob@xn--mnchen-3ya.example", "fay@example.org", nfc].sort());
    expect(outcome.recorded).toBe("complete");
  });

  it("skips a row whose address has a control or bidi character, naming the character, where nodemailer would have mailed the address without it", async () => {
    await writeFile(join(root, "subs.csv"), 'email,name\nann@example.org,Ann\n"ctl\u0007x\u007f@example.org",Ctl\nreader\u202egro.elpmaxe@example.org,Rev\nctlx@example.org,Ctlx\n');
    const skipped: string[] = [];
    const outcome = await send(request({ onInvalid: (row) => skipped.push(`${row.line}: ${row.reason}`) }));
    // A NUL byte would have the file taken for UTF-16 and refused whole.
    expect(skipped).toEqual(["0007", "202E"].map((code, i) => `${i + 3}: the address has a control or invisible formatting character (U+${code}), which an address cannot have`));
    expect(outcome.audience).toMatchObject({ rows: 4, invalid: 2, duplicates: 0 });
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(["ann@example.org", "ctlx@example.org"]);
  });

  it("reads JSON and JSON Lines lists, and the list in an environment variable", async () => {
    await writeFile(join(root, "subs.json"), JSON.stringify([{ email: "j1@example.org", name: "J" }, { email: "j2@example.org" }]));
    expect((await send(request({ subscribers: "subs.json", dryRun: true }))).report?.sent).toBe(2);
    await writeFile(join(root, "subs.jsonl"), '{"email":"l1@example.org"}\n{bad json}\n{"email":"l2@example.org"}\n');
    const lines: number[] = [];
    expect((await send(request({ subscribers: "subs.jsonl", dryRun: true, onInvalid: (r) => lines.push(r.line) }))).report?.sent).toBe(2);
    expect(lines).toEqual([2]);
    const { subscribers: _omit, ...rest } = request({ dryRun: true, env: { PRESSWORK_SECRET: SECRET, PRESSWORK_SUBSCRIBERS: "email\ne1@example.org\ne2@example.org\ne3@example.org\n" } });
    expect((await send(rest)).report?.sent).toBe(3);
  });

  it.each([
    ["a CSV without an email column", "name\nAnn\n", /subs\.csv: the header row has no email column/],
    ["an empty list", "", /the list is empty/],
    ["malformed CSV", 'email,name\n"unclosed@example.org,Ann\n', /the CSV is malformed/],
  ])("refuses %s with a clear message", async (_what, text, message) => {
    await writeFile(join(root, "subs.csv"), text);
    await expect(send(request())).rejects.toThrow(message);
  });

  it("runs in a bounded heap, and says so clearly when the list does not fit in it", async () => {
    await list(addresses(3));
    const cli = await runCliAsync(["send", "--subscribers", "subs.csv", "--dry-run", "--now", NOW.toISOString()], root, { PRESSWORK_SECRET: SECRET, PRESSWORK_SEND_HEAP_MB: "12" });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("ran out of its 12 MB heap");
    expect(cli.stderr).toContain("PRESSWORK_SEND_HEAP_MB");
    expect(cli.stderr).not.toMatch(/\n\s+at /);
  });

  it("names a subscriber list that does not exist, without a stack trace, and sends nothing", async () => {
    const cli = await runCliHere(["send", "--subscribers", "missing.csv", "--now", NOW.toISOString()], root, env());
    expect(cli.code).toBe(3);
    expect(cli.stderr).toContain("the subscriber list missing.csv does not exist");
    expect(cli.stderr).not.toMatch(/\n\s+at /);
    expect(smtp.received).toHaveLength(0);
    // Said before the build, which on a large archive takes a while: nothing was rendered or cached.
    expect(existsSync(join(root, ".presswork-cache"))).toBe(false);
  });

  it("refuses a list saved as Latin-1 by its file and line, and mails nobody; a UTF-8 list with a BOM and CRLF line ends is read", async () => {
    await writeFile(join(root, "subs.csv"), Buffer.from("email,name\nann@example.org,Ann\n\xe9l\xe8ve@example.com,Caf\xe9\n", "latin1"));
    const cli = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, env());
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("subs.csv:3: the subscriber list has bytes that are not UTF-8");
    expect(cli.stderr).toContain("save it as UTF-8");
    expect(cli.stderr).not.toContain("@example.");
    expect(smtp.received).toHaveLength(0);
    expect(existsSync(join(root, ".presswork-cache"))).toBe(false);

    await writeFile(join(root, "subs.csv"), "\ufeffemail,name\r\n\u00e9l\u00e8ve@example.com,Caf\u00e9\r\n");
    expect((await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, env())).code).toBe(0);
    expect(smtp.received.map((m) => m.to[0]?.normalize("NFC"))).toEqual(["\u00e9l\u00e8ve@example.com"]);
    expect((await simpleParser(smtp.received[0]?.raw ?? "")).text).toContain("Caf\u00e9");
  });

  it("says a list path that is a folder is not a file, without a stack trace, and sends nothing", async () => {
    await mkdir(join(root, "lists"));
    const cli = await runCliHere(["send", "--subscribers", "lists", "--now", NOW.toISOString()], root, env());
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("the subscriber list lists is a folder, not a file");
    expect(cli.stderr).not.toMatch(/\n\s+at /);
    expect(smtp.received).toHaveLength(0);
  });

  it("refuses a DKIM key it cannot sign with, before anything is built or mailed: nodemailer would send every message unsigned", async () => {
    await list(addresses(3));
    const cli = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, env({ DKIM_PRIVATE_KEY: "-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQ==\\n-----END PUBLIC KEY-----", DKIM_SELECTOR: "pw2026" }));
    expect(cli.code).toBe(3);
    expect(cli.stderr).toContain("DKIM_PRIVATE_KEY is not a private key in PEM form");
    expect(cli.stderr).not.toContain("MFkwEwYHKoZIzj0CAQ");
    expect(smtp.received).toHaveLength(0);
    expect(existsSync(join(root, ".presswork-cache"))).toBe(false);
  });

  it("says a config without a newsletter has nothing to send, before anything is built", async () => {
    const path = join(root, "presswork.config.yaml");
    await writeFile(path, (await readFile(path, "utf8")).replace(/\nnewsletter:\n(?: .*\n|\n)*/, "\n"));
    await list(addresses(1));
    const cli = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, env());
    expect(cli.code, cli.stderr).toBe(3);
    expect(cli.stderr).toContain("no newsletter is configured: add a newsletter section to presswork.config.yaml");
    expect(smtp.received).toHaveLength(0);
    expect(existsSync(join(root, ".presswork-cache"))).toBe(false);
  });

  it("refuses to start without the secret", async () => {
    await list(addresses(1));
    const cli = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, { SMTP_URL: smtp.url() });
    expect(cli.code).toBe(3);
    expect(cli.stderr).toContain("PRESSWORK_SECRET is not set");
    expect(cli.stderr).toContain("[send-setup]");
  });
});

describe("test sends, dry runs and the outbox", () => {
  it("sends a [TEST] copy to one address, and writes no state", async () => {
    const cli = await runCliHere(["send", "--to", "editor@example.org", "--now", NOW.toISOString()], root, env());
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain("Sent a [TEST] copy of issue #3 to e***@example.org");
    const mail = await simpleParser(smtp.received[0]?.raw ?? Buffer.from(""));
    expect(mail.subject).toMatch(/^\[TEST\] Signal & Noise #3/);
    expect(stateFiles(root)).toEqual([]);
  });

  it("refuses a --to that is empty (a variable not set) or not an address, and sends nothing to the list", async () => {
    await list(addresses(2));
    for (const to of ["", "not-an-address"]) {
      const cli = await runCliHere(["send", "--to", to, "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, env());
      expect(cli.code, cli.stderr).toBe(2);
      expect(cli.stderr).toMatch(/--to takes the one address to send a test copy to: .*\[usage\]/);
    }
    expect(smtp.received).toHaveLength(0);
    expect(stateFiles(root)).toEqual([]);
  });

  it("counts in a dry run, and sends and records nothing; a row it leaves out is named by the list's file and line", async () => {
    await list([...addresses(5).slice(0, 2), "not an address", ...addresses(5).slice(2)]);
    const cli = await runCliHere(["send", "--dry-run", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url() });
    expect(cli.code).toBe(0);
    expect(cli.stderr).toMatch(/^subs\.csv:4 {2}skipped {2}/m);
    expect(cli.stdout).toMatch(/ {7}5 {2}would be sent/);
    expect(smtp.received).toHaveLength(0);
    expect(stateFiles(root)).toEqual([]);
  });

  it("writes to the outbox with --outbox, records the messages as outboxed, never sent, and never completes the issue", async () => {
    await list(addresses(3));
    const cli = await runCliHere(["send", "--outbox", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, { PRESSWORK_SECRET: SECRET, SMTP_URL: "" });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain("nothing leaves this machine");
    expect(cli.stdout).toMatch(/ {7}3 {2}written to the outbox \(not sent\)/);
    expect(await readdir(join(root, "outbox/issue-3"))).toHaveLength(3);
    expect(cli.stdout + cli.stderr).not.toContain("@example.org");
    const state = await readState(root);
    expect(state.summary.issues.find((s) => s.issue.number === 3)).toBeUndefined();
    expect([...(await state.ledger(3)).states()].map(([, s]) => s.state)).toEqual(["outboxed", "outboxed", "outboxed"]);
    // Again to the outbox: the three are there already, which is no failure.
    const again = await runCliHere(["send", "--outbox", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, { PRESSWORK_SECRET: SECRET, SMTP_URL: "" });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/ {7}3 {2}skipped, already in the outbox/);
    expect(again.stdout).toMatch(/ {7}0 {2}skipped, failed earlier/);
    expect(await readdir(join(root, "outbox/issue-3"))).toHaveLength(3);
    // A real send afterwards mails everyone: the outbox delivered nothing.
    const real = await send(request());
    expect(real.report?.sent).toBe(3);
    expect(real.recorded).toBe("complete");
  });

  it("prints progress lines with what remains and an ETA, and writes the summary table for GitHub Actions", async () => {
    await list(addresses(2));
    const summary = join(root, "summary.md");
    const cli = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, env({ GITHUB_STEP_SUMMARY: summary }));
    expect(cli.code, cli.stderr).toBe(0);
    const lines = cli.stderr.split("\n").filter((line) => / msg\/s/.test(line));
    expect(lines[0]).toMatch(/^\d+ % {2}sent \d {2}failed 0 {2}skipped 0 {2}remaining ~\d {2}[\d.]+ msg\/s {2}ETA \d+:\d\d$/);
    // The last line is the end's, as the summary has it: not the last of those that came every 5 s.
    expect(lines.at(-1)).toMatch(/^100 % {2}sent 2 {2}failed 0 {2}skipped 0 {2}remaining ~0 {2}[\d.]+ msg\/s {2}ETA \d+:\d\d$/);
    expect(await readFile(summary, "utf8")).toContain("| sent | 2 |");
  });
});
