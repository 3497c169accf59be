import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { classify } from "../../src/delivery/classify.js";
import type { SendReport } from "../../src/delivery/send.js";
import { addressKey } from "../../src/issues/message.js";
import { send, type SendRequest } from "../../src/pipeline/send.js";
import { initRepo } from "../helpers/git.js";
import { removeProjects, tempProject } from "../helpers/project.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";
import { readState } from "../helpers/state.js";

const NOW = new Date("2026-11-29T12:00:00Z");
const SECRET = "rcpt-secret";
let smtp: TestSmtp;
let root: string;

const addresses = (n: number) => Array.from({ length: n }, (_, i) => `r${i}@example.org`);

async function list(all: string[]): Promise<void> {
  await writeFile(join(root, "subs.csv"), `email\n${all.join("\n")}\n`);
}

function request(extra: Partial<SendRequest> = {}): SendRequest {
  return { root, now: NOW, env: { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" }, dryRun: false, retryFailed: false, subscribers: "subs.csv", ...extra };
}

/**
 * Sends to 30 recipients, each refused at RCPT TO with this reply: the send
 * stops as refused, `check` looks at its report, and nobody is suppressed.
 * Once the server accepts them, a run mails each of them once.
 */
async function everyoneRefused(code: number, text: string, check: (report: SendReport | undefined) => void): Promise<void> {
  // A list's people are at many domains.
  const all = addresses(30).map((a, i) => a.replace("@example.org", `@example${i % 3}.org`));
  await list(all);
  for (const a of all) smtp.behave(a, { rcpt: code, text });
  const outcome = await send(request());
  expect(outcome.report?.stopped?.kind).toBe("refused");
  check(outcome.report);
  expect(await (await readState(root)).suppressed()).toEqual(new Set());
  for (const a of all) smtp.behave(a, "accept");
  const again = await send(request());
  expect(again.recorded).toBe("complete");
  expect(smtp.received.map((m) => m.to[0]).sort()).toEqual([...all].sort());
}

beforeEach(async () => {
  smtp = await startSmtp();
  root = await tempProject({ samples: true, built: true });
  const path = join(root, "presswork.config.yaml");
  await writeFile(path, (await readFile(path, "utf8")).replace("retryDelaySeconds: 2", "retryDelaySeconds: 0"));
  initRepo(root);
});
afterEach(async () => smtp.close());
afterAll(removeProjects);

describe("a refusal of the sender at RCPT TO", () => {
  it.each([
    ["554 5.1.8 (Postfix's reject_unknown_sender_domain)", 554, "5.1.8 <bounces+x@news.example>: Sender address rejected: Domain not found"],
    ["553 5.1.7 (a malformed sender)", 553, "5.1.7 Bad sender's mailbox address syntax"],
    ["550 5.1.0 saying \"Sender address rejected\"", 550, "5.1.0 <bounces+x@news.example>: Sender address rejected: User unknown in local recipient table"],
  ])("%s stops the send, suppresses nobody, and the recipients are still owed the issue", async (_what, code, text) => {
    await everyoneRefused(code, text, (r) => {
      expect(r?.stopped?.reason).toContain(`RCPT TO: ${code} ${text.slice(0, 5)}`);
      expect(r?.permFailed).toBe(0);
      expect(r?.notSent).toBeGreaterThanOrEqual(1);
    });
  });
});

describe("a policy refusal at RCPT TO", () => {
  it.each([
    ["550 5.7.1", 550, "5.7.1 RESOLVER.RST.NotAuthorized; not authorized"],
    ["554 5.7.1", 554, "5.7.1 <r3@example.org>: Recipient address rejected: Access denied"],
    ["a bare 554", 554, "Recipient refused"],
  ])("%s of one recipient fails that recipient alone: the send goes on and completes, and the next run does not stop at it", async (_what, code, text) => {
    const all = addresses(30);
    await list(all);
    smtp.behave("r3@example.org", { rcpt: code, text });
    const outcome = await send(request());
    expect(outcome.report?.stopped).toBeUndefined();
    expect(outcome.report).toMatchObject({ sent: 29, tempFailed: 1, permFailed: 0, notSent: 0 });
    expect(outcome.recorded).toBe("complete");
    expect(await (await readState(root)).suppressed()).toEqual(new Set());
    expect((await send(request())).nothingToSend).toBeDefined();
    expect(smtp.offered.get("r3@example.org")).toBe(1);
  });

  it("of three people of one domain side by side (a list sorted by domain) fails them alone: the send goes on, and the next run does not stop at them", async () => {
    // Late in the list, so that three failures stay under the share of failures that stops a send (10 %).
    const all = addresses(60).map((a, i) => (i >= 40 && i <= 42 ? a.replace("@example.org", "@corp.example") : a));
    await list(all);
    // One connection: the three are refused one after the other, nothing delivered between.
    const config = join(root, "presswork.config.yaml");
    await writeFile(config, (await readFile(config, "utf8")).replace(/maxConnections: \d+/, "maxConnections: 1"));
    for (const a of all.slice(40, 43)) smtp.behave(a, { rcpt: 554, text: `5.7.1 <${a}>: Recipient address rejected: Access denied` });
    const outcome = await send(request());
    expect(outcome.report?.stopped).toBeUndefined();
    expect(outcome.report).toMatchObject({ sent: 57, tempFailed: 3, permFailed: 0, notSent: 0 });
    expect((await send(request())).nothingToSend).toBeDefined();
  });

  it.each([
    ["550 5.7.1 (a blocklisted sending address)", 550, "5.7.1 Service unavailable, client host blocked using Spamhaus"],
    ["554 5.7.1 (relaying denied)", 554, "5.7.1 Relay access denied"],
  ])("%s of every recipient stops the send after a few in a row, and all of them stay owed the issue", async (_what, code, text) => {
    await everyoneRefused(code, text, (r) => {
      expect(r?.stopped?.reason).toContain("recipients in a row at RCPT TO");
      expect(r?.stopped?.reason).toContain(`${code} ${text}`);
      expect(r).toMatchObject({ sent: 0, tempFailed: 0, permFailed: 0 });
      expect(r?.notSent).toBeGreaterThanOrEqual(3);
      expect(r?.notSent).toBeLessThan(10);
    });
    const ledger = await (await readState(root)).ledger(3);
    expect([...ledger.states()].filter(([, s]) => s.state === "temp-failed")).toEqual([]);
  });
});

describe("the sender's quota for the day, spent, as Gmail answers at RCPT TO", () => {
  it("stops the send at once, suppressing nobody and failing nobody: those tried are owed the issue", async () => {
    await everyoneRefused(550, "5.4.5 Daily user sending limit exceeded. For more information, visit https://support.google.com/a/answer/166852", (r) => {
      expect(r?.stopped?.reason).toContain("5.4.5 Daily user sending limit exceeded");
      expect(r).toMatchObject({ sent: 0, tempFailed: 0, permFailed: 0 });
    });
  });
});

describe("an address with letters beyond ASCII before its @, refused as bad syntax", () => {
  it("fails that recipient for this issue without suppressing an address another relay can deliver to: 501 5.1.3, as Postfix without SMTPUTF8 answers", async () => {
    await list(["jörg.müller@example.org", "r1@example.org", "r2@example.org"]);
    smtp.behave("jörg.müller@example.org", { rcpt: 501, text: "5.1.3 Bad recipient address syntax" });
    // The same reply about an ASCII address is still its hard bounce.
    smtp.behave("r2@example.org", { rcpt: 501, text: "5.1.3 Bad recipient address syntax" });
    const outcome = await send(request());
    expect(outcome.report).toMatchObject({ sent: 1, tempFailed: 1, permFailed: 1 });
    expect(await (await readState(root)).suppressed()).toEqual(new Set([addressKey("r2@example.org", SECRET)]));
  });

  it.each([
    // A reply about the mailbox, or a policy refusal, whatever its code: as for any address.
    ["553 5.1.1 sorry, no mailbox here by that name", "bounced"],
    ["553 5.7.1 Relay access denied", "failed"],
  ])("%s to such an address is %s", (response, state) => {
    const outcome = classify({ responseCode: Number(response.slice(0, 3)), response, command: "RCPT TO", utf8Recipient: true });
    expect(outcome.state).toBe(state);
    // The relay refusing to relay is a policy refusal, counted towards a refused sender.
    if (response.includes("5.7.1")) expect(outcome).toMatchObject({ policy: true });
  });
});
