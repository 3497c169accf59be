import { WEEKDAYS, type Cadence } from "../config/schema.js";

/** A wall-clock time in a time zone. */
interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

/** The wall-clock time of an instant in `timeZone`. */
function wallTime(instant: Date, timeZone: string): WallTime {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", weekday: "short" })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>;
  return {
    year: Number(parts["year"]),
    month: Number(parts["month"]),
    day: Number(parts["day"]),
    hour: Number(parts["hour"]),
    minute: Number(parts["minute"]),
    weekday: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(parts["weekday"] ?? ""),
  };
}

/** The instant a wall-clock time in `timeZone` names (the later one when a clock change makes it ambiguous). */
function instantOf(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): Date {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  let instant = guess;
  // Two rounds settle the zone's offset, across a change of offset too.
  for (let round = 0; round < 2; round++) {
    const seen = wallTime(new Date(instant), timeZone);
    const shown = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute);
    instant += guess - shown;
  }
  return new Date(instant);
}

/** The latest slot of a cadence at or before `now`: when the last issue was due. */
export function latestSlot(cadence: Cadence, timeZone: string, now: Date): Date {
  const [hour, minute] = cadence.at.split(":").map(Number) as [number, number];
  const today = wallTime(now, timeZone);
  const at = (year: number, month: number, day: number) => instantOf(year, month, day, hour, minute, timeZone);
  const dayBefore = (year: number, month: number, day: number, back: number) => {
    const d = new Date(Date.UTC(year, month - 1, day - back));
    return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()] as const;
  };
  if (cadence.every === "day") {
    const slot = at(today.year, today.month, today.day);
    return slot.getTime() <= now.getTime() ? slot : at(...dayBefore(today.year, today.month, today.day, 1));
  }
  if (cadence.every === "week") {
    const target = WEEKDAYS.indexOf(cadence.on as (typeof WEEKDAYS)[number]);
    const back = (today.weekday - target + 7) % 7;
    const slot = at(...dayBefore(today.year, today.month, today.day, back));
    return slot.getTime() <= now.getTime() ? slot : at(...dayBefore(today.year, today.month, today.day, back + 7));
  }
  const dayOfMonth = cadence.on as number;
  const slot = at(today.year, today.month, dayOfMonth);
  if (slot.getTime() <= now.getTime()) return slot;
  return today.month === 1 ? at(today.year - 1, 12, dayOfMonth) : at(today.year, today.month - 1, dayOfMonth);
}

/** Whether an issue is due by the cadence: its latest slot has passed and no issue was started at or after it. */
export function dueByCadence(cadence: Cadence | undefined, timeZone: string, lastStarted: Date | undefined, now: Date): { due: boolean; slot?: Date } {
  if (!cadence) return { due: true };
  const slot = latestSlot(cadence, timeZone, now);
  return { due: !lastStarted || lastStarted.getTime() < slot.getTime(), slot };
}

/** The cadence in words, for messages: "weekly on monday at 07:00". */
export function describeCadence(cadence: Cadence): string {
  if (cadence.every === "day") return `daily at ${cadence.at}`;
  if (cadence.every === "week") return `weekly on ${cadence.on} at ${cadence.at}`;
  return `monthly on day ${cadence.on} at ${cadence.at}`;
}
