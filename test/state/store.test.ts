import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeEvent, encodeHeader, Ledger } from "../../src/state/ledger.js";
import { openStore, readSuppressed, stateSettings, takeLock } from "../../src/state/state.js";
import { PressworkError } from "../../src/errors/error.js";
import type { Attempt, FrozenIssue, LockRecord, Shard, StateChange, StateStore } from "../../src/state/store.js";
import { git } from "../helpers/git.js";
import { runCliHere } from "../helpers/cli.js";
import { NOW, REPO, removeProjects, tempProject } from "../helpers/project.js";
import { stateBackends } from "../helpers/state.js";

const LIST = "weekly.store-test.example";
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  await removeProjects();
});

/** A git repository with a commit on main: the branch backend's home, and the root a database backend resolves from. */
async function repository(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "presswork-state-"));
  dirs.push(root);
  git(root, "init", "--quiet", "--initial-branch=main");
  git(root, "commit", "--quiet", "--allow-empty", "-m", "Project");
  return root;
}

const config = { state: { branch: "presswork-state", store: "branch" as const }, newsletter: { listId: LIST } };
const key = (i: number) => i.toString(16).padStart(24, "0");
const ledgerPart = (issue: number, attempt: string, offset: number, keys: number[], state: "sent" | "temp-failed" = "sent"): StateChange => ({
  kind: "ledger",
  part: { issue, attempt, offset, text: `${encodeHeader({ issue, attempt, started: "2026-11-30T07:17:00.000Z", offset })}\n${keys.map((k) => encodeEvent({ key: key(k), state, attempt: 1, seconds: 1, code: 250 })).join("\n")}\n` },
});
const frozen = (number: number, subject: string): FrozenIssue => ({ number, date: "2026-11-30T07:00:00.000Z", subject, articles: ["tag:a"], content: { html: "<p>%%unsubscribe_url%%</p>", text: "%%greeting%%", preheader: "p", webUrl: `https://example.org/issues/${number}/` } });

