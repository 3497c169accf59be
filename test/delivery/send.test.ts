import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { domainToASCII } from "node:url";
import { simpleParser } from "mailparser";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { shardOf } from "../../src/audience/audience.js";
import { addressKey, verifyUnsubscribeToken } from "../../src/issues/message.js";
import { send, type SendRequest } from "../../src/pipeline/send.js";
import { runCli, runCliAsync } from "../helpers/cli.js";
import { removeProjects, tempProject } from "../helpers/project.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";

const NOW = new Date("2026-11-29T12:00:00Z");
const SECRET = "test-secret";
let smtp: TestSmtp;
let root: string;

/** A project whose delivery settings keep tests fast: no waiting between retries, a 1 s timeout. */
async function project(): Promise<string> {
  const dir = await tempProject({ samples: true });
  const path = join(dir, "presswork.config.yaml");
  const text = (await readFile(path, "utf8")).replace("timeoutSeconds: 60", "timeoutSeconds: 1").replace("retryDelaySeconds: 2", "retryDelaySeconds: 0").replace("retries: 3", "retries: 2");
  await writeFile(path, text);
  return dir;
}

async function list(addresses: string[], name = "subs.csv"): Promise<string> {
  await writeFile(join(root, name), `email,name\n${addresses.map((a, i) => `${a},Reader ${i}`).join("\n")}\n`);
  return name;
}

const addresses = (n: number, prefix = "r") => Array.from({ length: n }, (_, i) => `${prefix}${i}@example.org`);

