import { parseAddress } from "../audience/address.js";
import { nameProblem } from "../audience/audience.js";
import type { ImportFormat } from "../audience/export-format.js";
import { readExport } from "../audience/imports.js";
import type { SubscriberStatus } from "./schema.js";
import type { ImportCounts, ImportRow, SubscriberList } from "./subscribers.js";

/** What an import did, and what it left out. */
export interface ImportReport extends ImportCounts {
  /** Rows that are not a subscriber (invalid address, a name with a line break, unreadable line): reported by line. */
  invalid: number;
  /** Rows left out on purpose (never confirmed, a deletion request). */
  skipped: number;
}

/** Rows written per transaction: a large import never holds the database for long. */
const BATCH = 1000;

/**
 * Imports a subscriber file (see readExport) into the list, streaming it
 * in batches: memory stays bounded, and a row that is no subscriber is
 * reported by its line and left out while the rest goes in. Running the
 * same import again changes nothing.
 */
export async function importFile(list: SubscriberList, path: string, format: ImportFormat | undefined, now: Date, onProblem: (line: number, reason: string, severity: "error" | "skipped" | "warning") => void): Promise<ImportReport> {
  const report: ImportReport = { added: 0, stopped: 0, unchanged: 0, suppressed: 0, invalid: 0, skipped: 0 };
  let batch: ImportRow[] = [];
  let source = `import:${format ?? "file"}`;
  const flush = async () => {
    if (batch.length === 0) return;
    const counts = await list.importRows(batch, source, now);
    report.added += counts.added;
    report.stopped += counts.stopped;
    report.unchanged += counts.unchanged;
    report.suppressed += counts.suppressed;
    batch = [];
  };
  const onFormat = (detected: ImportFormat, warning?: string) => {
    source = `import:${detected}`;
    // Of the file as a whole: said at its header.
    if (warning) onProblem(1, warning, "warning");
  };
  for await (const row of readExport(path, format, onFormat)) {
    if ("reason" in row) {
      report.invalid++;
      onProblem(row.line, row.reason, "error");
      continue;
    }
    if ("skipped" in row) {
      report.skipped++;
      onProblem(row.line, row.skipped, "skipped");
      continue;
    }
    const address = parseAddress(row.email);
    if ("reason" in address) {
      report.invalid++;
      onProblem(row.line, address.reason, "error");
      continue;
    }
    const nameRefused = row.name === undefined ? undefined : nameProblem(row.name);
    if (nameRefused) {
      report.invalid++;
      onProblem(row.line, nameRefused, "error");
      continue;
    }
    for (const warning of row.warnings ?? []) onProblem(row.line, warning, "warning");
    batch.push({ line: row.line, address, name: row.name, status: row.status, subscribedAt: row.subscribedAt, confirmedAt: row.confirmedAt, stoppedAt: row.stoppedAt, ip: row.ip, fields: row.fields });
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return report;
}

/** Columns of a CSV export, readable by the send and by `import`. */
const CSV_COLUMNS = ["email", "name", "status", "subscribed_at", "changed_at"];

/**
 * The list as CSV (email, name, status, when subscribed, when the status
 * last changed) or JSON Lines (the same and every other field), a line at a
 * time.
 */
export async function* exportLines(list: SubscriberList, statuses: readonly SubscriberStatus[], format: "csv" | "jsonl"): AsyncGenerator<string> {
  if (format === "csv") yield `${CSV_COLUMNS.join(",")}\n`;
  for await (const s of list.rows(statuses, undefined, true)) {
    if (format === "csv") yield `${[s.email, s.name ?? "", s.status, s.subscribedAt ?? s.createdAt, s.statusAt].map(csvField).join(",")}\n`;
    else yield `${JSON.stringify({ ...s.fields, email: s.email, ...(s.name ? { name: s.name } : {}), status: s.status, subscribed_at: s.subscribedAt ?? s.createdAt, changed_at: s.statusAt })}\n`;
  }
}

/**
 * A CSV field, quoted when it holds a comma, a quote or a line break (RFC
 * 4180). A value a spreadsheet would run as a formula (one starting with
 * =, +, -, @, a tab or a carriage return: a name typed into the subscribe
 * form) gets a leading apostrophe, as OWASP advises, so opening the export
 * in Excel or LibreOffice shows it as text; the send and `import` drop
 * that apostrophe again when they read the file.
 */
function csvField(value: string): string {
  const safe = FORMULA.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) || safe !== value ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const FORMULA = /^[=+\-@\t\r]/;
