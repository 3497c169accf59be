import { spawn } from "node:child_process";
import { chmod, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { shardOf } from "../../src/audience/audience.js";
import { addressKey } from "../../src/issues/message.js";
import { send } from "../../src/pipeline/send.js";
import { runCliAsync, runCliHere, type CliResult } from "../helpers/cli.js";
import { git, initRepo } from "../helpers/git.js";
import { REPO, removeProjects, tempProject } from "../helpers/project.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";
import { readState, stateBackends } from "../helpers/state.js";

const NOW = "2026-11-29T12:00:00Z";
const SECRET = "stop-secret";
let smtp: TestSmtp;
let root: string;
const dirs: string[] = [];

beforeEach(async () => {
  smtp = await startSmtp();
  root = await tempProject({ samples: true, built: true });
  initRepo(root);
});
afterEach(async () => smtp.close());
afterAll(async () => {
  await removeProjects();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const addresses = (n: number) => Array.from({ length: n }, (_, i) => `r${i}@example.org`);
const env = () => ({ PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" });

/** Every address of the list at once, slow to take each message: a send that lasts. */
async function slowList(n: number, slowMs: number): Promise<string[]> {
  const all = addresses(n);
  await writeFile(join(root, "subs.csv"), `email\n${all.join("\n")}\n`);
  for (const a of all) smtp.behave(a, { slowMs });
  return all;
}

/** Starts `presswork send` as a child process; resolves with its result. */
function start(args: string[], extra: Record<string, string> = {}): { child: ReturnType<typeof spawn>; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [join(REPO, "bin/presswork.js"), "send", "--subscribers", "subs.csv", "--now", NOW, ...args], { cwd: root, env: { ...process.env, GITHUB_ACTIONS: "", PRESSWORK_ROOT: "", ...env(), ...extra } });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  return { child, done: new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr }))) };
}

const until = async (condition: () => boolean) => {
  while (!condition()) await new Promise((r) => setTimeout(r, 10));
};

/** How many copies each address got. */
const copies = () => {
  const times = new Map<string, number>();
  for (const m of smtp.received) times.set(m.to[0] ?? "", (times.get(m.to[0] ?? "") ?? 0) + 1);
  return times;
};

describe("a send told to stop", () => {
  // The send runs in a worker thread whose heap is capped, or in the main thread when PRESSWORK_SEND_HEAP_MB is 0.
  it.each([
    ["SIGTERM", 143, "160"],
    ["SIGINT", 130, "160"],
    ["SIGTERM", 143, "0"],
  ] as const)("by %s takes no more recipients, lets the messages in flight finish, writes its summary, releases the lock and exits %i (PRESSWORK_SEND_HEAP_MB=%s)", async (signal, exitCode, heapMb) => {
    const all = await slowList(60, 250);
    const run = start([], { PRESSWORK_SEND_HEAP_MB: heapMb });
    await until(() => smtp.received.length >= 8);
    run.child.kill(signal);
    const result = await run.done;
    expect(result.code, result.stderr).toBe(exitCode);
    expect(result.stdout).toMatch(/^Stopped sending issue #3 /m);
    expect(result.stderr).toContain(`Stopped: stopped by ${signal}: no more recipients were taken, the messages in flight were let finish`);
    const delivered = smtp.received.length;
    expect(delivered).toBeLessThan(60);
    const state = await readState(root);
    expect(state.summary.locks).toEqual([]);
    expect(state.summary.issues.at(-1)?.complete).toBeUndefined();
    // Every message that went out is recorded: none was left in flight.
    const ledger = await state.ledger(3);
    expect(ledger.counts().sent).toBe(delivered);
    expect([...ledger.states()].filter(([, s]) => s.state === "sending")).toEqual([]);
    // The next run sends the rest, and nobody twice.
    for (const a of all) smtp.behave(a, "accept");
    const again = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW], root, env());
    expect(again.code, again.stderr).toBe(0);
    expect([...copies().keys()].sort()).toEqual([...all].sort());
    expect([...copies().values()].every((n) => n === 1)).toBe(true);
  }, 120_000);
});