function request(extra: Partial<SendRequest> = {}): SendRequest {
  return { root, now: NOW, env: { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" }, dryRun: false, retryFailed: false, subscribers: "subs.csv", ...extra };
}

beforeEach(async () => {
  smtp = await startSmtp();
  root = await project();
});
afterEach(async () => smtp.close());
afterAll(removeProjects);

describe("sending an issue over SMTP", () => {
  it("delivers one message to each subscriber, each with their own unsubscribe link, and records it", async () => {
    await list(addresses(20));
    const outcome = await send(request());
    expect(outcome.report?.sent).toBe(20);
    expect(smtp.received).toHaveLength(20);
    const recipients = smtp.received.map((m) => m.to[0]).sort();
    expect(recipients).toEqual(addresses(20).sort());
    for (const message of smtp.received.slice(0, 5)) {
      const mail = await simpleParser(message.raw);
      const unsubscribe = mail.headerLines.find((h) => h.key === "list-unsubscribe")?.line ?? "";
      const token = decodeURIComponent(/token=([^>]+)>/.exec(unsubscribe)?.[1] ?? "");
      expect(verifyUnsubscribeToken(token, "weekly.signal-noise.example", SECRET)).toBe(addressKey(message.to[0] ?? "", SECRET));
      expect(mail.text).toContain(`Hello Reader ${message.to[0]?.replace(/^r(\d+)@.*/, "$1")},`);
    }
    const ledger = await readFile(join(root, "newsletter/ledger/issue-3.jsonl"), "utf8");
    expect(ledger).not.toContain("@example.org");
    expect(ledger.split("\n").filter((l) => l.includes('"state":"sent"'))).toHaveLength(20);
    const record = JSON.parse(await readFile(join(root, "newsletter/sent.json"), "utf8"));
    expect(record.issues.at(-1)).toMatchObject({ number: 3, counts: { sent: 20, failed: 0 } });
  });

  it("sends nothing twice when run again, and nothing at all once the record has the issue", async () => {
    await list(addresses(10));
    await send(request());
    const again = await send(request({ issue: 3 }));
    expect(again.report?.sent).toBe(0);
    expect(again.report?.skippedSent).toBe(10);
    expect((await send(request())).nothingToSend).toContain("Nothing new since issue #3");
    expect(smtp.received).toHaveLength(10);
  });

  it.each([421, 450, 451, 452])("retries a %i reply and delivers once the server takes it", async (code) => {
    await list(addresses(3));
    smtp.behave("r1@example.org", { rcpt: code, times: 1 });
    const outcome = await send(request());
    expect(outcome.report).toMatchObject({ sent: 3, tempFailed: 0 });
    expect(smtp.offered.get("r1@example.org")).toBe(2);
    expect(smtp.received.filter((m) => m.to[0] === "r1@example.org")).toHaveLength(1);
  });

  it("records a 4xx that lasts as temp-failed, and --retry-failed sends only those", async () => {
    await list(addresses(4));
    smtp.behave("r2@example.org", { rcpt: 451 });
    const first = await send(request());
    expect(first.report).toMatchObject({ sent: 3, tempFailed: 1 });
    expect(smtp.offered.get("r2@example.org")).toBe(3);
    smtp.behave("r2@example.org", "accept");
    const retry = await send(request({ retryFailed: true }));
    expect(retry.report).toMatchObject({ sent: 1, tempFailed: 0 });
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(addresses(4).sort());
    const record = JSON.parse(await readFile(join(root, "newsletter/sent.json"), "utf8"));
    expect(record.issues.at(-1).counts).toMatchObject({ sent: 4, failed: 0 });
  });

  it.each([550, 553])("records a %i reply as perm-failed, suppresses the address and never retries it", async (code) => {
    await list(addresses(3));
    smtp.behave("r0@example.org", { rcpt: code });
    const outcome = await send(request());
    expect(outcome.report).toMatchObject({ sent: 2, permFailed: 1 });
    expect(smtp.offered.get("r0@example.org")).toBe(1);
    const suppressed = await readFile(join(root, "newsletter/suppressed.jsonl"), "utf8");
    expect(suppressed).toContain(addressKey("r0@example.org", SECRET));
    expect(suppressed).not.toContain("@example.org");
    await send(request({ issue: 3, retryFailed: true }));
    expect(smtp.offered.get("r0@example.org")).toBe(1);
  });

  it("retries a connection dropped in the middle of DATA", async () => {
    await list(addresses(3));
    smtp.behave("r1@example.org", { drop: 1 });
    const outcome = await send(request());
    expect(outcome.report).toMatchObject({ sent: 3, tempFailed: 0 });
    expect(smtp.received.filter((m) => m.to[0] === "r1@example.org")).toHaveLength(1);
  });

  it("gives up on a server slower than the timeout, recording temp-failed", async () => {
    await list(addresses(2));
    smtp.behave("r0@example.org", { slowMs: 2500 });
    const outcome = await send(request());
    expect(outcome.report?.tempFailed).toBe(1);
    expect(outcome.report?.sent).toBe(1);
  }, 30_000);

  it("stops early when too many of the first messages fail", async () => {
    const all = addresses(60);
    await list(all);
    for (const a of all) smtp.behave(a, { rcpt: 550 });
    const outcome = await send(request());
    expect(outcome.report?.stopped).toMatch(/of the first \d+ messages failed/);
    expect(smtp.offered.size).toBeLessThan(60);
    expect(outcome.recordUpdated).toBe(false);
  });

  it("splits a list into shards that cover it exactly once", async () => {
    const all = addresses(90);
    await list(all);
    for (const index of [1, 2, 3]) {
      const outcome = await send(request({ shard: { index, count: 3 } }));
      expect(outcome.report?.sent).toBe(all.filter((a) => shardOf(addressKey(a, SECRET), 3) === index).length);
    }
    const got = smtp.received.map((m) => m.to[0]).sort();
    expect(got).toEqual([...all].sort());
    expect(JSON.parse(await readFile(join(root, "newsletter/sent.json"), "utf8")).issues).toHaveLength(2);
  });

  it("after a sharded send, an unsharded run sends to no one again, and --finalize records the issue", async () => {
    const all = addresses(30);
    await list(all);
    for (const index of [1, 2]) await send(request({ shard: { index, count: 2 } }));
    expect(smtp.received).toHaveLength(30);
    const again = await send(request({ issue: 3 }));
    expect(again.report).toMatchObject({ sent: 0, skippedSent: 30 });
    const cli = runCli(["send", "--issue", "3", "--finalize", "2"], root);
    expect(cli.stdout).toContain("Issue #3: 30 sent, 0 not, across 2 shards");
    const record = JSON.parse(await readFile(join(root, "newsletter/sent.json"), "utf8"));
    expect(record.issues.at(-1)).toMatchObject({ number: 3, counts: { sent: 30, failed: 0 } });
    expect((await send(request())).nothingToSend).toContain("Nothing new since issue #3");
  });

  it("refuses to finalize before every shard's ledger is in", async () => {
    await list(addresses(4));
    await send(request({ shard: { index: 1, count: 3 } }));
    const cli = runCli(["send", "--issue", "3", "--finalize", "3"], root);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("no ledger yet for newsletter/ledger/issue-3.shard-2-of-3.jsonl, newsletter/ledger/issue-3.shard-3-of-3.jsonl");
  });

  it("reads a ledger whose last line was torn by a crash, and warns about a corrupt line in the middle", async () => {
    await list(addresses(4));
    const ledger = join(root, "newsletter/ledger/issue-3.jsonl");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(join(root, "newsletter/ledger"), { recursive: true });
    const header = { type: "issue", issue: 3, date: NOW.toISOString(), subject: "x", articles: ["tag:signal-noise.example,2026-11-24:open-silicon-fab"] };
    const sent = { issue: 3, key: addressKey("r0@example.org", SECRET), state: "sent", attempt: 1, at: NOW.toISOString() };
    await writeFile(ledger, `${JSON.stringify(header)}\n{not json}\n${JSON.stringify(sent)}\n{"issue":3,"key":"ab`);
    const outcome = await send(request());
    expect(outcome.report).toMatchObject({ sent: 3, skippedSent: 1 });
    expect(outcome.files.flatMap((f) => f.messages.map((m) => `${f.path}:${m.line} ${m.reason}`))).toContain(
      "newsletter/ledger/issue-3.jsonl:2 this ledger line is not valid JSON and was skipped; its recipient may be mailed again",
    );
    const lines = (await readFile(ledger, "utf8")).split("\n");
    expect(lines[3]).toBe('{"issue":3,"key":"ab');
    expect(() => JSON.parse(lines[4] ?? "")).not.toThrow();
  });
});

describe("what stops a send at once", () => {
  it("refuses a wrong password without showing it, and records nothing as sent", async () => {
    await smtp.close();
    smtp = await startSmtp({ user: "news", password: "right-password" });
    await list(addresses(3));
    await expect(send(request({ env: { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url("news", "hunter2-wrong"), SMTP_TLS_INSECURE: "1" } }))).rejects.toThrow(/the server refused the user name and password/);
    const ledger = await readFile(join(root, "newsletter/ledger/issue-3.jsonl"), "utf8").catch(() => "");
    expect(ledger).not.toContain('"state":"sent"');
    const cli = await runCliAsync(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url("news", "hunter2-wrong"), SMTP_TLS_INSECURE: "1" });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("cannot send through smtp://127.0.0.1");
    expect(cli.stderr).toContain("the server refused the user name and password");
    expect(cli.stderr + cli.stdout).not.toContain("hunter2-wrong");
    expect(smtp.received).toHaveLength(0);
  });

  it("sends with the right password", async () => {
    await smtp.close();
    smtp = await startSmtp({ user: "news", password: "right-password" });
    await list(addresses(2));
    const outcome = await send(request({ env: { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url("news", "right-password"), SMTP_TLS_INSECURE: "1" } }));
    expect(outcome.report?.sent).toBe(2);
  });

  it("refuses when nothing listens", async () => {
    await list(addresses(2));
    const port = smtp.port;
    await smtp.close();
    await expect(send(request({ env: { PRESSWORK_SECRET: SECRET, SMTP_URL: `smtp://127.0.0.1:${port}` } }))).rejects.toThrow(/cannot send through smtp:\/\/127\.0\.0\.1:\d+: the connection failed/);
    smtp = await startSmtp();
  });

  it("refuses a second send of the same issue while one runs", async () => {
    await list(addresses(2));
    const { mkdir } = await import("node:fs/promises");
    await mkdir(join(root, "newsletter/ledger"), { recursive: true });
    await writeFile(join(root, "newsletter/ledger/issue-3.lock"), JSON.stringify({ pid: process.pid, host: (await import("node:os")).hostname(), since: NOW.toISOString() }));
    await expect(send(request())).rejects.toThrow(/another send of this issue is running \(process \d+/);
    expect(smtp.received).toHaveLength(0);
  });

  it("takes over a lock left by a process that is gone", async () => {
    await list(addresses(2));
    const { mkdir } = await import("node:fs/promises");
    await mkdir(join(root, "newsletter/ledger"), { recursive: true });
    await writeFile(join(root, "newsletter/ledger/issue-3.lock"), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import("node:os")).hostname(), since: NOW.toISOString() }));
    expect((await send(request())).report?.sent).toBe(2);
  });
});

