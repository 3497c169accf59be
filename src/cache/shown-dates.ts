import { askedDates, seedDates } from "../content/dates.js";
import type { CacheStore } from "./store.js";

/** The document of the dates the site shows. */
const DATES = "dates.json";

interface Stored {
  /** The ICU data that wrote them (see intlData): other data may write a date otherwise. */
  intl: string;
  dates: Array<[key: string, text: string]>;
}

/**
 * The ICU data this process formats dates with: its versions of ICU, CLDR
 * and the time-zone data, whether Node carries all of ICU's locales or
 * English alone, and any data it was pointed to instead.
 */
export function intlData(): string {
  const { icu = "none", cldr = "none", tz = "none" } = process.versions;
  const small = (process.config.variables as { icu_small?: unknown }).icu_small === true;
  const dataDir = [process.env["NODE_ICU_DATA"], ...process.execArgv.filter((flag) => flag.startsWith("--icu-data-dir"))].filter(Boolean).join(" ");
  return `icu ${icu}, cldr ${cldr}, tz ${tz}${small ? ", English only" : ""}${dataDir ? `, data ${dataDir}` : ""}`;
}

/**
 * The dates the site's pages and issues show, as the last build wrote them
 * (see rememberedDate): a rebuild that shows only those never starts ICU's
 * date formatting. Read when this process's ICU data wrote them; a record
 * that cannot be read, or is not a list of dates, is as none.
 */
export class ShownDates {
  private constructor(
    private readonly store: CacheStore,
    private readonly intl: string,
    private readonly stored: ReadonlyMap<string, string>,
  ) {}

  /** Reads the store's record and gives its dates to rememberedDate. */
  static open(store: CacheStore): ShownDates {
    const intl = intlData();
    const read = store.read<Stored>(DATES, { warm: true });
    const stored = new Map(read?.intl === intl && Array.isArray(read.dates) ? read.dates.filter((entry) => Array.isArray(entry) && typeof entry[0] === "string" && typeof entry[1] === "string") : []);
    seedDates(stored);
    return new ShownDates(store, intl, stored);
  }

  /**
   * Records the dates this build showed, and those recorded before that the
   * site still has (`current`, by their keys): a rebuild shows only the
   * dates of what changed, and the others are still on its pages. Dates of
   * articles gone or re-dated are dropped.
   */
  save(current: ReadonlySet<string>): void {
    const dates = new Map([...this.stored].filter(([key]) => current.has(key)));
    for (const [key, text] of askedDates()) dates.set(key, text);
    if (dates.size === this.stored.size && [...dates].every(([key, text]) => this.stored.get(key) === text)) return;
    this.store.write(DATES, { intl: this.intl, dates: [...dates].sort(([a], [b]) => (a < b ? -1 : 1)) } satisfies Stored, { warm: true });
  }
}
