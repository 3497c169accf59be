import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { VFile } from "vfile";
import { RECORD_FILE } from "../issues/limits.js";
import { fileChunks } from "../files/chunks.js";
import { StringDecoder } from "node:string_decoder";
import { encodeEvent, encodeHeader, PART_BYTES, type LedgerState } from "./ledger.js";
import type { FrozenIssue, IssueState, Migration, StateChange } from "./store.js";

/** Where earlier versions kept the send's state, in the project itself. */
export const LEGACY = { ledgers: "newsletter/ledger", record: RECORD_FILE, suppressed: "newsletter/suppressed.jsonl" } as const;

/** The files of earlier versions, read. */
export interface LegacyState {
  /** Issues of the record, and issues whose ledger says they were started. */
  issues: IssueState[];
  /** Ledger files by issue, with the file names. */
  ledgers: Map<number, string[]>;
  suppressions: number;
  /** Problems with the record's text, by line. */
  file: VFile;
}

/**
 * Reads newsletter/sent.json and the headers of newsletter/ledger/; undefined
 * when neither exists. The record's parser (YAML and its schema) loads only
 * then: a build of a project without these files never needs it.
 */
export async function readLegacy(root: string): Promise<LegacyState | undefined> {
  const recordPath = join(root, LEGACY.record);
  const ledgerDir = join(root, LEGACY.ledgers);
  const text = existsSync(recordPath) ? readFileSync(recordPath, "utf8") : undefined;
  const names = existsSync(ledgerDir) ? readdirSync(ledgerDir).filter((n) => /^issue-\d+(\.shard-\d+-of-\d+)?\.jsonl$/.test(n)).sort() : [];
  const suppressions = existsSync(join(root, LEGACY.suppressed)) ? readFileSync(join(root, LEGACY.suppressed), "utf8").split("\n").filter((l) => l.trim()).length : 0;
  if (text === undefined && names.length === 0 && suppressions === 0) return undefined;
  const { parseRecord } = await import("../issues/record.js");
  const { record, file } = parseRecord(text);
  const issues = new Map<number, IssueState>();
  for (const sent of record?.issues ?? []) {
    const issue: FrozenIssue = { number: sent.number, date: sent.date, subject: sent.subject, articles: sent.articles };
    issues.set(sent.number, {
      issue,
      startedBy: "migrated",
      shardsDone: new Map(),
      complete: { at: sent.date, attempt: "migrated", counts: sent.counts ?? { sent: 0, failed: 0, suppressed: 0 } },
    });
  }
  const ledgers = new Map<number, string[]>();
  for (const name of names) {
    const number = Number(/^issue-(\d+)/.exec(name)?.[1]);
    ledgers.set(number, [...(ledgers.get(number) ?? []), name]);
    if (issues.has(number)) continue;
    const header = firstLine(join(ledgerDir, name));
    if (header?.type === "issue" && header.issue === number) {
      issues.set(number, { issue: { number, date: header.date, subject: header.subject, articles: header.articles }, startedBy: "migrated", shardsDone: new Map() });
    }
  }
  return { issues: [...issues.values()].sort((a, b) => a.issue.number - b.issue.number), ledgers, suppressions, file };
}

interface OldHeader {
  type: "issue";
  issue: number;
  date: string;
  subject: string;
  articles: string[];
}

function firstLine(path: string): OldHeader | undefined {
  for (const chunk of fileChunks(path)) {
    const text = chunk.toString("utf8");
    const end = text.indexOf("\n");
    try {
      return JSON.parse(end < 0 ? text : text.slice(0, end)) as OldHeader;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The attempt name migrated records carry: it sorts before every real attempt. */
const MIGRATED = "00000000T000000Z.migrated";

/**
 * Everything in the files of earlier versions as changes for the store:
 * the record's issues (started and complete, with their counts), issues a
 * ledger started, every ledger converted to the compact format (a few
 * hundred bytes a recipient become under 64), and the suppression list.
 */
export function legacyChanges(root: string, legacy: LegacyState, now: Date): StateChange[] {
  const changes: StateChange[] = [];
  for (const state of legacy.issues) {
    changes.push({ kind: "started", issue: state.issue, attempt: MIGRATED });
    if (state.complete) changes.push({ kind: "complete", issue: state.issue.number, attempt: MIGRATED, at: state.complete.at, counts: state.complete.counts });
  }
  for (const [issue, names] of legacy.ledgers) {
    for (const name of names) changes.push(...convertLedger(join(root, LEGACY.ledgers, name), issue, `${MIGRATED}-${name.replace(/\.jsonl$/, "").replace(/[^A-Za-z0-9.-]/g, "-")}`));
  }
  const suppressed = join(root, LEGACY.suppressed);
  if (existsSync(suppressed)) {
    const lines = readFileSync(suppressed, "utf8")
      .split("\n")
      .flatMap((line) => {
        try {
          const entry = JSON.parse(line) as { key: string; code?: number; issue?: number; at?: string };
          return typeof entry.key === "string" ? [`${entry.key} ${entry.code ?? 550} ${entry.issue ?? 0} ${(entry.at ?? now.toISOString()).slice(0, 10)}`] : [];
        } catch {
          return [];
        }
      });
    if (lines.length) changes.push({ kind: "suppressions", part: { attempt: MIGRATED, offset: 0, text: `${lines.join("\n")}\n` } });
  }
  const migration: Migration = { at: now.toISOString(), issues: legacy.issues.filter((i) => i.complete).length, ledgers: [...legacy.ledgers.values()].flat().length, suppressions: legacy.suppressions };
  changes.push({ kind: "migrated", migration });
  return changes;
}

const OLD_STATES = new Set<LedgerState>(["sending", "sent", "temp-failed", "perm-failed"]);

/** An old JSON Lines ledger as parts of the compact format. */
function convertLedger(path: string, issue: number, attempt: string): StateChange[] {
  const changes: StateChange[] = [];
  const decoder = new StringDecoder("utf8");
  let rest = "";
  let lines: string[] = [];
  let bytes = 0;
  let offset = 0;
  let started = "";
  const flush = () => {
    if (lines.length === 0) return;
    const header = encodeHeader({ issue, attempt, started: started || new Date(0).toISOString(), offset });
    changes.push({ kind: "ledger", part: { issue, attempt, offset, text: `${header}\n${lines.join("\n")}\n` } });
    offset += bytes;
    lines = [];
    bytes = 0;
  };
  const take = (text: string) => {
    let event: { type?: string; key?: string; state?: LedgerState; attempt?: number; at?: string; code?: number; response?: string };
    try {
      event = JSON.parse(text) as typeof event;
    } catch {
      return;
    }
    if (event.type === "issue" || typeof event.key !== "string" || !/^[0-9a-f]{24}$/.test(event.key) || !event.state || !OLD_STATES.has(event.state)) return;
    started ||= event.at ?? "";
    const seconds = started && event.at ? (Date.parse(event.at) - Date.parse(started)) / 1000 : 0;
    const line = encodeEvent({ key: event.key, state: event.state, attempt: event.attempt ?? 1, seconds, ...(event.code ? { code: event.code } : {}), ...(event.response ? { response: event.response } : {}) });
    if (bytes + line.length + 1 > PART_BYTES - 4096) flush();
    lines.push(line);
    bytes += line.length + 1;
  };
  for (const chunk of fileChunks(path)) {
    const parts = (rest + decoder.write(chunk)).split("\n");
    rest = parts.pop() ?? "";
    for (const text of parts) if (text) take(text);
  }
  rest += decoder.end();
  if (rest) take(rest);
  flush();
  return changes;
}
