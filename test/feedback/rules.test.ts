import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse.js";
import type { FeedbackConfig } from "../../src/config/schema.js";
import { complaintRateCheck, decide, tallyIssues, type PastEvent } from "../../src/feedback/rules.js";
import { CONFIG_WITH_BOUNCES } from "../mailbox/identity.js";

const defaults = parseConfig(CONFIG_WITH_BOUNCES).config?.feedback as FeedbackConfig;
const day = (n: number) => new Date(Date.UTC(2026, 11, n)).toISOString();
const soft = (id: string, at: string, issue?: number): PastEvent => ({ id, kind: "soft-bounce", at, ...(issue !== undefined ? { issue } : {}) });

describe("what feedback does to the list", () => {
  it("has the documented defaults: 3 soft bounces within 30 days, complaint rate 0.3 %", () => {
    expect(defaults).toEqual({ softBounces: { count: 3, withinDays: 30 }, complaintRate: { max: 0.003, minimumSent: 0 } });
  });

  it("suppresses a hard bounce at once, unsubscribes and suppresses a complaint, unsubscribes an unsubscribe request", () => {
    expect(decide({ id: "a", kind: "hard-bounce", issue: 4, status: "5.1.1", at: day(1) }, [], defaults)).toEqual({ suppress: true, unsubscribe: false, reason: "hard bounce of issue #4 (5.1.1)" });
    expect(decide({ id: "b", kind: "complaint", issue: 4, at: day(1) }, [], defaults)).toMatchObject({ suppress: true, unsubscribe: true });
    expect(decide({ id: "c", kind: "unsubscribe", at: day(1) }, [], defaults)).toMatchObject({ suppress: false, unsubscribe: true });
    for (const kind of ["delayed", "auto-reply", "delivered", "not-ours"] as const) {
      expect(decide({ id: "d", kind, at: day(1) }, [], defaults)).toMatchObject({ suppress: false, unsubscribe: false });
    }
  });

  it("suppresses on the third soft bounce within 30 days, counting each issue once", () => {
    const history = [soft("1", day(1), 1), soft("1b", day(2), 1), soft("2", day(8), 2)];
    expect(decide({ id: "3", kind: "soft-bounce", issue: 3, at: day(15) }, history.slice(0, 2), defaults)).toMatchObject({ suppress: false, reason: "soft bounce 2 of 3 within 30 days of issue #3" });
    expect(decide({ id: "3", kind: "soft-bounce", issue: 3, at: day(15) }, history, defaults)).toMatchObject({ suppress: true, reason: "3 soft bounces within 30 days, the last of issue #3" });
  });

  it("forgets soft bounces older than the window and those before a confirmed delivery", () => {
    const old = [soft("1", day(1), 1), soft("2", day(8), 2)];
    expect(decide({ id: "3", kind: "soft-bounce", issue: 3, at: new Date(Date.UTC(2027, 0, 5)).toISOString() }, old, defaults).suppress).toBe(false);
    const delivered: PastEvent = { id: "d", kind: "delivered", issue: 2, at: day(9) };
    expect(decide({ id: "3", kind: "soft-bounce", issue: 3, at: day(15) }, [...old, delivered], defaults)).toMatchObject({ suppress: false, reason: "soft bounce 1 of 3 within 30 days of issue #3" });
    const strict = { ...defaults, softBounces: { count: 1, withinDays: 7 } };
    expect(decide({ id: "3", kind: "soft-bounce", at: day(15) }, [], strict).suppress).toBe(true);
  });

  it("changes nothing for an event recorded before", () => {
    expect(decide({ id: "x", kind: "hard-bounce", at: day(2) }, [{ id: "x", kind: "hard-bounce", at: day(2) }], defaults)).toMatchObject({ duplicate: true, suppress: false });
  });

  it("stops the send when the last issue's complaint rate passed the threshold", () => {
    const [last] = tallyIssues(
      [
        ...Array.from({ length: 4 }, (_, i) => ({ kind: "complaint" as const, issue: 7, key: `k${i}` })),
        { kind: "complaint", issue: 7, key: "k0" },
        { kind: "hard-bounce", issue: 7, key: "h" },
        { kind: "soft-bounce", issue: 7, key: "h" },
        { kind: "soft-bounce", issue: 7, key: "s" },
      ],
      new Map([[7, 1000]]),
    );
    expect(last).toEqual({ issue: 7, sent: 1000, complaints: 4, hardBounces: 1, softBounces: 1 });
    const check = complaintRateCheck(last, defaults);
    expect(check).toMatchObject({ stop: true, rate: 0.004 });
    expect(check.stop && check.reason).toMatch(/issue #7 drew 4 spam complaints for 1000 messages sent, a complaint rate of 0\.4 %, over the 0\.3 % set in feedback\.complaintRate\.max/);
    expect(complaintRateCheck({ issue: 7, sent: 1000, complaints: 3, hardBounces: 0, softBounces: 0 }, defaults).stop).toBe(false);
    expect(complaintRateCheck({ issue: 7, sent: 10, complaints: 1, hardBounces: 0, softBounces: 0 }, { ...defaults, complaintRate: { max: 0.003, minimumSent: 100 } }).stop).toBe(false);
    expect(complaintRateCheck(undefined, defaults).stop).toBe(false);
  });
});
