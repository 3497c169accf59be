import { createHmac } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from "vitest";
import { send, type SendRequest } from "../../src/pipeline/send.js";
import { runCliHere } from "../helpers/cli.js";
import { startDovecot, IMAP_PASSWORD, type TestDovecot } from "../helpers/dovecot.js";
import { git, initRepo } from "../helpers/git.js";
import { article, NOW, removeProjects, tempProject } from "../helpers/project.js";
import { startService } from "../helpers/service.js";
import { startSmtp, type Received, type TestSmtp } from "../helpers/smtp.js";

const SECRET = "end-to-end-secret";
const MAILGUN_KEY = "key-end-to-end-0123456789abcdef";
const LIST = ["ann@example.org", "bob@example.net", "cat@example.com", "dan@example.org", "eve@example.net"];
const BOUNCED = "bob@example.net";
const COMPLAINED = "dan@example.org";
const NEXT_WEEK = new Date(NOW.getTime() + 7 * 86_400_000);

let dovecot: TestDovecot | undefined;
let unavailable = "";
let smtp: TestSmtp;

beforeAll(async () => {
  try {
    dovecot = await startDovecot();
  } catch (error) {
    unavailable = (error as Error).message;
    if (process.env["PRESSWORK_CI"] === "1") throw error;
    console.warn(`SKIPPED: the end-to-end mailbox test needs Dovecot: ${unavailable}`);
  }
});
afterAll(async () => {
  await dovecot?.stop();
  await removeProjects();
});
beforeEach(async () => {
  smtp = await startSmtp();
});
afterEach(async () => smtp.close());

/** The sample project in git with a bounce address, a CSV list of five and a SQLite subscriber database. */
async function project(): Promise<{ root: string; databaseUrl: string }> {
  const root = await tempProject({ samples: true, built: true });
  const path = join(root, "presswork.config.yaml");
  const text = (await readFile(path, "utf8")).replace("timeoutSeconds: 60", "timeoutSeconds: 5").replace("retryDelaySeconds: 2", "retryDelaySeconds: 0");
  await writeFile(path, text.replace("  postalAddress:", "  bounces: { address: bounces@signal-noise.example }\n  postalAddress:"));
  await writeFile(join(root, "subs.csv"), `email\n${LIST.join("\n")}\n`);
  initRepo(root);
  return { root, databaseUrl: `sqlite:${join(root, "data/list.sqlite")}` };
}

