import { Liquid } from "liquidjs";
import { VFile } from "vfile";
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
 * days in its language: left to itself, Liquid would take the machine's
 * (a build's bytes would depend on where it ran) and start ICU's date
 * formatting to learn its locale.
 */
export function templateEngine(sources: TemplateSources, site: DateSetting, plain = false): Liquid {
  return new Liquid({
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
