import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
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

beforeEach(async () => {
  smtp = await startSmtp();
  root = await tempProject({ samples: true });
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
    const all = addresses(30);
    await list(all);
    for (const a of all) smtp.behave(a, { rcpt: code, text });
    const outcome = await send(request());
    const r = outcome.report;
    expect(r?.stopped?.kind).toBe("refused");
    expect(r?.stopped?.reason).toContain(`RCPT TO: ${code} ${text.slice(0, 5)}`);
    expect(r?.permFailed).toBe(0);
    expect(r?.notSent).toBeGreaterThanOrEqual(1);
    const state = await readState(root);
    expect(await state.suppressed()).toEqual(new Set());
    // The sender's domain fixed: everyone gets the issue.
    for (const a of all) smtp.behave(a, "accept");
    const again = await send(request());
    expect(again.recorded).toBe("complete");
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual([...all].sort());
  });
});
