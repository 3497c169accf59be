import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/** What happened to one recipient's message. "sending" is written before each attempt: an attempt with no outcome after it was in flight when the run died. */
export type LedgerState = "sending" | "sent" | "temp-failed" | "perm-failed";

/** One line of the ledger. Addresses never appear: `key` is an HMAC of the address. */
export interface LedgerEvent {
  issue: number;
  key: string;
  state: LedgerState;
  attempt: number;
  at: string;
  code?: number;
  messageId?: string;
  response?: string;
}

/** The first line of a ledger: what the issue was when its send began, so a resumed send sends the same issue. */
export interface LedgerHeader {
  type: "issue";
  issue: number;
  date: string;
  subject: string;
  articles: string[];
}

/** Where each recipient stands, from the ledger. */
export interface RecipientState {
  state: LedgerState;
  attempts: number;
}

/** A line the ledger could not read: reported with its number; the last line of a crashed run is expected to be torn. */
export interface LedgerProblem {
  line: number;
  torn: boolean;
}

/** Path of an issue's ledger, per shard when sending in shards. */
export function ledgerPath(dir: string, issue: number, shard?: { index: number; count: number }): string {
  return `${dir}/issue-${issue}${shard ? `.shard-${shard.index}-of-${shard.count}` : ""}.jsonl`;
}

/**
 * The append-only ledger of one issue's send (JSON Lines). Each event is
 * written with one write(2) as it happens, so a killed process loses nothing
 * it had recorded; fsync runs every `syncEvery` events and at close, for
 * power loss. A torn last line from a crash is skipped when reading and
 * terminated before the next append.
 */
export class Ledger {
  private fd: number | undefined;
  private unsynced = 0;

  private constructor(
    readonly path: string,
    readonly header: LedgerHeader | undefined,
    readonly states: Map<string, RecipientState>,
    readonly problems: LedgerProblem[],
    private readonly needsNewline: boolean,
    private readonly syncEvery: number,
  ) {}

  /** Reads a ledger (an empty one when the file does not exist). */
  static open(path: string, syncEvery = 200): Ledger {
    let text = "";
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    const states = new Map<string, RecipientState>();
    const problems: LedgerProblem[] = [];
    let header: LedgerHeader | undefined;
    const lines = text.split("\n");
    const complete = text.endsWith("\n") || text === "";
    lines.forEach((line, index) => {
      if (line === "") return;
      const last = index === lines.length - 1 && !complete;
      let event: LedgerEvent | LedgerHeader;
      try {
        event = JSON.parse(line) as LedgerEvent | LedgerHeader;
      } catch {
        problems.push({ line: index + 1, torn: last });
        return;
      }
      if ("type" in event) {
        header ??= event;
        return;
      }
      if (typeof event.key !== "string" || typeof event.state !== "string") {
        problems.push({ line: index + 1, torn: last });
        return;
      }
      const previous = states.get(event.key);
      states.set(event.key, { state: event.state, attempts: Math.max(previous?.attempts ?? 0, event.attempt ?? 0) });
    });
    return new Ledger(path, header, states, problems, !complete, syncEvery);
  }

  /** Appends one event or the header; the line is on disk (in the OS) when this returns. */
  append(event: LedgerEvent | LedgerHeader): void {
    if (this.fd === undefined) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.fd = openSync(this.path, "a");
      if (this.needsNewline) writeSync(this.fd, "\n");
    }
    writeSync(this.fd, `${JSON.stringify(event)}\n`);
    if ("key" in event) this.states.set(event.key, { state: event.state, attempts: Math.max(this.states.get(event.key)?.attempts ?? 0, event.attempt) });
    if (++this.unsynced >= this.syncEvery) this.sync();
  }

  /** Flushes the ledger to the disk. */
  sync(): void {
    if (this.fd !== undefined && this.unsynced > 0) fsyncSync(this.fd);
    this.unsynced = 0;
  }

  close(): void {
    if (this.fd === undefined) return;
    this.sync();
    closeSync(this.fd);
    this.fd = undefined;
  }
}
