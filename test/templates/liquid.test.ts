import { describe, expect, it } from "vitest";
import { templateEngine } from "../../src/templates/liquid.js";

/** Renders `text` as a site template of a site in `language` and `timezone`, with `when` in scope. */
function render(text: string, language: string, timezone: string, when: unknown = "2026-10-14T09:00:00Z"): string {
  return templateEngine({ "t.liquid": text }, { language, timezone }).renderFileSync("t", { when });
}

describe("Liquid's date filter", () => {
  it("writes %c, %x and %X in the site's language, at the site's wall-clock time", () => {
    expect(render('{{ when | date: "%c" }}', "fr", "Europe/Paris")).toBe("14/10/2026 11:00:00");
    expect(render('{{ when | date: "%x" }}', "en", "UTC")).toBe("10/14/2026");
    // English as the site writes its dates: the day first but where the month comes first (see dateLocale).
    expect(render('{{ when | date: "%x" }}', "en", "Europe/London")).toBe("14/10/2026");
    expect(render('{{ when | date: "%x" }}', "en", "America/Toronto")).toBe("10/14/2026");
    expect(render('{{ when | date: "%X" }}', "en", "America/New_York")).toBe("5:00:00 AM");
    expect(render('{{ when | date: "%x" }}', "de", "Pacific/Kiritimati")).toBe("14.10.2026");
    expect(render('{{ when | date: "%x" }}', "de", "Pacific/Honolulu")).toBe("13.10.2026");
  });

  it("keeps the rest of the format, escaped percent signs, and a time zone given to the filter", () => {
    expect(render('{{ when | date: "%A %x, %%x %H:%M" }}', "fr", "Europe/Paris")).toBe("mercredi 14/10/2026, %x 11:00");
    expect(render('{{ when | date: "%X", "Asia/Tokyo" }}', "fr", "Europe/Paris")).toBe("18:00:00");
  });

  it("gives back what is not a date, as Liquid does", () => {
    expect(render('{{ when | date: "%c" }}', "fr", "Europe/Paris", "not a date")).toBe("not a date");
    expect(render('{{ when | date: "%c" }}', "fr", "Europe/Paris", "")).toBe("");
    // Six numbers, as the wall clock would read, but no date.
    expect(render('{{ when | date: "%c" }}', "fr", "Europe/Paris", "99999999 1 1 0 0 0")).toBe("99999999 1 1 0 0 0");
  });
});
