import { createHmac } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { send } from "../../src/pipeline/send.js";
import { runCliHere } from "../helpers/cli.js";
import { backends } from "../helpers/databases.js";
import { git, initRepo, stateFile, stateFiles } from "../helpers/git.js";
import { removeProjects, tempProject } from "../helpers/project.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";
import { readState } from "../helpers/state.js";

const NOW = "2026-11-29T12:00:00Z";
const databases = await backends("the send's own database");
const SECRET = "migrate-secret";
const keyOf = (address: string) => createHmac("sha256", SECRET).update(address).digest("hex").slice(0, 24);
let smtp: TestSmtp;
beforeEach(async () => {
  smtp = await startSmtp();
});
afterEach(async () => smtp.close());
const clones: string[] = [];
afterAll(() => Promise.all([removeProjects(), ...clones.map((dir) => rm(dir, { recursive: true, force: true }))]));

/** A project as an earlier version left it: the record, a ledger of issue #3 half sent, a suppression, all committed on main. */
async function earlierVersion(): Promise<string> {
  const root = await tempProject({ samples: true });
  await mkdir(join(root, "newsletter/ledger"), { recursive: true });
  const header = { type: "issue", issue: 3, date: "2026-11-28T07:17:00.000Z", subject: "Signal & Noise #3: as it began", articles: ["tag:signal-noise.example,2026-11-24:open-silicon-fab"] };
  const event = (address: string, state: string) => JSON.stringify({ issue: 3, key: keyOf(address), state, attempt: 1, at: "2026-11-28T07:17:05.000Z", messageId: `<issue-3.${keyOf(address)}@signal-noise.example>`, ...(state === "sent" ? { code: 250 } : {}) });
  await writeFile(join(root, "newsletter/ledger/issue-3.jsonl"), [JSON.stringify(header), event("r0@example.org", "sending"), event("r0@example.org", "sent"), event("r1@example.org", "sending"), event("r1@example.org", "sent")].join("\n") + "\n");
  await writeFile(join(root, "newsletter/suppressed.jsonl"), `${JSON.stringify({ key: keyOf("r2@example.org"), code: 550, issue: 2, at: "2026-11-03T08:00:00.000Z" })}\n`);
  await writeFile(join(root, "subs.csv"), `email\n${Array.from({ length: 6 }, (_, i) => `r${i}@example.org`).join("\n")}\n`);
  initRepo(root);
  return root;
}