for (const backend of await stateBackends("concurrent send tests")) {
  describe(`sends of one issue at once, with the state in ${backend.name}`, () => {
    it("refuses an unsharded send while a shard runs, lets the other shard of the split run beside it, and mails nobody twice", async () => {
      const state = await backend.env("race");
      const all = await slowList(40, 20);
      const release = smtp.hold();
      const first = start(["--shard", "1/2"], state);
      // Shard 1/2 is sending: its first messages wait for the server's answer.
      await until(() => smtp.offered.size >= 1);
      // In a process of its own, as sends run: the lock's refusal comes from the send's worker thread to the process's exit code.
      const whole = await runCliAsync(["send", "--subscribers", "subs.csv", "--now", NOW], root, { ...env(), ...state });
      // Another send holds the lock: exit 4, run again later.
      expect(whole.code).toBe(4);
      expect(whole.stderr).toMatch(/issue #3 is being sent by shard 1\/2 by process \d+ on .*: wait for it to finish/);
      const second = start(["--shard", "2/2"], state);
      const mine = new Set(all.filter((x) => shardOf(addressKey(x, SECRET), 2) === 2));
      await until(() => [...smtp.offered.keys()].some((x) => mine.has(x)));
      release();
      const [a, b] = await Promise.all([first.done, second.done]);
      expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
      expect([...copies().keys()].sort()).toEqual([...all].sort());
      expect([...copies().values()].every((n) => n === 1)).toBe(true);
      // Once every shard is done, the unsharded send mails nobody and records the issue complete.
      for (const x of all) smtp.behave(x, "accept");
      const after = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW], root, { ...env(), ...state });
      expect(after.stdout, after.stdout + after.stderr).toMatch(/ {7}0 {2}sent/);
      expect(after.stdout).toContain("Issue #3 is recorded complete");
      expect(smtp.received).toHaveLength(40);
    }, 120_000);
  });
}

describe("a state that cannot be saved", () => {
  it("stops the send before it mails anyone else, and `presswork state save` saves what it journalled once it can", async () => {
    // The project is a clone of a repository on a "GitHub" that later refuses the state branch.
    const base = await mkdtemp(join(tmpdir(), "presswork-unsaved-"));
    dirs.push(base);
    const remote = join(base, "remote.git");
    git(base, "clone", "--quiet", "--bare", root, remote);
    const clone = join(base, "clone");
    git(base, "clone", "--quiet", remote, clone);
    root = clone;
    const all = await slowList(60, 120);
    const hook = join(remote, "hooks/pre-receive");
    const outcome = send({
      root,
      now: new Date(NOW),
      env: { ...env(), PRESSWORK_STATE_REMOTE: "origin" },
      subscribers: "subs.csv",
      dryRun: false,
      retryFailed: false,
      checkpointMs: 300,
    });
    await until(() => smtp.received.length >= 6);
    const release = smtp.hold();
    // A message held unanswered is in flight when the remote starts refusing: the stop cuts it.
    await until(() => smtp.holding() >= 1);
    await writeFile(hook, "#!/bin/sh\necho 'protected branch' >&2\nexit 1\n");
    await chmod(hook, 0o755);
    const result = await outcome;
    const offered = [...smtp.offered.values()].reduce((a, b) => a + b, 0);
    release();
    expect(result.report?.stopped?.kind).toBe("state");
    expect(result.report?.stopped?.reason).toMatch(/the remote refuses pushes to presswork-state, where the send keeps its state: .*protected branch.*Nothing more is mailed until the state can be saved/);
    expect(result.unsaved).toMatch(/run presswork state save/);
    // No recipient was offered a message after the send stopped; those in flight were cut after 5 seconds.
    await new Promise((r) => setTimeout(r, 500));
    expect([...smtp.offered.values()].reduce((a, b) => a + b, 0)).toBe(offered);
    expect(offered).toBeLessThan(60);
    expect(await readdir(join(root, ".presswork-state/attempts"))).toHaveLength(1);
    await rm(hook);
    const saved = await runCliHere(["state", "save"], root, { PRESSWORK_STATE_REMOTE: "origin" });
    expect(saved.stdout).toContain("Saved 1 journal(s) of earlier attempts to the git branch presswork-state of origin, released 1 lock(s) they held");
    for (const a of all) smtp.behave(a, "accept");
    const again = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW], root, { ...env(), PRESSWORK_STATE_REMOTE: "origin" });
    expect(again.code, again.stderr).toBe(0);
    expect([...copies().keys()].sort()).toEqual([...all].sort());
    // The messages cut in flight may have arrived (the server took them after the cut): at most one a connection is sent again.
    expect([...copies().values()].filter((n) => n > 1).length).toBeLessThanOrEqual(5);
    expect(again.stdout).toMatch(/in flight when a run died, sent again/);
  }, 120_000);

  it("mails nobody when the lock cannot be saved in the first place: a rule of the remote's is a setting to fix (exit 3)", async () => {
    const base = await mkdtemp(join(tmpdir(), "presswork-unsaved-"));
    dirs.push(base);
    const remote = join(base, "remote.git");
    git(base, "clone", "--quiet", "--bare", root, remote);
    await writeFile(join(remote, "hooks/pre-receive"), "#!/bin/sh\necho 'protected branch' >&2\nexit 1\n");
    await chmod(join(remote, "hooks/pre-receive"), 0o755);
    root = join(base, "clone");
    git(base, "clone", "--quiet", remote, root);
    await writeFile(join(root, "subs.csv"), `email\n${addresses(5).join("\n")}\n`);
    const cli = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW], root, { ...env(), PRESSWORK_STATE_REMOTE: "origin" });
    expect(cli.code).toBe(3);
    expect(cli.stderr).toMatch(/the remote refuses pushes to presswork-state, where the send keeps its state: .*protected branch.*Leave presswork-state out of the branch protection/);
    expect(smtp.received).toHaveLength(0);
  }, 60_000);
});
