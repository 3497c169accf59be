import { generateKeyPairSync } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseAddress } from "../../src/audience/address.js";
import { configSchema } from "../../src/config/schema.js";
import { eventId, type FeedbackEvent } from "../../src/feedback/event.js";
import { DatabaseSink } from "../../src/feedback/store-sink.js";
import { addressKey, listTag } from "../../src/issues/message.js";
import { decodeVerp, readFeedbackToken, verpAddress } from "../../src/issues/verp.js";
import { relayHeaders, send, type SendRequest } from "../../src/pipeline/send.js";
import { openStore } from "../../src/store/database.js";
import { SubscriberList } from "../../src/store/subscribers.js";
import { runCliHere } from "../helpers/cli.js";
import { initRepo } from "../helpers/git.js";
import { NOW, removeProjects, tempProject } from "../helpers/project.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";
import { readState } from "../helpers/state.js";

const SECRET = "feedback-send-secret";
const LIST = "weekly.signal-noise.example";
const BOUNCES = { address: "bounces@signal-noise.example", delimiter: "+" };
const RULES = configSchema.shape.feedback.parse(undefined);
let smtp: TestSmtp;

/** The sample project in a git repository (issues #1 and #2 already sent, to 1,184 and 1,203), fast retries, with or without a bounce address. */
async function project(bounces: boolean): Promise<string> {
  const root = await tempProject({ samples: true, built: true });
  const path = join(root, "presswork.config.yaml");
  let text = (await readFile(path, "utf8")).replace("timeoutSeconds: 60", "timeoutSeconds: 5").replace("retryDelaySeconds: 2", "retryDelaySeconds: 0");
  if (bounces) text = text.replace("  postalAddress:", `  bounces: { address: ${BOUNCES.address} }\n  postalAddress:`);
  await writeFile(path, text);
  initRepo(root);
  return root;
}

const addresses = (n: number) => Array.from({ length: n }, (_, i) => `r${i}@example.org`);
const keyOf = (address: string) => addressKey(address, SECRET);

async function csv(root: string, list: string[]): Promise<void> {
  await writeFile(join(root, "subs.csv"), `email\n${list.join("\n")}\n`);
}