describe("bad subscriber input", () => {
  it("skips invalid and duplicate rows with their line numbers, and sends to the rest", async () => {
    await writeFile(join(root, "subs.csv"), "Email,Name,Status\nann@example.org,Ann,active\nANN@Example.org,Ann again,\nnot-an-address,X,\nbob@münchen.example,Bob,\ncarol@example.org,Carol,unsubscribed\ndave@example.org,Dave,paused\n");
    const invalid: string[] = [];
    const outcome = await send(request({ onInvalid: (row) => invalid.push(`${row.line}: ${row.reason}`) }));
    expect(invalid).toEqual(["4: an address needs a part before and after one @", '7: status "paused" is not one of active, unsubscribed, bounced, complained']);
    expect(outcome.audience).toMatchObject({ rows: 6, invalid: 2, duplicates: 1, suppressed: 1 });
    // smtp-server shows an IDNA domain in Unicode; compare in ASCII.
    const ascii = (a = "") => `${a.split("@")[0]}@${domainToASCII(a.split("@")[1] ?? "")}`;
    expect(smtp.received.map((m) => ascii(m.to[0])).sort()).toEqual(["ann@example.org", "bob@xn--mnchen-3ya.example"]);
  });

  it("reads JSON and JSON Lines lists, and the list in an environment variable", async () => {
    await writeFile(join(root, "subs.json"), JSON.stringify([{ email: "j1@example.org", name: "J" }, { email: "j2@example.org" }]));
    expect((await send(request({ subscribers: "subs.json", dryRun: true }))).report?.sent).toBe(2);
    await writeFile(join(root, "subs.jsonl"), '{"email":"l1@example.org"}\n{bad json}\n{"email":"l2@example.org"}\n');
    const lines: number[] = [];
    expect((await send(request({ subscribers: "subs.jsonl", dryRun: true, onInvalid: (r) => lines.push(r.line) }))).report?.sent).toBe(2);
    expect(lines).toEqual([2]);
    const env = { PRESSWORK_SECRET: SECRET, PRESSWORK_SUBSCRIBERS: "email\ne1@example.org\ne2@example.org\ne3@example.org\n" };
    const { subscribers: _omit, ...rest } = request({ dryRun: true, env });
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
    const cli = await runCliAsync(["send", "--subscribers", "missing.csv", "--now", NOW.toISOString()], root, { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("the subscriber list missing.csv does not exist");
    expect(cli.stderr).not.toMatch(/\n\s+at /);
    expect(smtp.received).toHaveLength(0);
  });

  it("refuses to start without the secret", async () => {
    await list(addresses(1));
    const cli = runCli(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, { SMTP_URL: smtp.url() });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("PRESSWORK_SECRET is not set");
  });
});

describe("test sends, dry runs and the outbox", () => {
  it("sends a [TEST] copy to one address, outside the ledger", async () => {
    const cli = await runCliAsync(["send", "--to", "editor@example.org", "--now", NOW.toISOString()], root, { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain("Sent a [TEST] copy of issue #3 to e***@example.org");
    const mail = await simpleParser(smtp.received[0]?.raw ?? Buffer.from(""));
    expect(mail.subject).toMatch(/^\[TEST\] Signal & Noise #3/);
    await expect(readFile(join(root, "newsletter/ledger/issue-3.jsonl"))).rejects.toThrow();
  });

  it("counts in a dry run and sends nothing", async () => {
    await list(addresses(5));
    const cli = runCli(["send", "--dry-run", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url() });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/ {7}5 {2}would be sent/);
    expect(smtp.received).toHaveLength(0);
  });

  it("writes to the outbox when no SMTP server is set, and says so", async () => {
    await list(addresses(3));
    const cli = runCli(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, { PRESSWORK_SECRET: SECRET, SMTP_URL: "" });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain("through the outbox");
    expect(cli.stdout).toContain("nothing leaves this machine");
    const { readdir } = await import("node:fs/promises");
    expect(await readdir(join(root, "outbox/issue-3"))).toHaveLength(3);
    expect(cli.stdout + cli.stderr).not.toContain("@example.org");
  });

  it("prints progress lines with what remains and an ETA, and writes the summary table for GitHub Actions", async () => {
    await list(addresses(2));
    const summary = join(root, "summary.md");
    const cli = await runCliAsync(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1", GITHUB_STEP_SUMMARY: summary });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stderr).toMatch(/^\d+ % {2}sent 1 {2}failed 0 {2}skipped 0 {2}remaining ~\d {2}[\d.]+ msg\/s {2}ETA \d+:\d\d$/m);
    expect(await readFile(summary, "utf8")).toContain("| sent | 2 |");
  });
});
