const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/;

/** No time zone is further from UTC than 14 hours (Kiribati's +14:00 is the furthest). */
const MAX_OFFSET_MINUTES = 14 * 60;

/**
 * Parses `YYYY-MM-DD` or an ISO 8601 date-time. A value without an offset is
 * wall-clock time in `timeZone`. Returns undefined for anything that is not a
 * real calendar date (2026-02-30, 24:00, month 13) or whose offset no clock
 * has (+25:00, +02:60).
 */
export function parseDate(value: string, timeZone: string): Date | undefined {
  const match = DATE.exec(value.trim());
  if (!match) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", ms = "0", offset] = match;
  const parts = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const [year, month, day, hour, minute, second] = parts;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, Number(ms.padEnd(3, "0")));
  if (offset === "Z") return new Date(wall);
  if (offset) {
    const sign = offset.startsWith("-") ? -1 : 1;
    const digits = offset.slice(1).replace(":", "");
    const [hours, minutes] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
    if (minutes > 59 || hours * 60 + minutes > MAX_OFFSET_MINUTES) return undefined;
    return new Date(wall - sign * (hours * 60 + minutes) * 60_000);
  }
  let utc = wall - zoneOffset(wall, timeZone);
  utc = wall - zoneOffset(utc, timeZone);
  return new Date(utc);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Milliseconds that `timeZone` is ahead of UTC at the instant `utc`. */
function zoneOffset(utc: number, timeZone: string): number {
  if (timeZone === "UTC") return 0;
  const parts = dateFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(utc));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return asUtc - Math.floor(utc / 1000) * 1000;
}

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function calendarDate(date: Date, timeZone: string): string {
  return dateFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
}

/** Dates formatted by this process, by what each was formatted for (see rememberedDate). */
const formatted = new Map<string, string>();
/** The keys rememberedDate was asked for since seedDates. */
const asked = new Set<string>();
/** The dates an earlier build formatted (see seedDates), read when rememberedDate first lacks one. */
let seed: (() => Iterable<readonly [key: string, text: string]>) | undefined;

/**
 * `format()`, remembered by `key` (the instant and everything that decides
 * how it is written), within a process and, through seedDates and
 * askedDates, from one build to the next: a build that shows only dates an
 * earlier one showed then never starts ICU's date formatting, 10-15 ms the
 * first time a process formats a date.
 */
export function rememberedDate(key: string, format: () => string): string {
  asked.add(key);
  let text = formatted.get(key);
  if (text === undefined && seed) {
    const earlier = seed();
    seed = undefined;
    for (const [known, written] of earlier) if (!formatted.has(known)) formatted.set(known, written);
    text = formatted.get(key);
  }
  if (text === undefined) {
    text = format();
    formatted.set(key, text);
  }
  return text;
}

/**
 * Gives rememberedDate the dates an earlier build formatted with the same
 * ICU data, which `dates` reads when it first lacks one (a build that shows
 * no date reads none), and starts askedDates afresh.
 */
export function seedDates(dates: () => Iterable<readonly [key: string, text: string]>): void {
  asked.clear();
  seed = dates;
}

/** The dates rememberedDate was asked for since seedDates, as [key, text]. */
export function askedDates(): Array<[key: string, text: string]> {
  return [...asked].map((key) => [key, formatted.get(key) as string]);
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** A shared Intl.DateTimeFormat: building one costs far more than using it. */
export function dateFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, options);
    formats.set(key, format);
  }
  return format;
}

/** Regions whose English writes the month before the day ("November 24, 2026"). */
const MONTH_FIRST = ["US", "CA", "PH", "PR", "GU", "AS", "MP", "VI", "UM"];
let monthFirstZones: Set<string> | undefined;
const locales = new Map<string, string>();

/**
 * The locale dates are written in, from the site's language tag and time
 * zone. A tag that names a region is followed as written ("en-GB": 24
 * November 2026, "en-US": November 24, 2026). Plain "en" is read with the
 * time zone's country: month first only where English writes it so (the
 * United States, Canada, the Philippines), day first elsewhere (Europe/London
 * or Europe/Berlin: 24 November 2026), and the language's own default for a
 * zone of no country (UTC). Other languages write dates their own way.
 */
export function dateLocale(language: string, timeZone: string): string {
  const key = `${language}|${timeZone}`;
  let locale = locales.get(key);
  if (locale === undefined) {
    locale = resolveLocale(language, timeZone);
    locales.set(key, locale);
  }
  return locale;
}

function resolveLocale(language: string, timeZone: string): string {
  const tag = new Intl.Locale(language);
  if (tag.language !== "en" || tag.region !== undefined) return language;
  const zone = canonicalZone(timeZone);
  if (zone === "UTC" || zone.startsWith("Etc/") || !zone.includes("/")) return language;
  // ICU lists each region's zones by their canonical names: only the site's zone needs canonicalising (an alias
  // such as US/Eastern), not each of the 60 listed (10-14 ms of every build that writes a date).
  monthFirstZones ??= new Set(MONTH_FIRST.flatMap(zonesOf));
  // International English ("en-001") writes the day first.
  return monthFirstZones.has(zone) ? language : "en-001";
}

/** The time zones of a region, as this runtime's ICU lists them (a getter before V8 13, a method since). */
function zonesOf(region: string): string[] {
  const locale = new Intl.Locale(`und-${region}`) as Intl.Locale & { getTimeZones?: () => string[]; timeZones?: string[] };
  return locale.getTimeZones?.() ?? locale.timeZones ?? [];
}

function canonicalZone(timeZone: string): string {
  return dateFormat("en", { timeZone }).resolvedOptions().timeZone;
}
