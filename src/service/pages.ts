import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Liquid } from "liquidjs";
import type { Config, NewsletterConfig } from "../config/schema.js";
import { parseTemplates, renderTemplate, templateEngine, type TemplateSources } from "../templates/liquid.js";
import { missingTemplates, readTemplateFolder } from "../templates/sources.js";
import { directionScope } from "../markdown/direction.js";
import { VFile } from "vfile";
import { contentError, isPressworkError, PressworkError } from "../errors/error.js";
import { fileError } from "../errors/rules.js";

/** Folder of the service's page templates, relative to the project root. */
export const SERVICE_TEMPLATES = "templates/service";

/** The pages the service shows; each is `templates/service/<name>.liquid`. */
export type PageName = "subscribe" | "thanks" | "confirm" | "confirmed" | "confirm-failed" | "unsubscribe" | "unsubscribed" | "error";

/** Every page, each of which must have its template. */
const PAGE_NAMES: readonly PageName[] = ["subscribe", "thanks", "confirm", "confirmed", "confirm-failed", "unsubscribe", "unsubscribed", "error"];

/** Pages whose values never hold anything a visitor typed or owns, so that a handful of versions covers every visitor. */
const SAME_FOR_EVERYONE: ReadonlySet<PageName> = new Set(["thanks", "confirm", "confirmed", "confirm-failed", "unsubscribed"]);

/** What every page sees besides its own values. */
export interface PageContext {
  config: Config;
  newsletter: NewsletterConfig;
}

/** The service's pages, from Liquid templates read once at start, and its stylesheet. */
export interface Pages {
  render(name: PageName, values: Record<string, unknown>): string;
  stylesheet: string;
}

/**
 * Reads the page templates (`*.liquid`) and `style.css` from
 * templates/service/ and renders a page with the site's and newsletter's
 * names, the form's field names and the page's own values. Output is
 * HTML-escaped; an unknown variable is an error naming the template's line.
 */
export function loadPages(root: string, context: PageContext): Pages {
  const dir = join(root, SERVICE_TEMPLATES);
  const sources = readTemplateFolder(root, SERVICE_TEMPLATES);
  if (!sources) throw contentError(missingTemplates(SERVICE_TEMPLATES, "the subscription service's pages are"));
  // A folder copied from an older version may lack a page added since: said at start, not to the first visitor who needs it.
  const missing = missingPages(sources);
  if (missing.length > 0) throw new PressworkError("content", "a page template of the service is missing", { files: missing });
  const stylesheet = existsSync(join(dir, "style.css")) ? readFileSync(join(dir, "style.css"), "utf8") : "";
  const engine: Liquid = templateEngine(sources, context.config.site);
  // A page shown only now and then (an error, a failed confirmation) must not wait for its first visitor to fail.
  parseTemplates(engine, SERVICE_TEMPLATES, sources);
  const site = {
    title: context.config.site.title,
    url: context.config.site.url,
    language: context.config.site.language,
    ...directionScope(context.config.site.language),
  };
  const newsletter = { name: context.newsletter.name ?? context.config.site.title, reason: context.newsletter.reason, postal_address: context.newsletter.postalAddress, mailto: context.newsletter.unsubscribe.mailto };
  const rendered = new Map<string, string>();
  const render = (name: PageName, values: Record<string, unknown>) => renderTemplate(engine, SERVICE_TEMPLATES, name, { site, newsletter, ...values }, sources);
  return {
    render: (name, values) => {
      if (!SAME_FOR_EVERYONE.has(name)) return render(name, values);
      // Rendering a page with Liquid cost more than the database work behind it: these few are made once.
      const key = `${name}\n${JSON.stringify(values)}`;
      let html = rendered.get(key);
      if (html === undefined) rendered.set(key, (html = render(name, values)));
      return html;
    },
    stylesheet,
  };
}

/** What `check` finds in the service's page templates: a page's template missing, or a syntax error in any, on its file with its line. */
export function servicePageProblems(root: string): VFile[] {
  try {
    const sources = readTemplateFolder(root, SERVICE_TEMPLATES);
    if (!sources) return [];
    const missing = missingPages(sources);
    if (missing.length > 0) return missing;
    // Parsed only, so no date is written: the language ("und", undetermined) and time zone never matter.
    parseTemplates(templateEngine(sources, { language: "und", timezone: "UTC" }), SERVICE_TEMPLATES, sources);
    return [];
  } catch (error) {
    if (isPressworkError(error, "content")) return [...error.files];
    throw error;
  }
}

/** The pages whose template `sources` lacks (a folder copied from an older version), each as a problem on its file. */
function missingPages(sources: TemplateSources): VFile[] {
  return PAGE_NAMES.filter((name) => !Object.hasOwn(sources, `${name}.liquid`)).map((name) => {
    const file = new VFile({ path: `${SERVICE_TEMPLATES}/${name}.liquid` });
    fileError(file, "templates-missing", "is missing: the service shows this page. Copy it from Presswork's repository", { place: { line: 1, column: 1 } });
    return file;
  });
}
