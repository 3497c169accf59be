import { describe, expect, it } from "vitest";
import { dateFormat, dateLocale, parseDate } from "../../src/content/dates.js";

const iso = (value: string, zone = "UTC") => parseDate(value, zone)?.toISOString();

describe("parseDate", () => {
  it("reads a date alone as midnight in the site's time zone", () => {
    expect(iso("2026-11-24")).toBe("2026-11-24T00:00:00.000Z");
    expect(iso("2026-11-24", "Europe/London")).toBe("2026-11-24T00:00:00.000Z");
    // British Summer Time: midnight in London is 23:00 UTC the day before.
    expect(iso("2026-07-01", "Europe/London")).toBe("2026-06-30T23:00:00.000Z");
    expect(iso("2026-07-01", "America/New_York")).toBe("2026-07-01T04:00:00.000Z");
    expect(iso("2026-01-15", "Asia/Kolkata")).toBe("2026-01-14T18:30:00.000Z");
  });

  it("reads a time with or without seconds, after a T or a space, with or without surrounding spaces", () => {
    expect(iso("2026-11-24T08:30")).toBe("2026-11-24T08:30:00.000Z");
    expect(iso("2026-11-24 08:30:15")).toBe("2026-11-24T08:30:15.000Z");
    expect(iso("  2026-11-24T08:30:15.25  ")).toBe("2026-11-24T08:30:15.250Z");
    expect(iso("2026-11-24T08:30:15.123456")).toBe("2026-11-24T08:30:15.123Z");
  });

  it("takes an explicit offset over the site's time zone", () => {
    expect(iso("2026-11-24T08:30:00Z", "Asia/Tokyo")).toBe("2026-11-24T08:30:00.000Z");
    expect(iso("2026-11-24T08:30:00+02:00", "America/New_York")).toBe("2026-11-24T06:30:00.000Z");
    expect(iso("2026-11-24T08:30:00-0330")).toBe("2026-11-24T12:00:00.000Z");
    expect(iso("2026-11-24T08:30+05:45")).toBe("2026-11-24T02:45:00.000Z");
  });

  it("keeps the wall-clock time across daylight-saving changes", () => {
    expect(iso("2026-03-28T12:00", "Europe/London")).toBe("2026-03-28T12:00:00.000Z");
    expect(iso("2026-03-30T12:00", "Europe/London")).toBe("2026-03-30T11:00:00.000Z");
    expect(iso("2026-10-26T12:00", "Europe/London")).toBe("2026-10-26T12:00:00.000Z");
  });

  it("knows leap years", () => {
    expect(iso("2028-02-29")).toBe("2028-02-29T00:00:00.000Z");
    expect(iso("2000-02-29")).toBe("2000-02-29T00:00:00.000Z");
    expect(parseDate("2027-02-29", "UTC")).toBeUndefined();
    expect(parseDate("2100-02-29", "UTC")).toBeUndefined();
  });

  it("refuses what is not a real date or time, rather than rolling it over", () => {
    for (const value of ["2026-13-01", "2026-00-10", "2026-02-30", "2026-04-31", "2026-11-00", "2026-11-24T24:00", "2026-11-24T23:60", "2026-11-24T23:59:60"]) {
      expect(parseDate(value, "UTC"), value).toBeUndefined();
    }
  });

  it("refuses an offset no clock has, rather than moving the date: more than 14 hours, or 60 minutes or more", () => {
    expect(iso("2026-11-24T08:30:00+14:00")).toBe("2026-11-23T18:30:00.000Z");
    expect(iso("2026-11-24T08:30:00-14:00")).toBe("2026-11-24T22:30:00.000Z");
    for (const value of ["2026-11-01T10:00:00+99:99", "2026-11-01T10:00:00+25:00", "2026-11-01T10:00:00+14:01", "2026-11-01T10:00:00-1430", "2026-11-01T10:00:00+02:60"]) {
      expect(parseDate(value, "UTC"), value).toBeUndefined();
    }
  });

  it("refuses other shapes: short fields, words, other separators, an offset without a time", () => {
    for (const value of ["", "2026-1-1", "26-11-24", "24/11/2026", "2026/11/24", "November 24, 2026", "2026-11-24T8:30", "2026-11-24Z", "2026-11-24T08:30+2", "tomorrow"]) {
      expect(parseDate(value, "UTC"), JSON.stringify(value)).toBeUndefined();
    }
  });
});

describe("dates as pages and emails print them", () => {
  const day = new Date("2026-11-24T12:00:00Z");
  const shown = (language: string, zone: string) => dateFormat(dateLocale(language, zone), { dateStyle: "long", timeZone: zone }).format(day);

  it("follows a language tag that names its region", () => {
    expect(shown("en-GB", "America/New_York")).toBe("24 November 2026");
    expect(shown("en-US", "Europe/London")).toBe("November 24, 2026");
    expect(shown("en-AU", "Australia/Sydney")).toBe("24 November 2026");
  });

  it("writes plain English the way the time zone's country does: day first in Europe, month first in the United States and Canada", () => {
    expect(shown("en", "Europe/London")).toBe("24 November 2026");
    expect(shown("en", "Europe/Berlin")).toBe("24 November 2026");
    expect(shown("en", "Asia/Kolkata")).toBe("24 November 2026");
    expect(shown("en", "Asia/Calcutta")).toBe("24 November 2026");
    expect(shown("en", "America/Chicago")).toBe("November 24, 2026");
    expect(shown("en", "America/Toronto")).toBe("November 24, 2026");
    expect(shown("en", "Pacific/Honolulu")).toBe("November 24, 2026");
    // Aliases of those zones, by their canonical names.
    expect(shown("en", "US/Eastern")).toBe("November 24, 2026");
    expect(shown("en", "America/Indianapolis")).toBe("November 24, 2026");
    expect(shown("en", "Canada/Pacific")).toBe("November 24, 2026");
    // A zone of no country says nothing of the reader: English's own default.
    expect(shown("en", "UTC")).toBe("November 24, 2026");
  });

  it("lets other languages write dates their own way, with their region when the tag names one", () => {
    expect(shown("de", "Europe/Berlin")).toBe("24. November 2026");
    expect(shown("fr", "America/Toronto")).toBe("24 novembre 2026");
    expect(shown("pt-BR", "America/Sao_Paulo")).toBe("24 de novembro de 2026");
    expect(shown("ja", "Asia/Tokyo")).toBe("2026年11月24日");
  });
});
