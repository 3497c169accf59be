import { describe, expect, it } from "vitest";
import { newAttempt } from "../../src/state/state.js";

describe("an attempt's name", () => {
  const job = { GITHUB_ACTIONS: "true", GITHUB_RUN_ID: "900", GITHUB_RUN_ATTEMPT: "1", GITHUB_JOB: "send" };

  it.each([
    ["two sends of one GitHub job", job],
    ["two sends of one process", {}],
  ])("differs for %s within one second, and sorts in the order they started", (_, env) => {
    const first = newAttempt(new Date("2026-11-30T07:17:00.120Z"), env);
    const second = newAttempt(new Date("2026-11-30T07:17:00.870Z"), env);
    expect(first.name).not.toBe(second.name);
    expect([second.name, first.name].sort()).toEqual([first.name, second.name]);
    expect(first.name).toMatch(/^20261130T071700\.120Z\./);
  });

  it("says who made it: the GitHub run, its attempt and job, or the machine and process", () => {
    expect(newAttempt(new Date("2026-11-30T07:17:00Z"), job).name).toBe("20261130T071700.000Z.gh-900-1-send");
    expect(newAttempt(new Date("2026-11-30T07:17:00Z"), {}, { index: 2, count: 4 }).name).toMatch(new RegExp(`^20261130T071700\\.000Z\\.local-.+-${process.pid}-s2of4$`));
  });
});
