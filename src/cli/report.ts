import type { VFile } from "vfile";

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
  const rows = files
    .flatMap((file) => file.messages.map((m) => ({ file, m })))
    .sort((a, b) => (a.file.path ?? "").localeCompare(b.file.path ?? "") || (a.m.line ?? 0) - (b.m.line ?? 0) || (a.m.column ?? 0) - (b.m.column ?? 0));
  for (const { file, m } of rows) {
    const severity = m.fatal ? "error" : "warning";
    if (m.fatal) tally.errors++;
    else tally.warnings++;
    const place = `${file.path ?? "?"}:${m.line ?? 1}:${m.column ?? 1}`;
    write(`${place}  ${severity}  ${m.reason}  ${m.ruleId ?? ""}`.trimEnd());
    if (github) {
      const props = [`file=${escapeProperty(file.path ?? "")}`, `line=${m.line ?? 1}`, `col=${m.column ?? 1}`, `title=${escapeProperty(m.ruleId ?? "presswork")}`];
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
