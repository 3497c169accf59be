import { describe, expect, it } from "vitest";

interface Rehearsal {
  runs: Array<{ name: string; due: boolean; sends: Array<{ attempt: number; code: number | null; signal: string | null; delivered: number }> }>;
  subscribers: number;
  missing: number;
  duplicates: number;
  record: { number: number; counts: { sent: number; failed: number } };
  ledgerCommitted: string[];
}

// scripts/ is plain JavaScript run by npm run rehearse; a path in a variable keeps the type checker out of it.
const script = "../../scripts/rehearse.js";
const { rehearse } = (await import(script)) as { rehearse: (options?: { subscribers?: number }) => Promise<Rehearsal> };

describe("the publish workflow, rehearsed locally", () => {
  it("builds, plans, sends (killed half way and re-run from a fresh clone), persists, and sends nothing the second time", async () => {
    const result = await rehearse({ subscribers: 300 });
    const [first, second] = result.runs;
    expect(first?.due).toBe(true);
    expect(first?.sends[0]?.signal).toBe("SIGKILL");
    expect(first?.sends.at(-1)?.code).toBe(0);
    expect(result.missing).toBe(0);
    expect(result.duplicates).toBeLessThanOrEqual(5);
    expect(second?.due).toBe(false);
    expect(second?.sends).toEqual([]);
    expect(result.record).toMatchObject({ number: 3, counts: { sent: 300, failed: 0 } });
    expect(result.ledgerCommitted).toEqual(["newsletter/ledger/issue-3.jsonl"]);
  }, 180_000);
});