describe("the send's state in a database not given", () => {
  it("says to set DATABASE_URL, and under GitHub Actions to make it a repository secret, which the build job sees", async () => {
    const root = await repository();
    const settings = stateSettings({ ...config, state: { ...config.state, store: "database" as const } }, {});
    const refusal = async (env: Record<string, string>) => (await openStore(root, settings, env).catch((error: unknown) => error)) as PressworkError;
    const here = await refusal({});
    expect(here).toBeInstanceOf(PressworkError);
    expect(here.message).toMatch(/DATABASE_URL is not set and data\/presswork\.sqlite does not exist: set DATABASE_URL to the database that holds it$/);
    expect((await refusal({ GITHUB_ACTIONS: "true" })).message).toMatch(/Under GitHub Actions, make it a repository secret as well as the environment's: an environment's secret reaches only the jobs that name the environment, and the build job reads the sent issues from the database too$/);
  });

  it("lets check go on with a warning, as CI runs it for a fork's pull request, and fails a build, which would publish without the sent issues", async () => {
    const project = await tempProject({ samples: true });
    const env = { PRESSWORK_STATE_STORE: "database", DATABASE_URL: "" };
    const check = await runCliHere(["check", "--now", NOW.toISOString()], project, env);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout + check.stderr).toMatch(/^state:1:1 {2}warning {2}cannot read the record of sent issues, so what they link to and show is not checked: the send's state is in the database/m);
    expect((await runCliHere(["check", "--strict", "--now", NOW.toISOString()], project, env)).code).not.toBe(0);
    const build = await runCliHere(["build", "--now", NOW.toISOString()], project, env);
    expect(build.code).toBe(1);
    expect(build.stderr).toMatch(/^state:1:1 {2}error {2}cannot read the record of sent issues: the send's state is in the database/m);
  });
});

for (const backend of await stateBackends("state store tests")) {
  describe(`the send's state in ${backend.name}`, () => {
    const open = async (): Promise<{ store: StateStore; root: string; env: Record<string, string> }> => {
      const root = await repository();
      const env = await backend.env("state");
      const store = (await openStore(root, stateSettings(config, env), env)) as StateStore;
      return { store, root, env };
    };

    it("keeps every attempt's records and reads their union: the first attempt's frozen issue, the latest completion, each shard", async () => {
      const { store } = await open();
      await store.write([{ kind: "started", issue: frozen(1, "first"), attempt: "20261130T070000Z.a" }], "a starts #1");
      await store.write([{ kind: "started", issue: frozen(1, "again"), attempt: "20261130T080000Z.b" }], "b starts #1 too");
      await store.write([{ kind: "complete", issue: 1, attempt: "20261130T080000Z.b", at: "2026-11-30T08:10:00.000Z", counts: { sent: 5, failed: 1, suppressed: 0 } }], "b completes");
      await store.write([{ kind: "complete", issue: 1, attempt: "20261130T090000Z.c", at: "2026-11-30T09:10:00.000Z", counts: { sent: 6, failed: 0, suppressed: 0 } }], "c completes");
      await store.write([{ kind: "started", issue: frozen(2, "second"), attempt: "20261201T070000Z.d" }], "d starts #2");
      await store.write([{ kind: "shard-done", issue: 2, shard: { index: 1, count: 2 }, attempt: "20261201T070000Z.d", at: "2026-12-01T07:05:00.000Z", counts: { sent: 3, failed: 0, suppressed: 1 } }], "a shard");
      const { issues, locks } = await store.summary();
      expect(issues.map((i) => [i.issue.number, i.issue.subject, i.startedBy])).toEqual([
        [1, "first", "20261130T070000Z.a"],
        [2, "second", "20261201T070000Z.d"],
      ]);
      expect(issues[0]?.issue.content?.html).toBe("<p>%%unsubscribe_url%%</p>");
      expect(issues[0]?.complete).toEqual({ at: "2026-11-30T09:10:00.000Z", attempt: "20261130T090000Z.c", counts: { sent: 6, failed: 0, suppressed: 0 } });
      expect(issues[1]?.complete).toBeUndefined();
      expect([...(issues[1]?.shardsDone ?? new Map()).keys()]).toEqual(["1/2"]);
      expect(locks).toEqual([]);
      await store.close();
    });

    it("hands a ledger's parts back in the order they were written, every attempt's, and a part saved again with more lines replaces it", async () => {
      const { store } = await open();
      await store.write([ledgerPart(3, "20261130T081700Z.second", 0, [4, 5])], "second attempt");
      await store.write([ledgerPart(3, "20261130T071700Z.first", 900, [3]), ledgerPart(3, "20261130T071700Z.first", 0, [1, 2])], "first attempt, two parts");
      await store.write([ledgerPart(4, "20261130T071700Z.first", 0, [9])], "another issue");
      // A save whose mark was lost cuts the same part again, with what was appended since.
      await store.write([ledgerPart(3, "20261130T081700Z.second", 0, [4, 5, 6])], "second attempt, saved again");
      const parts = [];
      for await (const part of store.ledger(3)) parts.push(`${part.attempt}@${part.offset}`);
      expect(parts).toEqual(["20261130T071700Z.first@0", "20261130T071700Z.first@900", "20261130T081700Z.second@0"]);
      const ledger = await Ledger.read(3, store.ledger(3));
      expect(ledger.size).toBe(6);
      await store.close();
    });

    it("keeps suppressions from every attempt", async () => {
      const { store } = await open();
      await store.write([{ kind: "suppressions", part: { attempt: "a", offset: 0, text: `${key(1)} 550 3 2026-11-30T07:00:00.000Z\n` } }], "a");
      await store.write([{ kind: "suppressions", part: { attempt: "b", offset: 0, text: `${key(2)} 550 3 2026-11-30\n${key(3)} 551 3 2026-11-30\n` } }], "b");
      expect(await readSuppressed(store)).toEqual(new Set([key(1), key(2), key(3)]));
      await store.close();
    });

    it("writes nothing when the function deciding a write throws, and throws what it threw", async () => {
      const { store } = await open();
      await expect(
        store.write(() => {
          throw new PressworkError("state-damaged", "refused by the guard");
        }, "refused"),
      ).rejects.toThrow("refused by the guard");
      await expect(store.write((summary) => (summary.issues.length === 0 ? [{ kind: "started", issue: frozen(1, "only if none"), attempt: "a" }] : []), "guarded")).resolves.toBeUndefined();
      expect((await store.summary()).issues).toHaveLength(1);
      await store.close();
    });

    describe("one lock per issue", () => {
      const attempt = (name: string, extra: Partial<Attempt> = {}): Attempt => ({ name, started: new Date().toISOString(), host: "runner", pid: 1, ...extra });
      const lock = (name: string, shard?: Shard, extra: Partial<Attempt> = {}, heartbeat = new Date()): LockRecord => ({
        issue: 3,
        attempt: attempt(name, extra),
        since: heartbeat.toISOString(),
        heartbeat: heartbeat.toISOString(),
        ...(shard ? { shard } : {}),
      });
      const now = () => new Date();

      it("covers every shard and the unsharded send together: only different shards of one split run at once", async () => {
        const { store } = await open();
        await takeLock(store, lock("shard-1", { index: 1, count: 2 }), now);
        await takeLock(store, lock("shard-2", { index: 2, count: 2 }), now);
        await expect(takeLock(store, lock("whole"), now)).rejects.toMatchObject({ id: "locked" });
        await expect(takeLock(store, lock("whole"), now)).rejects.toThrow(/issue #3 is being sent by shard 1\/2 by process 1 on runner/);
        await expect(takeLock(store, lock("again-1", { index: 1, count: 2 }), now)).rejects.toThrow(/shard 1\/2/);
        await expect(takeLock(store, lock("other-split", { index: 3, count: 3 }), now)).rejects.toMatchObject({ id: "locked" });
        expect((await store.summary()).locks.map((l) => l.attempt.name).sort()).toEqual(["shard-1", "shard-2"]);
        await store.close();
      });

      it("takes over a lock silent for five minutes, and a lock of an earlier attempt of the same GitHub run", async () => {
        const { store } = await open();
        await takeLock(store, lock("old", undefined, {}, new Date(Date.now() - 6 * 60_000)), () => new Date(Date.now() - 6 * 60_000));
        await takeLock(store, lock("new"), now);
        expect((await store.summary()).locks.map((l) => l.attempt.name)).toEqual(["new"]);
        const run = (runAttempt: number) => ({ github: { runId: "812", runAttempt, job: "send" } });
        await store.write([{ kind: "unlock", issue: 3, attempt: "new" }], "free");
        await takeLock(store, lock("run-812-1", undefined, run(1)), now);
        await expect(takeLock(store, lock("run-813-1", undefined, { github: { runId: "813", runAttempt: 1, job: "send" } }), now)).rejects.toThrow(/GitHub run 812 \(attempt 1, job send\)/);
        await takeLock(store, lock("run-812-2", undefined, run(2)), now);
        expect((await store.summary()).locks.map((l) => l.attempt.name)).toEqual(["run-812-2"]);
        await store.close();
      });

      it("gives each issue to exactly one of two processes racing for its lock, and keeps both processes' ledger parts", async () => {
        const { store, root, env } = await open();
        const ISSUES = 12;
        const start = Date.now() + 1500;
        const race = (runner: string) => raceProcess(root, env, runner, ISSUES, start);
        const [a, b] = await Promise.all([race("runner-a"), race("runner-b")]);
        const won = (out: string) => out.split("\n").filter((l) => l.startsWith("won ")).map((l) => Number(l.slice(4)));
        const lost = (out: string) => out.split("\n").filter((l) => l.startsWith("lost ")).map((l) => Number(l.slice(5)));
        const all = Array.from({ length: ISSUES }, (_, i) => i + 1);
        expect([...won(a), ...won(b)].sort((x, y) => x - y), a + b).toEqual(all);
        expect([...lost(a), ...lost(b)].sort((x, y) => x - y)).toEqual(all);
        const summary = await store.summary();
        expect(summary.locks.map((l) => l.issue).sort((x, y) => x - y)).toEqual(all);
        // Every ledger part both wrote, at once, is there.
        expect((await Ledger.read(1, store.ledger(1))).size).toBe(2 * ISSUES);
        await store.close();
      }, 120_000);
    });
  });
}

/**
 * A second process that, from `start` on, tries to lock issues 1 to `issues`
 * in turn as `runner` (another machine, so neither takes the other's lock
 * over when its process has gone), and writes a ledger part of its own for
 * each. Prints "won N" or "lost N" for each issue.
 */
function raceProcess(root: string, env: Record<string, string>, runner: string, issues: number, start: number): Promise<string> {
  const script = `
    const { openStore, stateSettings, takeLock } = await import(${JSON.stringify(join(REPO, "lib/state/state.js"))});
    const { encodeEvent, encodeHeader } = await import(${JSON.stringify(join(REPO, "lib/state/ledger.js"))});
    const config = ${JSON.stringify(config)};
    const store = await openStore(${JSON.stringify(root)}, stateSettings(config, process.env), process.env);
    await new Promise((r) => setTimeout(r, ${start} - Date.now()));
    const runner = ${JSON.stringify(runner)};
    for (let issue = 1; issue <= ${issues}; issue++) {
      const now = new Date().toISOString();
      const lock = { issue, attempt: { name: runner + "-" + issue, started: now, host: runner, pid: process.pid }, since: now, heartbeat: now };
      try {
        await takeLock(store, lock, () => new Date());
        console.log("won " + issue);
      } catch (error) {
        if (error.id !== "locked") throw error;
        console.log("lost " + issue);
      }
      const key = (runner === "runner-a" ? "a" : "b") + issue.toString(16).padStart(23, "0");
      const text = encodeHeader({ issue: 1, attempt: runner, started: now, offset: issue * 100 }) + "\\n" + encodeEvent({ key, state: "sent", attempt: 1, seconds: 1, code: 250 }) + "\\n";
      await store.write([{ kind: "ledger", part: { issue: 1, attempt: runner, offset: issue * 100, text } }], "part");
    }
    await store.close();
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${runner} exited ${code}: ${err}`))));
  });
}
