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
  private readonly intl = intlData();
  private stored: ReadonlyMap<string, string> | undefined;

  private constructor(private readonly store: CacheStore) {}

  /** Gives rememberedDate the store's record, read when it first needs a date. */
  static open(store: CacheStore): ShownDates {
    const shown = new ShownDates(store);
    seedDates(() => shown.recorded());
    return shown;
  }

  /** The dates of the store's record, read once. */
  private recorded(): ReadonlyMap<string, string> {
    if (!this.stored) {
      const read = this.store.read<Stored>(DATES, { warm: true });
      this.stored = new Map(read?.intl === this.intl && Array.isArray(read.dates) ? read.dates.filter((entry) => Array.isArray(entry) && typeof entry[0] === "string" && typeof entry[1] === "string") : []);
    }
    return this.stored;
  }

  /**
   * Records the dates this build showed, and those recorded before that the
   * site still has (`current`, by their keys): a rebuild shows only the
   * dates of what changed, and the others are still on its pages. Dates of
   * articles gone or re-dated are dropped.
   */
  save(current: ReadonlySet<string>): void {
    const asked = askedDates();
    // A build that showed no date leaves the record as it is, unread.
    if (asked.length === 0) return;
    const stored = this.recorded();
    const dates = new Map([...stored].filter(([key]) => current.has(key)));
    for (const [key, text] of asked) dates.set(key, text);
    if (dates.size === stored.size && [...dates].every(([key, text]) => stored.get(key) === text)) return;
    this.store.write(DATES, { intl: this.intl, dates: [...dates].sort(([a], [b]) => (a < b ? -1 : 1)) } satisfies Stored, { warm: true });
  }
}