describe("carrying the state of earlier versions over", () => {
  it("reads newsletter/ once, carries it to the state branch, says so, and resumes the issue it had started", async () => {
    const root = await earlierVersion();
    // Before any send, a build and `presswork issue` read the old files.
    const before = JSON.parse((await runCliHere(["issue", "--json", "--now", NOW], root)).stdout) as { inProgress: number | null; lastSent: number | null };
    expect(before).toMatchObject({ inProgress: 3, lastSent: 2, issue: 3, due: true });
    const notices: string[] = [];
    const outcome = await send({ root, now: new Date(NOW), env: { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" }, subscribers: "subs.csv", dryRun: false, retryFailed: false, onNotice: (line) => notices.push(line) });
    expect(notices, notices.join("\n")).toContain(
      "Carried 2 issue(s) of newsletter/sent.json, 1 ledger file(s) of newsletter/ledger/ and 1 suppression(s) of newsletter/suppressed.jsonl over to the git branch presswork-state (local, not pushed anywhere). They are no longer read from there: remove them from the repository when convenient.",
    );
    // Issue #3 goes on as it began: its articles and subject, nobody the old ledger had mailed, nobody suppressed.
    expect(outcome.subject).toBe("Signal & Noise #3: as it began");
    expect(outcome.report).toMatchObject({ sent: 3, skippedSent: 2 });
    expect(outcome.audience?.suppressed).toBe(1);
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(["r3@example.org", "r4@example.org", "r5@example.org"]);
    const state = await readState(root);
    expect(state.summary.issues.map((s) => [s.issue.number, Boolean(s.complete)])).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
    expect(state.summary.issues[0]?.complete?.counts).toEqual({ sent: 1184, failed: 3, suppressed: 12 });
    expect(JSON.parse(stateFile(root, "migrated.json") ?? "{}")).toMatchObject({ issues: 2, ledgers: 1, suppressions: 1 });
    // The converted ledger is in the compact format.
    const converted = stateFiles(root, "ledger/3").find((p) => p.includes("migrated")) as string;
    expect(stateFile(root, converted)?.split("\n")).toHaveLength(5);
    // Once carried over, the old files are not read again: editing them changes nothing.
    await writeFile(join(root, "newsletter/sent.json"), JSON.stringify({ issues: [] }));
    const after = JSON.parse((await runCliHere(["issue", "--json", "--now", NOW], root)).stdout) as { lastSent: number | null };
    expect(after.lastSent).toBe(3);
    expect((await send({ root, now: new Date(NOW), env: { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" }, subscribers: "subs.csv", dryRun: false, retryFailed: false })).nothingToSend).toContain("Nothing new since issue #3");
    expect(smtp.received).toHaveLength(3);
  });

  it("refuses a record it cannot read, with its line, before anything is carried or sent", async () => {
    const root = await tempProject({ samples: true, newsletter: { "sent.json": '{ "issues": [ { "number": 1, \n' } });
    await writeFile(join(root, "subs.csv"), "email\nr0@example.org\n");
    initRepo(root);
    const cli = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW], root, { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" });
    expect(cli.code).toBe(5);
    expect(cli.stderr).toMatch(/newsletter\/sent\.json cannot be carried over to the state branch: line \d+/);
    expect(smtp.received).toHaveLength(0);
    expect(stateFiles(root)).toEqual([]);
  });
});

describe("the build reads the record from the state", () => {
  it("sees the same issues on a laptop (the local branch) and in a clone that fetched the state branch, and never from the checked-out files", async () => {
    const root = await earlierVersion();
    await send({ root, now: new Date(NOW), env: { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" }, subscribers: "subs.csv", dryRun: false, retryFailed: false });
    const built = await runCliHere(["build", "--now", NOW, "--out", "dist"], root);
    expect(built.code, built.stderr).toBe(0);
    const index = await readFile(join(root, "dist/issues/index.html"), "utf8");
    expect(index).toContain('href="/issues/3/"');
    // A clone of main (its newsletter/ files out of date) with the state fetched sees the same record.
    const clone = `${root}-clone`;
    clones.push(clone);
    git(root, "clone", "--quiet", root, clone);
    await writeFile(join(clone, "newsletter/sent.json"), JSON.stringify({ issues: [] }));
    const fetched = await runCliHere(["state", "fetch"], clone, { PRESSWORK_STATE_REMOTE: "origin" });
    expect(fetched.stdout).toContain("Fetched the git branch presswork-state of origin: 3 issue(s), the last #3 (complete)");
    const plan = JSON.parse((await runCliHere(["issue", "--json", "--now", NOW], clone)).stdout) as { lastSent: number };
    expect(plan.lastSent).toBe(3);
    const cloneBuild = await runCliHere(["build", "--now", NOW, "--out", "dist"], clone);
    expect(cloneBuild.code, cloneBuild.stderr).toBe(0);
    expect(await readFile(join(clone, "dist/issues/index.html"), "utf8")).toBe(index);
  });

  for (const database of databases) {
    it(`is the send's own: a send whose environment alone names the database (${database.name}) plans the next issue from the database`, async () => {
      const root = await tempProject({ samples: true });
      await writeFile(join(root, "subs.csv"), "email\nr0@example.org\nr1@example.org\n");
      initRepo(root);
      // Given to the send, not to this process: the send's build reads the record with it too.
      const env = { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1", PRESSWORK_STATE_STORE: "database", DATABASE_URL: await database.fresh("send-own") };
      expect([process.env["PRESSWORK_STATE_STORE"], process.env["DATABASE_URL"]]).toEqual([undefined, undefined]);
      const first = await send({ root, now: new Date(NOW), env, subscribers: "subs.csv", dryRun: false, retryFailed: false });
      expect(first.recorded).toBe("complete");
      await writeFile(join(root, "articles/later-story.md"), "---\ntitle: A Later Story\ndate: 2026-12-03T09:00:00Z\nsummary: What happened next.\n---\n\nWhat happened next, in a few words.\n");
      const next = await send({ root, now: new Date("2026-12-06T12:00:00Z"), env, subscribers: "subs.csv", dryRun: false, retryFailed: false });
      expect(next.nothingToSend).toBeUndefined();
      expect(next.issue).toBe((first.issue ?? 0) + 1);
      expect(next.subject).toContain("A Later Story");
      const mail = await Promise.all(smtp.received.map(async (m) => ({ to: m.to, subject: (await simpleParser(m.raw)).subject })));
      expect(mail.filter((m) => m.subject === next.subject).flatMap((m) => m.to).sort()).toEqual(["r0@example.org", "r1@example.org"]);
    });
  }
});
