import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { FeedbackEvent } from "../../src/feedback/event.js";
import { JsonLinesSink } from "../../src/mailbox/jsonl-sink.js";

const event = (id: string): FeedbackEvent => ({ id, kind: "hard-bounce", recipient: { key: "0c5fb8459579d6951a1d5fec", address: "jane@example.org", via: "dsn" }, issue: 3, source: "imap", format: "dsn", at: "2026-12-01T09:00:00.000Z" });

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));
/** A path in a new temporary folder, removed after the tests. */
async function inTemp(path: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "presswork-sink-"));
  dirs.push(dir);
  return join(dir, path);
}

describe("the events file", () => {
  it("writes keyed hashes only, and each event once across runs", async () => {
    const path = await inTemp("sub/events.jsonl");
    const sink = await JsonLinesSink.open(path);
    await sink.record(event("a"));
    await sink.record(event("a"));
    await sink.close();
    const again = await JsonLinesSink.open(path);
    await again.record(event("a"));
    await again.record(event("b"));
    await again.close();
    const text = await readFile(path, "utf8");
    expect(text).not.toContain("jane");
    expect(text.trim().split("\n").map((l) => (JSON.parse(l) as { id: string; key: string; via: string }))).toMatchObject([
      { id: "a", key: "0c5fb8459579d6951a1d5fec", via: "dsn" },
      { id: "b", key: "0c5fb8459579d6951a1d5fec", via: "dsn" },
    ]);
  });

  it("skips a torn last line from a crash and records that event again on a line of its own", async () => {
    const path = await inTemp("events.jsonl");
    await writeFile(path, `${JSON.stringify({ id: "a" })}\n{"id":"b","kind":"hard-bo`);
    const sink = await JsonLinesSink.open(path);
    expect(sink.has("a")).toBe(true);
    expect(sink.has("b")).toBe(false);
    await sink.record(event("b"));
    await sink.close();
    const lines = (await readFile(path, "utf8")).split("\n");
    expect(lines[2] && (JSON.parse(lines[2]) as { id: string }).id).toBe("b");
  });
});
