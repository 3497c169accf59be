import { Liquid, type FilterImplOptions } from "liquidjs";
import { VFile } from "vfile";
import { dateFormat, dateLocale } from "../content/dates.js";
import { contentError, type PressworkError } from "../errors/error.js";
import { fileError } from "../errors/rules.js";

/** Template sources by file name relative to their folder, e.g. "article.liquid". */
export type TemplateSources = Readonly<Record<string, string>>;

/** Where a site's dates are written for: its language and time zone. */
export interface DateSetting {
  language: string;
  timezone: string;
}

/**
 * A Liquid engine over in-memory templates that rejects unknown variables
 * and escapes output for HTML, unless `plain` (for text such as a subject line).
 * Its `date` filter writes times in `site`'s time zone and names months and
 * days in its language, `%c`, `%x` and `%X` too: left to itself, Liquid
 * would take the machine's (a build's bytes would depend on where it ran)
 * and start ICU's date formatting to learn its locale.
 */
export function templateEngine(sources: TemplateSources, site: DateSetting, plain = false): Liquid {
  const engine = new Liquid({
    templates: { ...sources },
    locale: site.language,
    timezoneOffset: site.timezone,
    extname: ".liquid",
    ...(plain ? {} : { outputEscape: "escape" as const }),
    strictVariables: true,
    strictFilters: true,
    lenientIf: true,
    ownPropertyOnly: true,
    cache: true,
  });
  const builtin = engine.filters.date;
  if (builtin) engine.registerFilter("date", inLanguage(typeof builtin === "function" ? builtin : builtin.handler, site));
  return engine;
}

/** A filter's function, as LiquidJS calls it. */
type FilterHandler = Extract<FilterImplOptions, (...args: never[]) => unknown>;

/** The options toLocaleString, toLocaleDateString and toLocaleTimeString take when given none: what Liquid's `%c`, `%x` and `%X` write. */
const LOCALE_FORMATS: Readonly<Record<string, Intl.DateTimeFormatOptions>> = {
  c: { year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" },
  x: { year: "numeric", month: "numeric", day: "numeric" },
  X: { hour: "numeric", minute: "numeric", second: "numeric" },
};

/** One conversion of a strftime format, as LiquidJS reads it: flags, width, modifier, conversion. */
const CONVERSION = /%([-_0^#:]+)?(\d+)?([EO])?(.)/g;

/**
 * Liquid's `date` filter, but for `%c`, `%x` and `%X`, which LiquidJS writes
 * with the machine's locale: those are written as the site writes dates
 * (see dateLocale: day first for English outside the countries that put the
 * month first), for the wall-clock time Liquid shows (in the site's time
 * zone, or the one the filter is given), and handed to it as text. Their
 * flags and widths are not applied.
 */
function inLanguage(builtin: FilterHandler, site: DateSetting): FilterHandler {
  return function (this: ThisParameterType<FilterHandler>, value: unknown, format?: unknown, ...rest: unknown[]) {
    const localised = typeof format === "string" && [...format.matchAll(CONVERSION)].some((m) => LOCALE_FORMATS[m[4] ?? ""]);
    if (!localised) return builtin.call(this, value, format, ...rest);
    const wall: unknown = builtin.call(this, value, "%Y %m %d %H %M %S", ...rest);
    const parts = typeof wall === "string" ? wall.split(" ").map(Number) : [];
    const [year, month, day, hours, minutes, seconds] = parts as [number, number, number, number, number, number];
    const time = new Date(0);
    time.setUTCFullYear(year, month - 1, day);
    time.setUTCHours(hours, minutes, seconds);
    // Not a date (the filter gives it back as it came), or one beyond what a Date holds.
    if (parts.length !== 6 || parts.some((n) => !Number.isInteger(n)) || Number.isNaN(time.getTime())) return builtin.call(this, value, format, ...rest);
    const locale = dateLocale(site.language, site.timezone);
    const written = format.replace(CONVERSION, (whole, _flags, _width, _modifier, conversion: string) => {
      const options = LOCALE_FORMATS[conversion];
      return options ? dateFormat(locale, { ...options, timeZone: "UTC" }).format(time).replaceAll("%", "%%") : whole;
    });
    return builtin.call(this, value, written, ...rest);
  };
}

/**
 * Renders one template, turning a Liquid failure into a content error whose
 * message names the template file (under `folder`) and line.
 */
export function renderTemplate(engine: Liquid, folder: string, name: string, scope: object, sources?: TemplateSources): string {
  try {
    return engine.renderFileSync(name, scope);
  } catch (error) {
    throw templateError(error, folder, `${name}.liquid`, sources);
  }
}

/**
 * Parses every template in `sources`, so that a syntax error in one a
 * page renders only now and then is found before anything is served: a
 * content error naming the template file (under `folder`) and line.
 */
export function parseTemplates(engine: Liquid, folder: string, sources: TemplateSources): void {
  for (const [name, text] of Object.entries(sources)) {
    try {
      engine.parse(text, name);
    } catch (error) {
      throw templateError(error, folder, name, sources);
    }
  }
}

/** A Liquid failure in the template `name`, as a content error on the file it happened in, with its line. */
function templateError(error: unknown, folder: string, name: string, sources?: TemplateSources): PressworkError {
  const token = (error as { token?: { file?: string; getPosition?: () => number[] } }).token;
  const [line = 1, column = 1] = token?.getPosition?.() ?? [];
  const reason = String((error as Error).message).replace(/, (file:\S+, )?line:\d+, col:\d+$/, "");
  const where = token?.file ?? (sources && templateAt(sources, reason, line, column)) ?? name;
  const file = new VFile({ path: `${folder}/${where}` });
  fileError(file, "template", `template error: ${reason}`, { place: { line, column } });
  return contentError(file);
}

/**
 * Liquid does not name the partial a render error happened in when templates
 * live in memory: find the template whose text at that place is the
 * variable the error names.
 */
function templateAt(sources: TemplateSources, reason: string, line: number, column: number): string | undefined {
  const variable = /undefined variable: (\S+)/.exec(reason)?.[1];
  if (!variable) return undefined;
  return Object.keys(sources).find((name) => sources[name]?.split("\n")[line - 1]?.slice(column - 1).startsWith(variable));
}