function request(root: string, extra: Partial<SendRequest> = {}, env: Record<string, string> = {}): SendRequest {
  return { root, now: NOW, env: { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1", ...env }, dryRun: false, retryFailed: false, subscribers: "subs.csv", ...extra };
}

/** The subscriber database of a project, with feedback recorded as the mailbox would. */
async function recordFeedback(root: string, events: Array<{ kind: FeedbackEvent["kind"]; address: string; issue: number }>): Promise<string> {
  const url = `sqlite:${join(root, "data/list.sqlite")}`;
  const store = await openStore({ url, root });
  const sink = new DatabaseSink(new SubscriberList(store, LIST, SECRET), RULES);
  for (const e of events) {
    await sink.record({ id: eventId(e.kind, e.address, e.issue), kind: e.kind, recipient: { key: keyOf(e.address), via: "verp" }, issue: e.issue, source: "imap", format: "dsn", at: "2026-11-05T10:00:00.000Z" });
  }
  await store.close();
  return url;
}

beforeEach(async () => {
  smtp = await startSmtp();
});
afterEach(async () => smtp.close());
afterAll(removeProjects);

describe("the send with a bounce address (VERP)", () => {
  it("gives each message its own envelope sender and unsubscribe mailto, keeps From, Message-ID and DKIM as they were, and writes no Return-Path", async () => {
    const root = await project(true);
    await csv(root, addresses(4));
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const dkim = { DKIM_PRIVATE_KEY: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), DKIM_SELECTOR: "pw2026" };
    const notices: string[] = [];
    const outcome = await send({ ...request(root, {}, dkim), onNotice: (line) => notices.push(line) });
    expect(outcome.report?.sent).toBe(4);
    expect(notices.join("\n")).not.toContain("DKIM");
    const der = publicKey.export({ type: "spki", format: "der" }).toString("base64");
    const resolver = async (name: string, type: string) => {
      if (name === "pw2026._domainkey.signal-noise.example" && type === "TXT") return [[`v=DKIM1; k=rsa; p=${der}`]];
      throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
    };
    expect(smtp.received).toHaveLength(4);
    for (const message of smtp.received) {
      const to = message.to[0] as string;
      const key = keyOf(to);
      // The envelope names the recipient and the issue, signed; the address itself is nowhere in it.
      expect(message.from).toBe(verpAddress(BOUNCES, { issue: 3, key }, SECRET));
      expect(message.from).toMatch(new RegExp(`^bounces\\+3\\.${key}\\.[0-9a-f]{12}@signal-noise\\.example$`));
      expect(decodeVerp(message.from.toUpperCase(), SECRET)).toEqual({ issue: 3, key });
      const raw = message.raw.toString("utf8");
      expect(raw).not.toMatch(/^Return-Path:/im);
      expect(raw).not.toMatch(/^X-PM-/im);
      const mail = await simpleParser(message.raw);
      expect(mail.from?.value).toEqual([{ name: "Signal & Noise", address: "newsletter@signal-noise.example" }]);
      expect(mail.messageId).toBe(`<issue-3.${key}.${listTag("weekly.signal-noise.example")}@signal-noise.example>`);
      const unsubscribe = mail.headerLines.find((h) => h.key === "list-unsubscribe")?.line ?? "";
      const mailto = /<(mailto:[^>]+)>/.exec(unsubscribe)?.[1] ?? "";
      expect(mailto).toMatch(new RegExp(`^mailto:unsubscribe\\+3\\.${key}\\.[0-9a-f]{12}@signal-noise\\.example\\?subject=unsubscribe%203\\.${key}\\.[0-9a-f]{12}$`));
      expect(readFeedbackToken("unsubscribe", mailto, SECRET)).toEqual({ issue: 3, key });
      // A bounce token does not unsubscribe, nor the other way round.
      expect(readFeedbackToken("bounce", mailto, SECRET)).toBeUndefined();
      const [signature] = (await dkimVerify(message.raw, { resolver })).results;
      expect(signature?.status.result).toBe("pass");
      const { signingHeaders } = (signature ?? {}) as { signingHeaders?: { keys?: string } };
      const signed = (signingHeaders?.keys ?? "").toLowerCase().split(": ").join(":").split(":");
      expect(signed).toEqual(expect.arrayContaining(["from", "subject", "message-id", "list-id", "list-unsubscribe", "list-unsubscribe-post"]));
    }
  });

  it("sends a test copy from the bounce address without a token", async () => {
    const root = await project(true);
    const { subscribers: _, ...test } = request(root, { to: "editor@example.org" });
    const outcome = await send(test);
    expect(outcome.testSentTo).toBe("editor@example.org");
    expect(smtp.received.map((m) => m.from)).toEqual([BOUNCES.address]);
  });

  it("without a bounce address, sends from the From address, the unsubscribe mailto untagged but its subject naming the recipient and the issue", async () => {
    const root = await project(false);
    await csv(root, addresses(2));
    await send(request(root));
    expect(smtp.received.map((m) => m.from)).toEqual(["newsletter@signal-noise.example", "newsletter@signal-noise.example"]);
    for (const message of smtp.received) {
      const mail = await simpleParser(message.raw);
      const mailto = /<(mailto:[^>]+)>$/.exec(mail.headerLines.find((h) => h.key === "list-unsubscribe")?.line ?? "")?.[1] ?? "";
      const key = addressKey(message.to[0] ?? "", SECRET);
      expect(mailto).toMatch(new RegExp(`^mailto:unsubscribe@signal-noise\\.example\\?subject=unsubscribe%203\\.${key}\\.[0-9a-f]{12}$`));
      // A request sent from anywhere, by a mail client that keeps the subject, names whom to unsubscribe.
      expect(readFeedbackToken("unsubscribe", decodeURIComponent(mailto), SECRET)).toEqual({ issue: 3, key });
    }
  });

  it("adds X-PM-Metadata-issue only through Postmark's relay, which hands it back in its webhooks", () => {
    expect(relayHeaders({ env: { SMTP_URL: "smtp://token:token@smtp.postmarkapp.com:587" } }, 12)).toEqual({ "X-PM-Metadata-issue": "12" });
    expect(relayHeaders({ env: { SMTP_HOST: "SMTP-Broadcasts.PostmarkApp.com" } }, 3)).toEqual({ "X-PM-Metadata-issue": "3" });
    expect(relayHeaders({ env: { SMTP_URL: "smtp://u:p@email-smtp.eu-west-1.amazonaws.com:587" } }, 12)).toBeUndefined();
    expect(relayHeaders({ env: { SMTP_URL: "smtp://u:p@postmarkapp.com.evil.example:587" } }, 12)).toBeUndefined();
    expect(relayHeaders({ env: { SMTP_URL: "smtp://token:token@smtp.postmarkapp.com:587" }, outbox: true }, 12)).toBeUndefined();
  });
});

describe("the send and the subscriber database's suppression list", () => {
  it("leaves out of a CSV list the addresses the database stopped: bounced, complained, unsubscribed, whether the list holds them or not", async () => {
    const root = await project(true);
    await csv(root, addresses(8));
    const url = await recordFeedback(root, [
      { kind: "hard-bounce", address: "r1@example.org", issue: 2 },
      { kind: "complaint", address: "r2@example.org", issue: 2 },
      { kind: "soft-bounce", address: "r4@example.org", issue: 2 },
    ]);
    const store = await openStore({ url, root });
    const list = new SubscriberList(store, LIST, SECRET);
    const r3 = parseAddress("r3@example.org");
    if ("reason" in r3) throw new Error(r3.reason);
    await list.add(r3, undefined, new Date("2026-10-01T00:00:00Z"));
    await list.unsubscribe(list.keyOf("r3@example.org"), "one-click", new Date("2026-11-04T00:00:00Z"));
    await store.close();
    const outcome = await send(request(root, {}, { DATABASE_URL: url }));
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(["r0@example.org", "r4@example.org", "r5@example.org", "r6@example.org", "r7@example.org"]);
    expect(outcome.audience?.suppressed).toBe(3);
    expect((await readState(root)).summary.issues.at(-1)?.complete?.counts).toEqual({ sent: 5, failed: 0, suppressed: 3 });
  });

  it("sends nothing when the database it is told to use cannot be read", async () => {
    const root = await project(true);
    await csv(root, addresses(3));
    await expect(send(request(root, {}, { DATABASE_URL: "postgres://presswork@127.0.0.1:1/none" }))).rejects.toMatchObject({ id: "database-unavailable" });
    await expect(send(request(root, {}, { DATABASE_URL: "postgres://presswork@127.0.0.1:1/none" }))).rejects.toThrow(/cannot read the subscriber database, whose suppression list the send must honour .*Nothing was sent/);
    expect(smtp.received).toHaveLength(0);
    expect((await readState(root)).summary.issues.map((s) => s.issue.number)).toEqual([1, 2]);
  });
});

describe("the complaint rate before a send", () => {
  const complaints = (n: number, issue = 2) => Array.from({ length: n }, (_, i) => ({ kind: "complaint" as const, address: `c${i}@example.org`, issue }));

  it("stops before anything is sent when the last issue passed the threshold, naming the issue, its rate and the threshold", async () => {
    const root = await project(true);
    await csv(root, addresses(3));
    // 4 of 1,203 is 0.33 %, over Gmail's 0.3 %; complaints about issue #1 do not count.
    const url = await recordFeedback(root, [...complaints(4), ...complaints(9, 1)]);
    const summary = join(root, "summary.md");
    const cli = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1", DATABASE_URL: url, GITHUB_STEP_SUMMARY: summary });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("presswork send: issue #2 drew 4 spam complaints for 1203 messages sent, a complaint rate of 0.33 %, over the 0.3 % set in feedback.complaintRate.max.");
    expect(cli.stderr).toContain("--ignore-complaint-rate");
    expect(smtp.received).toHaveLength(0);
    // Nothing started: the next send is still issue #3.
    expect((await readState(root)).summary.issues.map((s) => s.issue.number)).toEqual([1, 2]);
  });

  it("sends under the threshold, and over it when told to, showing the last issues' bounce and complaint rates", async () => {
    const root = await project(true);
    await csv(root, addresses(3));
    const url = await recordFeedback(root, [...complaints(3), { kind: "hard-bounce", address: "h@example.org", issue: 2 }, { kind: "soft-bounce", address: "s@example.org", issue: 1 }]);
    const env = { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1", DATABASE_URL: url };
    const dry = await runCliHere(["send", "--dry-run", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/Bounces and complaints of the last issues/);
    expect(dry.stdout).toMatch(/#1\s+1184\s+1\s+0\.08 %\s+0\s+0\.00 %/);
    expect(dry.stdout).toMatch(/#2\s+1203\s+1\s+0\.08 %\s+3\s+0\.25 %/);

    await recordFeedback(root, complaints(5));
    const refused = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, env);
    expect(refused.code).toBe(1);
    const summary = join(root, "summary.md");
    const sent = await runCliHere(["send", "--ignore-complaint-rate", "--subscribers", "subs.csv", "--now", NOW.toISOString()], root, { ...env, GITHUB_STEP_SUMMARY: summary });
    expect(sent.code, sent.stderr).toBe(0);
    expect(smtp.received).toHaveLength(3);
    expect(sent.stderr).toContain("Sent despite the complaint rate (--ignore-complaint-rate): issue #2 drew 5 spam complaints for 1203 messages sent, a complaint rate of 0.42 %, over the 0.3 % set in feedback.complaintRate.max.");
    const table = await readFile(summary, "utf8");
    expect(table).toContain("| issue | sent | bounced | bounce rate | complaints | complaint rate |");
    expect(table).toContain("| #2 | 1203 | 1 | 0.08 % | 5 | 0.42 % |");
    expect(table).toContain("**Sent despite the complaint rate**");
  });
});