function request(root: string, env: Record<string, string>, now = NOW): SendRequest {
  return { root, now, env: { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1", ...env }, dryRun: false, retryFailed: false, subscribers: "subs.csv" };
}

/** A new article after issue #3, so a week later issue #4 is due. */
async function nextArticle(root: string): Promise<void> {
  await writeFile(join(root, "articles/feedback-loops.md"), article(`title: "Closing the Loop"\ndate: 2026-12-01\nauthors: [ada]\ntags: [Networks]\nsummary: What comes back from a send.`));
  git(root, "add", "articles/feedback-loops.md");
  git(root, "commit", "-q", "-m", "Add an article");
}

const sentTo = (address: string): Received => {
  const found = smtp.received.find((m) => m.to[0] === address);
  if (!found) throw new Error("not sent");
  return found;
};

/** The delivery status notification a receiving MTA (Postfix) sends to the envelope sender for a user that does not exist. */
function dsnFor(message: Received): string {
  const headers = message.raw.toString("utf8").split("\r\n\r\n")[0];
  const boundary = "4Zq1Xk2mTcz9sRt.1764580448/mx1.example.net";
  return [
    "Return-Path: <>",
    `Delivered-To: ${message.from}`,
    "Date: Mon, 30 Nov 2026 07:01:10 +0000 (UTC)",
    "From: MAILER-DAEMON@mx1.example.net (Mail Delivery System)",
    "Subject: Undelivered Mail Returned to Sender",
    `To: ${message.from}`,
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    "Message-Id: <20261130070110.4Zq1Xk2mTcz9sRt@mx1.example.net>",
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=us-ascii",
    "",
    `<${message.to[0]}>: 550 5.1.1 User unknown`,
    "",
    `--${boundary}`,
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx1.example.net",
    `X-Postfix-Sender: rfc822; ${message.from}`,
    "",
    `Final-Recipient: rfc822; ${message.to[0]}`,
    "Action: failed",
    "Status: 5.1.1",
    `Diagnostic-Code: smtp; 550 5.1.1 <${message.to[0]}>: Recipient address rejected: User unknown`,
    "",
    `--${boundary}`,
    "Content-Type: text/rfc822-headers",
    "",
    headers,
    "",
    `--${boundary}--`,
    "",
  ].join("\r\n");
}

/** An RFC 5965 abuse report from a mailbox provider's feedback loop, quoting the message the reader marked as spam. */
function arfFor(message: Received): string {
  const boundary = "----=_Part_9931_1764699725";
  return [
    "From: Feedback Loop <feedback@fbl.example.com>",
    "To: bounces@signal-noise.example",
    "Subject: FW: complaint",
    "Date: Mon, 30 Nov 2026 09:22:05 +0000",
    "Message-ID: <1764699725.9931.arf@fbl.example.com>",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=feedback-report; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "This is an email abuse report.",
    "",
    `--${boundary}`,
    "Content-Type: message/feedback-report",
    "",
    "Feedback-Type: abuse",
    "User-Agent: FBL/1.0",
    "Version: 1",
    `Original-Mail-From: <${message.from}>`,
    "Arrival-Date: Sun, 29 Nov 2026 12:00:09 +0000",
    "Reported-Domain: signal-noise.example",
    "",
    `--${boundary}`,
    "Content-Type: message/rfc822",
    "",
    message.raw.toString("utf8").replace(/\r?\n$/, ""),
    "",
    `--${boundary}--`,
    "",
  ].join("\r\n");
}

/** Mailgun's signed webhook payload for a failed or complained message, as its event API shapes them. */
function mailgunCall(event: "failed" | "complained", message: Received, messageId: string, token: string): string {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const data =
    event === "failed"
      ? { id: `fail-${token}`, timestamp: Date.now() / 1000, event, severity: "permanent", reason: "bounce", "delivery-status": { code: 550, "enhanced-code": "5.1.1", message: "5.1.1 The email account that you tried to reach does not exist." }, envelope: { transport: "smtp", sender: message.from, targets: message.to[0] }, message: { headers: { to: message.to[0], "message-id": messageId } }, recipient: message.to[0], tags: [], "user-variables": {} }
      : { id: `complaint-${token}`, timestamp: Date.now() / 1000, event, envelope: {}, message: { headers: { to: message.to[0], "message-id": messageId } }, recipient: message.to[0], tags: [], "user-variables": {} };
  return JSON.stringify({ signature: { timestamp, token, signature: createHmac("sha256", MAILGUN_KEY).update(timestamp + token).digest("hex") }, "event-data": data });
}

describe("bounces and complaints change the next send", () => {
  it("through the bounce mailbox: a DSN and a feedback report into IMAP, presswork mailbox --once, and issue #4 goes to neither", async (ctx) => {
    if (!dovecot) return ctx.skip(unavailable);
    const { root, databaseUrl } = await project();
    const first = await send(request(root, { DATABASE_URL: databaseUrl }));
    expect(first.report?.sent).toBe(5);
    expect(sentTo(BOUNCED).from).toMatch(/^bounces\+3\.[0-9a-f]{24}\.[0-9a-f]{12}@signal-noise\.example$/);

    const client = new ImapFlow({ host: "127.0.0.1", port: dovecot.port, secure: false, auth: { user: "bounces", pass: IMAP_PASSWORD }, logger: false });
    await client.connect();
    await client.append("INBOX", dsnFor(sentTo(BOUNCED)));
    await client.append("INBOX", arfFor(sentTo(COMPLAINED)));
    await client.logout();

    const env = { PRESSWORK_SECRET: SECRET, IMAP_URL: dovecot.url("bounces"), DATABASE_URL: databaseUrl };
    const read = await runCliHere(["mailbox", "--once"], root, env);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).toContain("Read 2 messages");
    const shown = await runCliHere(["subscribers", "show", BOUNCED], root, env);
    expect(shown.stdout).toMatch(/bounced/i);
    expect(shown.stdout).toMatch(/#3|issue 3/);

    smtp.received.length = 0;
    await nextArticle(root);
    // One complaint in five is far over the threshold: the send stops first, and goes when told to.
    await expect(send(request(root, { DATABASE_URL: databaseUrl }, NEXT_WEEK))).rejects.toThrow("issue #3 drew 1 spam complaints for 5 messages sent, a complaint rate of 20 %");
    expect(smtp.received).toHaveLength(0);
    const next = await send({ ...request(root, { DATABASE_URL: databaseUrl }, NEXT_WEEK), ignoreComplaintRate: true });
    expect(next.issue).toBe(4);
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(["ann@example.org", "cat@example.com", "eve@example.net"]);
    expect(next.audience?.suppressed).toBe(2);
    expect(next.feedback?.find((f) => f.issue === 3)).toMatchObject({ sent: 5, complaints: 1, hardBounces: 1 });
  });

  it("through a provider's webhook: Mailgun reports a hard bounce and a complaint to presswork serve, and issue #4 goes to neither", async () => {
    const { root, databaseUrl } = await project();
    const first = await send(request(root, { DATABASE_URL: databaseUrl }));
    expect(first.report?.sent).toBe(5);
    const service = await startService({ databaseUrl, smtp, root, env: { PRESSWORK_SECRET: SECRET, PRESSWORK_MAILGUN_SIGNING_KEY: MAILGUN_KEY } });
    try {
      const messageIdOf = async (m: Received) => ((await simpleParser(m.raw)).messageId ?? "").replace(/^<|>$/g, "");
      for (const body of [mailgunCall("failed", sentTo(BOUNCED), await messageIdOf(sentTo(BOUNCED)), "t1"), mailgunCall("complained", sentTo(COMPLAINED), await messageIdOf(sentTo(COMPLAINED)), "t2")]) {
        const response = await fetch(`${service.url}/webhooks/mailgun`, { method: "POST", headers: { "content-type": "application/json" }, body });
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ recorded: 1, duplicates: 0 });
      }
    } finally {
      await service.close();
    }
    smtp.received.length = 0;
    await nextArticle(root);
    const next = await send({ ...request(root, { DATABASE_URL: databaseUrl }, NEXT_WEEK), ignoreComplaintRate: true });
    expect(next.issue).toBe(4);
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(["ann@example.org", "cat@example.com", "eve@example.net"]);
    expect(next.feedback?.find((f) => f.issue === 3)).toMatchObject({ sent: 5, complaints: 1, hardBounces: 1 });
  });
});
