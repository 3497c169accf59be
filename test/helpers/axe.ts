import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { BrowserContext, Page } from "playwright-core";

/** One rule a page breaks, with the elements that break it. */
export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; summary: string }>;
}

/** What to check: by default every WCAG 2.0, 2.1 and 2.2 A and AA rule and axe's best practices. */
export interface AxeOptions {
  /** axe rule tags to run. */
  tags?: string[];
  /** CSS selectors of parts of the page to leave out, such as a third-party embed. */
  exclude?: string[];
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const DEFAULT_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];

/**
 * Loads axe-core into every page `context` opens from now on, before the
 * page's own scripts. Sending its 550 KB into each page once the page has
 * loaded made a page's load and check take about twice as long.
 */
export async function preloadAxe(context: BrowserContext): Promise<void> {
  await context.addInitScript({ content: AXE_SOURCE });
}

/**
 * Runs axe-core (the engine behind most accessibility checkers) in a page
 * as it is now: any page of any site, in whatever viewport and colour
 * scheme the page was opened with. Returns the violations, empty when the
 * page passes.
 */
export async function axeViolations(page: Page, options: AxeOptions = {}): Promise<Violation[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(
    async ({ tags, exclude }) => {
      const axe = (window as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: Array<{ id: string; impact?: string | null; help: string; nodes: Array<{ target: unknown[]; failureSummary?: string }> }> }> } }).axe;
      const context = exclude.length > 0 ? { exclude: exclude.map((selector) => [selector]) } : document;
      const result = await axe.run(context, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact ?? null, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target.map(String), summary: n.failureSummary ?? "" })) }));
    },
    { tags: options.tags ?? DEFAULT_TAGS, exclude: options.exclude ?? [] },
  );
}

/** Violations as lines a person can act on: rule, what it asks, and where. */
export function describeViolations(violations: readonly Violation[]): string[] {
  return violations.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact ?? "?"}): ${v.help} at ${n.target.join(" ")}: ${n.summary.replace(/\s+/g, " ")}`));
}
