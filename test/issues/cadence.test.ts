import { writeFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Cadence } from "../../src/config/schema.js";
import { dueByCadence, latestSlot } from "../../src/issues/cadence.js";
import { runCliHere } from "../helpers/cli.js";
import { removeProjects, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

const weekly: Cadence = { every: "week", on: "monday", at: "07:00" };

describe("the newsletter's cadence", () => {
  it.each([
    ["a Monday after the hour", "2026-11-30T07:17:00Z", "2026-11-30T07:00:00.000Z"],
    ["a Monday before the hour", "2026-11-30T06:59:00Z", "2026-11-23T07:00:00.000Z"],
    ["a Sunday", "2026-11-29T12:00:00Z", "2026-11-23T07:00:00.000Z"],
    // London is an hour ahead of UTC in summer: 07:00 there is 06:00 UTC.
    ["a Monday in British Summer Time", "2026-06-01T06:30:00Z", "2026-06-01T06:00:00.000Z"],
    ["the Monday the clocks went forward", "2026-03-30T06:30:00Z", "2026-03-30T06:00:00.000Z"],
  ])("weekly on Monday at 07:00 in London: on %s the last slot is %s", (_what, now, slot) => {
    expect(latestSlot(weekly, "Europe/London", new Date(now)).toISOString()).toBe(slot);
  });

  it("has daily and monthly slots in the site's time zone", () => {
    expect(latestSlot({ every: "day", at: "18:30" }, "America/New_York", new Date("2026-12-02T20:00:00Z")).toISOString()).toBe("2026-12-01T23:30:00.000Z");
    expect(latestSlot({ every: "month", on: 1, at: "09:00" }, "UTC", new Date("2026-01-01T08:00:00Z")).toISOString()).toBe("2025-12-01T09:00:00.000Z");
  });

  it("is due once a slot has passed and no issue was started since", () => {
    const sunday = new Date("2026-11-29T12:00:00Z");
    const monday = new Date("2026-11-30T07:17:00Z");
    expect(dueByCadence(weekly, "Europe/London", new Date("2026-11-23T07:17:00Z"), sunday).due).toBe(false);
    expect(dueByCadence(weekly, "Europe/London", new Date("2026-11-23T07:17:00Z"), monday).due).toBe(true);
    expect(dueByCadence(weekly, "Europe/London", monday, new Date("2026-12-01T07:17:00Z")).due).toBe(false);
    // A run that missed the slot (a schedule that fired late) still sends once.
    expect(dueByCadence(weekly, "Europe/London", new Date("2026-11-23T07:17:00Z"), new Date("2026-12-03T07:17:00Z")).due).toBe(true);
    expect(dueByCadence(undefined, "UTC", monday, monday).due).toBe(true);
  });

  it("is honoured by presswork issue, which says why an issue is or is not due", async () => {
    const root = await tempProject({ samples: true });
    // The sample newsletter goes out weekly, on Monday at 07:00 in London.
    expect(await readFile(join(root, "presswork.config.yaml"), "utf8")).toContain('cadence: { every: week, on: monday, at: "07:00" }');
    const record = join(root, "newsletter/sent.json");
    await writeFile(record, (await readFile(record, "utf8")).replace("2026-11-03T08:00:00Z", "2026-11-24T08:00:00Z"));
    const plan = async (now: string) => JSON.parse((await runCliHere(["issue", "--json", "--now", now], root)).stdout) as { due: boolean; issue: number | null; reason: string; next: { number: number } | null };
    // Issue #2 went out on Tuesday 24 November: Monday 30 November is the next slot.
    expect(await plan("2026-11-29T12:00:00Z")).toMatchObject({ due: false, issue: null, next: { number: 3 } });
    expect((await plan("2026-11-29T12:00:00Z")).reason).toMatch(/the cadence \(weekly on monday at 07:00\) has had no slot since issue #2 went out/);
    expect(await plan("2026-11-30T07:17:00Z")).toMatchObject({ due: true, issue: 3 });
    expect((await plan("2026-11-30T07:17:00Z")).reason).toContain("the cadence's slot of 30 November 2026 07:00 UTC has passed");
    const text = (await runCliHere(["issue", "--now", "2026-11-29T12:00:00Z"], root)).stdout;
    expect(text).toMatch(/^Due: {8}no: the cadence/m);
  });

  it("refuses a cadence that cannot be kept, with its line", async () => {
    const root = await tempProject({ samples: true });
    const path = join(root, "presswork.config.yaml");
    await writeFile(path, (await readFile(path, "utf8")).replace('cadence: { every: week, on: monday, at: "07:00" }', 'cadence: { every: week, on: 3, at: "7am" }'));
    const cli = await runCliHere(["issue", "--now", "2026-11-30T07:17:00Z"], root);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/presswork\.config\.yaml:\d+:\d+ {2}error {2}.*'newsletter\.cadence\.at' .*must be a time of day as HH:MM/);
    expect(cli.stderr).toMatch(/'newsletter\.cadence\.on' .*must be a weekday such as monday for a weekly cadence/);
  });
});
