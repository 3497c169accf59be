import { spawn } from "node:child_process";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { addressKey } from "../../src/issues/message.js";
import { decodeEvent } from "../../src/state/ledger.js";
import { openStore, stateSettings } from "../../src/state/state.js";
import { runCliHere } from "../helpers/cli.js";
import { initRepo } from "../helpers/git.js";
import { REPO, removeProjects, tempProject } from "../helpers/project.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";
import { readState, stateBackends, type StateBackendCase } from "../helpers/state.js";

afterAll(removeProjects);

const SECRET = "crash-test-secret";
const NOW = "2026-11-29T12:00:00Z";
const COUNT = 2000;
const KILLS = 5;
const CONNECTIONS = 5;

/** A small seeded generator: the kill moments differ run to run of the loop, the same on every test run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** A project in a git repository with `count` subscribers in subs.csv, and the environment that sends it with its state in `backend`. */
async function setup(backend: StateBackendCase, smtp: TestSmtp, count: number, label: string) {
  const root = await tempProject({ samples: true, built: true });
  initRepo(root);
  const addresses = Array.from({ length: count }, (_, i) => `reader${i}@example.org`);
  await writeFile(join(root, "subs.csv"), `email\n${addresses.join("\n")}\n`);
  const stateEnv = await backend.env(label);
  const env = { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1", ...stateEnv };
  return { root, addresses, stateEnv, env, spawnEnv: { ...process.env, GITHUB_ACTIONS: "", PRESSWORK_ROOT: "", ...env } };
}

/** Each ledger part's attempt, and how many times each key was journalled as being sent, read through the store. */
async function ledgerParts(root: string, env: Record<string, string>, issue: number): Promise<{ attempts: Set<string>; sendings: Map<string, number> }> {
  const { config } = await loadConfig(root);
  const store = await openStore(root, stateSettings(config, env), env);
  if (!store) throw new Error(`${root} has no state`);
  const attempts = new Set<string>();
  const sendings = new Map<string, number>();
  for await (const part of store.ledger(issue)) {
    attempts.add(part.attempt);
    for (const line of part.text.split("\n").slice(1)) {
      const event = decodeEvent(line);
      if (event?.state === "sending") sendings.set(event.key, (sendings.get(event.key) ?? 0) + 1);
    }
  }
  await store.close();
  return { attempts, sendings };
}

/** How many times each address received a message. */
function deliveries(smtp: TestSmtp): Map<string, number> {
  const times = new Map<string, number>();
  for (const message of smtp.received) for (const to of message.to) times.set(to, (times.get(to) ?? 0) + 1);
  return times;
}

for (const backend of await stateBackends("send crash tests", { ownCluster: true })) {
  describe(`a send with its state in ${backend.name}, killed with SIGKILL and run again`, () => {
    it(`delivers ${COUNT} messages to everyone, resending at most the messages in flight at each kill`, async () => {
      const smtp = await startSmtp();
      const { root, addresses, stateEnv, env, spawnEnv } = await setup(backend, smtp, COUNT, "crash");
      const random = seeded(20261129);
      const args = [join(REPO, "bin/presswork.js"), "send", "--subscribers", "subs.csv", "--now", NOW];
      const killedAt: number[] = [];

      for (let kill = 0; kill < KILLS; kill++) {
        const before = smtp.received.length;
        const child = spawn(process.execPath, args, { cwd: root, env: spawnEnv, stdio: "ignore" });
        const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
        // Let this run deliver a random share of what is left, then kill it mid-send.
        const target = before + Math.max(20, Math.floor(((COUNT - before) / (KILLS - kill + 1)) * (0.5 + random())));
        while (smtp.received.length < target && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
        child.kill("SIGKILL");
        await exited;
        killedAt.push(smtp.received.length);
      }
      expect(new Set(killedAt).size).toBe(KILLS);
      expect(killedAt.at(-1)).toBeLessThan(COUNT);

      const last = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW], root, env);
      expect(last.code, last.stderr).toBe(0);

      const times = deliveries(smtp);
      expect(addresses.filter((a) => !times.has(a))).toEqual([]);
      const twice = addresses.filter((a) => (times.get(a) ?? 0) > 1);
      expect(twice.length).toBeLessThanOrEqual(KILLS * CONNECTIONS);

      // Each killed attempt's journal was saved by the next run on this machine: one ledger of six attempts.
      const { attempts, sendings } = await ledgerParts(root, stateEnv, 3);
      expect(attempts.size).toBe(KILLS + 1);
      const state = await readState(root, stateEnv);
      const ledger = await state.ledger(3);
      expect(ledger.size).toBe(COUNT);
      expect([...ledger.states()].every(([, s]) => s.state === "sent")).toBe(true);
      // Every duplicate was in flight when a run was killed: the ledger shows a second attempt.
      for (const address of twice) expect(sendings.get(addressKey(address, SECRET)) ?? 0).toBeGreaterThan(1);
      expect(state.summary.issues.at(-1)).toMatchObject({ issue: { number: 3 }, complete: { counts: { sent: COUNT, failed: 0 } } });
      expect(state.summary.locks).toEqual([]);
      await smtp.close();
    }, 240_000);
  });

  if (backend.name === "the git branch") continue;
  describe(`a send with its state in ${backend.name}, whose database goes away mid-send`, () => {
    it("mails nobody after the database is gone but the messages already in flight, says how to save, and a later run finishes the list", async () => {
      const smtp = await startSmtp();
      const { root, addresses, stateEnv, env, spawnEnv } = await setup(backend, smtp, 600, "gone");
      const child = spawn(process.execPath, [join(REPO, "bin/presswork.js"), "send", "--subscribers", "subs.csv", "--now", NOW], { cwd: root, env: spawnEnv, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      while (smtp.received.length < 100 && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
      // Hold the messages in flight at the end of DATA, take the database away, then let them through.
      const release = smtp.hold();
      await new Promise((r) => setTimeout(r, 300));
      const atGone = smtp.received.length;
      const path = stateEnv["DATABASE_URL"]?.replace(/^sqlite:/, "") ?? "";
      if (backend.postgres) await backend.postgres.pause();
      else await rename(path, `${path}.away`);
      await new Promise((r) => setTimeout(r, 500));
      release();
      const code = await exited;
      expect(code, stderr).not.toBe(0);
      expect(stderr).toMatch(/Nothing more is mailed until it can/);
      expect(stderr).toMatch(/presswork state save/);
      // In flight: a message at the end of DATA on each connection, and as many queued for the pool (it is idle below that).
      const inFlight = 2 * CONNECTIONS;
      expect(smtp.received.length - atGone).toBeLessThanOrEqual(inFlight);
      expect(smtp.received.length).toBeLessThan(addresses.length);

      // The database is back: the next run saves what the stopped one journalled and mails the rest.
      if (backend.postgres) await backend.postgres.start();
      else await rename(`${path}.away`, path);
      const again = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW], root, env);
      expect(again.code, again.stderr).toBe(0);
      const times = deliveries(smtp);
      expect(addresses.filter((a) => !times.has(a))).toEqual([]);
      expect(addresses.filter((a) => (times.get(a) ?? 0) > 1).length).toBeLessThanOrEqual(inFlight);
      const state = await readState(root, stateEnv);
      expect((await state.ledger(3)).size).toBe(addresses.length);
      expect(state.summary.issues.at(-1)?.complete?.counts).toMatchObject({ sent: addresses.length, failed: 0 });
      await smtp.close();
    }, 180_000);
  });
}
