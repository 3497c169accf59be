import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Ledger } from "../../src/delivery/ledger.js";

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function ledgerFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "presswork-ledger-"));
  dirs.push(dir);
  const path = join(dir, "issue-1.jsonl");
  await writeFile(path, text);
  return path;
}

const key = (i: number) => i.toString(16).padStart(24, "0");
const event = (i: number, state: string, attempt = 1, response = "") => `${JSON.stringify({ issue: 1, key: key(i), state, attempt, at: "2026-11-29T12:00:00.000Z", ...(response ? { response } : {}) })}\n`;

describe("the ledger", () => {
  it("reads a ledger of several megabytes whole: last states, attempts, multibyte text across read boundaries", async () => {
    const lines = [`${JSON.stringify({ type: "issue", issue: 1, date: "2026-11-29T12:00:00.000Z", subject: "Ünïcödé №1", articles: ["a"] })}\n`];
    for (let i = 0; i < 30_000; i++) lines.push(event(i, "sending", 1, "ответ сервера ✓".repeat(5)), event(i, i % 3 === 0 ? "temp-failed" : "sent", 1, "réponse"));
    lines.push(event(3, "sending", 2), event(3, "sent", 2));
    const path = await ledgerFile(lines.join(""));
    expect((await readFile(path)).length).toBeGreaterThan(4 << 20);
    const ledger = Ledger.open(path);
    expect(ledger.problems).toEqual([]);
    expect(ledger.header?.subject).toBe("Ünïcödé №1");
    expect(ledger.size).toBe(30_000);
    expect(ledger.state(key(0))).toEqual({ state: "temp-failed", attempts: 1 });
    expect(ledger.state(key(1))).toEqual({ state: "sent", attempts: 1 });
    expect(ledger.state(key(3))).toEqual({ state: "sent", attempts: 2 });
    expect([...ledger.states()].filter(([, s]) => s.state === "sent")).toHaveLength(20_001);
  });

  it("skips a torn last line and a corrupt or unknown-state line, by line number, and appends after a fresh line break", async () => {
    const path = await ledgerFile(`${event(1, "sent")}{"issue":1,"key":\n${event(2, "lost-in-space")}${event(3, "sending")}{"issue":1,"key":"0000`);
    const ledger = Ledger.open(path);
    expect(ledger.problems).toEqual([
      { line: 2, torn: false },
      { line: 3, torn: false },
      { line: 5, torn: true },
    ]);
    expect(ledger.state(key(3))).toEqual({ state: "sending", attempts: 1 });
    ledger.append({ issue: 1, key: key(3), state: "sent", attempt: 1, at: "2026-11-29T12:00:01.000Z" });
    ledger.close();
    const again = Ledger.open(path);
    expect(again.state(key(3))?.state).toBe("sent");
    expect(again.problems).toEqual([
      { line: 2, torn: false },
      { line: 3, torn: false },
      { line: 5, torn: false },
    ]);
  });

  it("tells a duplicate in this run's list from a first sight, without counting either as a recipient with an event", async () => {
    const ledger = Ledger.open(await ledgerFile(event(1, "sent")));
    expect([ledger.firstSight(key(1)), ledger.firstSight(key(2)), ledger.firstSight(key(2)), ledger.firstSight(key(1))]).toEqual([true, true, false, false]);
    expect(ledger.size).toBe(1);
    expect(ledger.state(key(2))).toBeUndefined();
    expect([...ledger.states()].map(([k]) => k)).toEqual([key(1)]);
    ledger.append({ issue: 1, key: key(2), state: "sending", attempt: 1, at: "2026-11-29T12:00:01.000Z" });
    ledger.close();
    expect(ledger.state(key(2))).toEqual({ state: "sending", attempts: 1 });
    expect(ledger.firstSight(key(2))).toBe(false);
    expect(ledger.size).toBe(2);
  });

  it("learns another shard's recipients: the unknown ones, and every one it sent", async () => {
    const mine = Ledger.open(await ledgerFile(event(1, "temp-failed") + event(2, "sent")));
    mine.absorb(Ledger.open(await ledgerFile(event(1, "sent") + event(2, "temp-failed") + event(3, "perm-failed"))));
    expect([1, 2, 3].map((i) => mine.state(key(i))?.state)).toEqual(["sent", "sent", "perm-failed"]);
  });
});
