import type { VFile } from "vfile";

/** A VFile message as plain data, to cache it or pass it between processes. */
export interface StoredMessage {
  reason: string;
  line?: number;
  column?: number;
  ruleId?: string;
  source?: string;
  fatal: boolean | null;
}

/** The messages left on `file` from index `since` on, as plain data. */
export function storeMessages(file: VFile, since = 0): StoredMessage[] {
  return file.messages.slice(since).map((m) => ({
    reason: m.reason,
    ...(m.line ? { line: m.line } : {}),
    ...(m.column ? { column: m.column } : {}),
    ...(m.ruleId ? { ruleId: m.ruleId } : {}),
    ...(m.source ? { source: m.source } : {}),
    fatal: m.fatal ?? null,
  }));
}

/** Puts stored messages back on a file, with their places and severities. */
export function replayMessages(file: VFile, messages: readonly StoredMessage[]): void {
  // Most files have none: thousands of them are replayed on every rebuild.
  if (messages.length === 0) return;
  for (const m of messages) {
    const place = m.line ? { line: m.line, column: m.column ?? 1 } : undefined;
    file.message(m.reason, { place, ruleId: m.ruleId, source: m.source }).fatal = m.fatal;
  }
}
