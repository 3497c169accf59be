import { describe, expect, it } from "vitest";
import { decodeEvent, encodeEvent, encodeHeader, Ledger, type LedgerEvent } from "../../src/state/ledger.js";
import type { LedgerPart } from "../../src/state/store.js";

const key = (i: number) => i.toString(16).padStart(24, "0");
const part = (issue: number, attempt: string, offset: number, events: LedgerEvent[], headerIssue = issue): LedgerPart => ({
  issue,
  attempt,
  offset,
  text: `${encodeHeader({ issue: headerIssue, attempt, started: "2026-11-30T07:17:00.000Z", offset })}\n${events.map(encodeEvent).join("\n")}\n`,
});
async function* parts(...list: LedgerPart[]): AsyncGenerator<LedgerPart> {
  yield* list;
}

describe("the ledger's format", () => {
  it("writes each event back as it was read", () => {
    const events: LedgerEvent[] = [
      { key: "0123456789abcdef01234567", state: "sending", attempt: 1 },
      { key: "0123456789abcdef01234567", state: "sent", attempt: 1, seconds: 12, code: 250 },
      { key: "fedcba9876543210fedcba98", state: "perm-failed", attempt: 2, seconds: 3601, code: 550, response: "550 5.1.1 j***@example.org: User unknown" },
      { key: "fedcba9876543210fedcba98", state: "not-sent", attempt: 3, seconds: 0, code: 554, response: "554 5.7.1 refused" },
      { key: "000000000000000000000000", state: "temp-failed", attempt: 1, seconds: 5, response: "Connection closed" },
      { key: "ffffffffffffffffffffffff", state: "outboxed", attempt: 1, seconds: 1 },
    ];
    for (const event of events) expect(decodeEvent(encodeEvent(event))).toEqual(event);
  });

  it("costs a recipient under 64 bytes: a sending and a sent line with a five-digit time", () => {
    const k = "9f86d081884c7d659a2feaa0";
    const bytes = `${encodeEvent({ key: k, state: "sending", attempt: 1 })}\n${encodeEvent({ key: k, state: "sent", attempt: 1, seconds: 21_000, code: 250 })}\n`.length;
    expect(bytes).toBeLessThanOrEqual(64);
  });

  it("never writes an address: keys must be keyed hashes", () => {
    expect(() => encodeEvent({ key: "jane@example.org", state: "sent", attempt: 1 })).toThrow("a ledger key is 24 hex digits");
  });

  it("puts a reply with a line break on one line", () => {
    expect(encodeEvent({ key: key(1), state: "temp-failed", attempt: 1, seconds: 1, code: 451, response: "451 a\r\nb" }).split("\n")).toHaveLength(1);
  });
});

describe("reading an issue's ledger", () => {
  it("takes the union of every attempt's parts, in the order they were written; sent stays sent", async () => {
    const ledger = await Ledger.read(
      3,
      parts(
        part(3, "20261130T071700Z.a", 0, [
          { key: key(1), state: "sending", attempt: 1 },
          { key: key(1), state: "temp-failed", attempt: 1, seconds: 1, code: 451 },
          { key: key(2), state: "sending", attempt: 1 },
          { key: key(2), state: "sent", attempt: 1, seconds: 1, code: 250 },
          { key: key(3), state: "sending", attempt: 1 },
        ]),
        part(3, "20261130T081700Z.b", 0, [
          { key: key(1), state: "sending", attempt: 2 },
          { key: key(1), state: "sent", attempt: 2, seconds: 1, code: 250 },
          { key: key(2), state: "not-sent", attempt: 2, seconds: 1, code: 554 },
        ]),
      ),
    );
    expect(ledger.state(key(1))).toEqual({ state: "sent", attempts: 2 });
    expect(ledger.state(key(2))?.state).toBe("sent");
    expect(ledger.state(key(3))).toEqual({ state: "sending", attempts: 1 });
    expect(ledger.counts()).toEqual({ sent: 2, failed: 0 });
  });

  it("refuses a part whose header names another issue, naming both", async () => {
    await expect(Ledger.read(3, parts(part(3, "20261130T071700Z.a", 0, [{ key: key(1), state: "sent", attempt: 1, seconds: 0, code: 250 }], 2)))).rejects.toThrow(
      "ledger part 0 of attempt 20261130T071700Z.a is the ledger of issue #2, not of issue #3: refused",
    );
  });

  it("reports a line that is not an event with its part and line, and reads the rest", async () => {
    const good = part(3, "20261130T071700Z.a", 0, [{ key: key(1), state: "sent", attempt: 1, seconds: 0, code: 250 }]);
    const ledger = await Ledger.read(3, parts({ ...good, text: `${good.text}{"issue":3,"key":"garbage"}\n${encodeEvent({ key: key(2), state: "sent", attempt: 1, seconds: 1, code: 250 })}\n` }));
    expect(ledger.problems).toEqual([{ attempt: "20261130T071700Z.a", offset: 0, line: 3 }]);
    expect(ledger.counts().sent).toBe(2);
  });
});
