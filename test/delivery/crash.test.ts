import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { addressKey } from "../../src/issues/message.js";
import { decodeEvent } from "../../src/state/ledger.js";
import { runCliAsync } from "../helpers/cli.js";
import { git, initRepo, stateFiles } from "../helpers/git.js";
import { REPO, removeProjects, tempProject } from "../helpers/project.js";
import { startSmtp } from "../helpers/smtp.js";
import { readState } from "../helpers/state.js";

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

describe("a send killed with SIGKILL and run again", () => {
  it(`delivers ${COUNT} messages to everyone, resending at most the messages in flight at each kill`, async () => {
    const smtp = await startSmtp();
    const root = await tempProject({ samples: true });
    initRepo(root);
    const addresses = Array.from({ length: COUNT }, (_, i) => `reader${i}@example.org`);
    await writeFile(join(root, "subs.csv"), `email\n${addresses.join("\n")}\n`);
    const env = { ...process.env, PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1", GITHUB_ACTIONS: "", PRESSWORK_ROOT: "" };
    const random = seeded(20261129);
    const args = [join(REPO, "bin/presswork.js"), "send", "--subscribers", "subs.csv", "--now", NOW];
    const killedAt: number[] = [];

    for (let kill = 0; kill < KILLS; kill++) {
      const before = smtp.received.length;
      const child = spawn(process.execPath, args, { cwd: root, env, stdio: "ignore" });
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

    const last = await runCliAsync(["send", "--subscribers", "subs.csv", "--now", NOW], root, { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" });
    expect(last.code, last.stderr).toBe(0);

    const times = new Map<string, number>();
    for (const message of smtp.received) for (const to of message.to) times.set(to, (times.get(to) ?? 0) + 1);
    expect(addresses.filter((a) => !times.has(a))).toEqual([]);
    const twice = addresses.filter((a) => (times.get(a) ?? 0) > 1);
    expect(twice.length).toBeLessThanOrEqual(KILLS * CONNECTIONS);

    // Each killed attempt's journal was saved by the next run on this machine: one ledger of six attempts.
    const parts = stateFiles(root, "ledger/3");
    expect(new Set(parts.map((p) => p.split("/")[2])).size).toBe(KILLS + 1);
    const sendings = new Map<string, number>();
    for (const part of parts) {
      for (const line of git(root, "show", `presswork-state:${part}`).split("\n").slice(1)) {
        const event = decodeEvent(line);
        if (event?.state === "sending") sendings.set(event.key, (sendings.get(event.key) ?? 0) + 1);
      }
    }
    const state = await readState(root);
    const ledger = await state.ledger(3);
    expect(ledger.size).toBe(COUNT);
    expect([...ledger.states()].every(([, s]) => s.state === "sent")).toBe(true);
    // Every duplicate was in flight when a run was killed: the ledger shows a second attempt.
    for (const address of twice) expect(sendings.get(addressKey(address, SECRET)) ?? 0).toBeGreaterThan(1);
    expect(state.summary.issues.at(-1)).toMatchObject({ issue: { number: 3 }, complete: { counts: { sent: COUNT, failed: 0 } } });
    expect(state.summary.locks).toEqual([]);
    await smtp.close();
  }, 180_000);
});
