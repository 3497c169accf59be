import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rememberDates } from "../../src/cache/dates.js";
import { CacheStore } from "../../src/cache/store.js";
import type { Config } from "../../src/config/schema.js";
import { displayDate } from "../../src/site/scope.js";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A store in a folder of its own, holding `dates` as its remembered dates when given. */
async function storeWith(dates?: { intl: string; dates: Array<[string, string]> }): Promise<{ store: CacheStore; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), "presswork-dates-"));
  dirs.push(dir);
  const store = CacheStore.open(join(dir, ".presswork-cache"));
  const file = join(dir, ".presswork-cache", "dates.json");
  if (dates) await writeFile(file, JSON.stringify(dates));
  return { store, file };
}

/** The versions rememberDates writes dates under in this process. */
const INTL = `icu ${process.versions.icu ?? "none"}, cldr ${process.versions.cldr ?? "none"}, tz ${process.versions.tz ?? "none"}`;

// The dates a process has written are kept for the rest of it: each case shows instants and zones of its own.
const site = (timezone: string) => ({ site: { language: "en", timezone } }) as Config;

describe("dates shown by earlier builds", () => {
  it("are shown again as written, without ICU, while the ICU data is the same", async () => {
    const at = Date.UTC(2091, 2, 4, 12);
    const { store } = await storeWith({ intl: INTL, dates: [[`long en Pacific/Chatham ${at}`, "the date as written before"]] });
    rememberDates(store);
    expect(displayDate(new Date(at), site("Pacific/Chatham"))).toBe("the date as written before");
  });

  it("are written again when another ICU wrote them, whose data may write them otherwise", async () => {
    const at = Date.UTC(2092, 2, 4, 12);
    const { store } = await storeWith({ intl: "icu 1.0, cldr 1.0, tz 1999a", dates: [[`long en Asia/Kathmandu ${at}`, "written by other data"]] });
    rememberDates(store);
    expect(displayDate(new Date(at), site("Asia/Kathmandu"))).toBe("4 March 2092");
  });

  it("are recorded with each date shown since, for the next build, and not rewritten when none is new", async () => {
    const at = Date.UTC(2093, 6, 1, 23, 30);
    const { store, file } = await storeWith();
    const save = rememberDates(store);
    expect(displayDate(new Date(at), site("America/St_Johns"))).toBe("July 1, 2093");
    save();
    const saved = JSON.parse(await readFile(file, "utf8")) as { intl: string; dates: Array<[string, string]> };
    expect(saved.intl).toBe(INTL);
    expect(saved.dates).toContainEqual([`long en America/St_Johns ${at}`, "July 1, 2093"]);

    // A build that shows nothing new leaves the record as it is.
    await writeFile(file, JSON.stringify({ ...saved, marker: "unchanged" }));
    const again = rememberDates(store);
    displayDate(new Date(at), site("America/St_Johns"));
    again();
    expect(JSON.parse(await readFile(file, "utf8"))).toHaveProperty("marker", "unchanged");
  });
});
