import { formattedDates, knownDates } from "../content/dates.js";
import type { CacheStore } from "./store.js";

/** The document of the dates builds have shown. */
const DATES = "dates.json";

interface ShownDates {
  /** The versions of ICU, CLDR and the time-zone data that wrote them: other data may write a date otherwise. */
  intl: string;
  dates: Array<[key: string, text: string]>;
}

/**
 * Tells rememberedDate (see dates.ts) of the dates earlier builds showed,
 * when this Node's ICU data wrote them; returns what records the dates
 * shown since, when there are new ones. The document holds every date
 * shown, about one an article, so it grows with the archive.
 */
export function rememberDates(store: CacheStore): () => void {
  const intl = `icu ${process.versions.icu ?? "none"}, cldr ${process.versions.cldr ?? "none"}, tz ${process.versions.tz ?? "none"}`;
  const stored = store.read<ShownDates>(DATES);
  const known = stored?.intl === intl ? stored.dates : [];
  knownDates(known);
  return () => {
    const dates = formattedDates();
    if (dates.length > known.length) store.write(DATES, { intl, dates } satisfies ShownDates);
  };
}
