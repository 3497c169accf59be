import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { addressKey } from "../../src/issues/message.js";
import { runCliAsync } from "../helpers/cli.js";
import { REPO, removeProjects, tempProject } from "../helpers/project.js";
import { startSmtp } from "../helpers/smtp.js";

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

    const events = (await readFile(join(root, "newsletter/ledger/issue-3.jsonl"), "utf8"))
      .split("\n")
      .filter((l) => l.startsWith('{"issue"'))
      .map((l) => JSON.parse(l) as { key: string; state: string });
    const final = new Map<string, string>();
    const sendings = new Map<string, number>();
    for (const e of events) {
      final.set(e.key, e.state);
      if (e.state === "sending") sendings.set(e.key, (sendings.get(e.key) ?? 0) + 1);
    }
    expect(final.size).toBe(COUNT);
    expect([...final.values()].every((s) => s === "sent")).toBe(true);
    // Every duplicate was in flight when a run was killed: the ledger shows a second attempt.
    for (const address of twice) expect(sendings.get(addressKey(address, SECRET)) ?? 0).toBeGreaterThan(1);
    const record = JSON.parse(await readFile(join(root, "newsletter/sent.json"), "utf8"));
    expect(record.issues.at(-1)).toMatchObject({ number: 3, counts: { sent: COUNT, failed: 0 } });
    await smtp.close();
  }, 180_000);
});
