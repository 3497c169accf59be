import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { intlData, ShownDates } from "../../src/cache/shown-dates.js";
import { CacheStore } from "../../src/cache/store.js";
import type { Config } from "../../src/config/schema.js";
import { build } from "../../src/pipeline/build.js";
import { displayDate, displayKey } from "../../src/site/scope.js";
import { NOW, removeProjects, tempProject } from "../helpers/project.js";

const dirs: string[] = [];
afterAll(() => Promise.all([removeProjects(), ...dirs.map((dir) => rm(dir, { recursive: true, force: true }))]));

/** A store in a folder of its own, whose record of shown dates holds `text` when given. */
async function storeWith(text?: string): Promise<{ store: CacheStore; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), "presswork-dates-"));
  dirs.push(dir);
  const store = CacheStore.open(join(dir, ".presswork-cache"));
  const file = join(dir, ".presswork-cache", "dates.json");
  if (text !== undefined) await writeFile(file, text);
  return { store, file };
}

const recorded = async (file: string) => JSON.parse(await readFile(file, "utf8")) as { intl: string; dates: Array<[string, string]> };

// A process keeps the dates it formatted: each case shows instants and zones of its own.
const site = (timezone: string) => ({ site: { language: "en", timezone } }) as Config;

describe("the dates a site shows, remembered in the cache", () => {
  it("are shown again as recorded, without ICU, while the ICU data is the same", async () => {
    const at = new Date(Date.UTC(2091, 2, 4, 12));
    const { store } = await storeWith(JSON.stringify({ intl: intlData(), dates: [[displayKey(at, site("Pacific/Chatham")), "the date as written before"]] }));
    ShownDates.open(store);
    expect(displayDate(at, site("Pacific/Chatham"))).toBe("the date as written before");
  });

  it("are written again when other ICU data wrote them, which may write them otherwise", async () => {
    const at = new Date(Date.UTC(2092, 2, 4, 12));
    const { store } = await storeWith(JSON.stringify({ intl: "icu 1.0, cldr 1.0, tz 1999a", dates: [[displayKey(at, site("Asia/Kathmandu")), "written by other data"]] }));
    ShownDates.open(store);
    expect(displayDate(at, site("Asia/Kathmandu"))).toBe("4 March 2092");
  });

  it("are written again when the record is not a list of dates, and the build goes on", async () => {
    const at = new Date(Date.UTC(2094, 0, 15, 12));
    for (const text of [JSON.stringify({ intl: intlData(), dates: {} }), JSON.stringify({ intl: intlData(), dates: [[displayKey(at, site("Africa/Accra")), null], 7] }), "{not json"]) {
      const { store } = await storeWith(text);
      expect(() => ShownDates.open(store), text).not.toThrow();
      expect(displayDate(at, site("Africa/Accra")), text).toBe("15 January 2094");
    }
  });

  it("keep those the site still shows and those shown since, drop the others, and are not written again when nothing changed", async () => {
    const kept = new Date(Date.UTC(2095, 4, 1, 12));
    const gone = new Date(Date.UTC(2095, 4, 2, 12));
    const shown = new Date(Date.UTC(2095, 6, 1, 23, 30));
    const key = (date: Date) => displayKey(date, site("America/St_Johns"));
    const { store, file } = await storeWith(JSON.stringify({ intl: intlData(), dates: [[key(kept), "May 1, 2095"], [key(gone), "May 2, 2095"]] }));
    const dates = ShownDates.open(store);
    expect(displayDate(shown, site("America/St_Johns"))).toBe("July 1, 2095");
    dates.save(new Set([key(kept), key(shown)]));
    expect((await recorded(file)).dates).toEqual([
      [key(kept), "May 1, 2095"],
      [key(shown), "July 1, 2095"],
    ]);

    // A build that shows only dates recorded before, or none, leaves the record as it is.
    const before = await readFile(file, "utf8");
    await writeFile(file, before.replace("{", '{"marker":"unchanged",'));
    const again = ShownDates.open(store);
    expect(displayDate(shown, site("America/St_Johns"))).toBe("July 1, 2095");
    again.save(new Set([key(kept), key(shown)]));
    ShownDates.open(store).save(new Set([key(kept), key(shown)]));
    expect(await recorded(file)).toHaveProperty("marker", "unchanged");
  });

  it("are recorded by a build for each article it publishes, and an article's old date goes when it is re-dated", async () => {
    const root = await tempProject({ samples: true });
    const cacheDir = join(root, "cache");
    const config = { site: { language: "en", timezone: "Europe/London" } } as Config;
    const first = await build({ root, now: NOW, out: join(root, "dist"), cacheDir });
    const article = first.articles.find((a) => a.slug === "municipal-broadband");
    if (!article) throw new Error("the sample has no municipal-broadband article");
    const { dates } = await recorded(join(cacheDir, "dates.json"));
    expect(dates.map(([key]) => key)).toEqual(expect.arrayContaining(first.articles.map((a) => displayKey(a.published, config))));
    expect(dates).toContainEqual([displayKey(article.published, config), displayDate(article.published, config)]);

    const path = join(root, "articles/municipal-broadband.md");
    const text = await readFile(path, "utf8");
    expect(text).toContain("date: 2026-11-05\n");
    await writeFile(path, text.replace("date: 2026-11-05\n", "date: 2026-11-06\n"));
    const second = await build({ root, now: NOW, out: join(root, "dist"), cacheDir });
    expect(second.files.flatMap((f) => f.messages.filter((m) => m.fatal))).toEqual([]);
    const left = (await recorded(join(cacheDir, "dates.json"))).dates.map(([key]) => key);
    expect(left).not.toContain(displayKey(article.published, config));
    expect(left).toContain(displayKey(new Date("2026-11-06T00:00:00Z"), config));
    expect(left).toEqual(expect.arrayContaining(second.articles.map((a) => displayKey(a.published, config))));

    // A body edit plans only its article's page, which shows no other date: the others stay recorded, updated ones too.
    const body = await readFile(path, "utf8");
    expect(body).toContain("We measure this by whether businesses stay.");
    await writeFile(path, body.replace("We measure this by whether businesses stay.", "We measure this by whether the businesses stay."));
    await build({ root, now: NOW, out: join(root, "dist"), cacheDir });
    const updated = new Date("2026-11-02T09:15:00+01:00");
    expect(second.articles.some((a) => a.updated.getTime() === updated.getTime()), "the sample has an article updated 2026-11-02").toBe(true);
    expect((await recorded(join(cacheDir, "dates.json"))).dates.map(([key]) => key)).toEqual(expect.arrayContaining([...left, displayKey(updated, config)]));
  });
});
