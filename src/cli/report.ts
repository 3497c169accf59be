import type { VFile } from "vfile";
import { problemLines } from "../validate/lines.js";

/** Counts of what a run reported. */
export interface Tally {
  errors: number;
  warnings: number;
}

/**
 * Prints every message of every file as `path:line:column  severity  reason  rule`,
 * sorted by file and line; under GitHub Actions each also becomes a workflow
 * annotation so a pull request shows it on the line.
 */
export function report(files: readonly VFile[], write: (line: string) => void, github = process.env["GITHUB_ACTIONS"] === "true"): Tally {
  const tally: Tally = { errors: 0, warnings: 0 };
  for (const { text, path, message: m } of problemLines(files)) {
    const severity = m.fatal ? "error" : "warning";
    if (m.fatal) tally.errors++;
    else tally.warnings++;
    write(text);
    if (github) {
      const props = [`file=${escapeProperty(path === "?" ? "" : path)}`, `line=${m.line ?? 1}`, `col=${m.column ?? 1}`, `title=${escapeProperty(m.ruleId ?? "presswork")}`];
      write(`::${severity} ${props.join(",")}::${escapeData(m.reason)}`);
    }
  }
  return tally;
}

function escapeData(value: string): string {
  return value.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function escapeProperty(value: string): string {
  return escapeData(value).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
