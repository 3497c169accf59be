import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { fileChunks } from "../files/chunks.js";
import { KeyTable, MAX_VALUE } from "./key-table.js";

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

const STATES: readonly LedgerState[] = ["sending", "sent", "temp-failed", "perm-failed"];
// A recipient's entry, packed: bits 0-2 its state (0 for none yet, else its index in STATES + 1),
// bit 3 whether this run's list has named it, the attempts above.
const STATE_BITS = 7;
const SEEN = 8;
const ATTEMPTS_SHIFT = 4;
const MAX_ATTEMPTS = MAX_VALUE >> ATTEMPTS_SHIFT;
const unpack = (packed: number): RecipientState | undefined =>
  (packed & STATE_BITS) === 0 ? undefined : { state: STATES[(packed & STATE_BITS) - 1] as LedgerState, attempts: packed >> ATTEMPTS_SHIFT };

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
  /** Each recipient's last state and attempts so far, and whether this run has seen it (see unpack). */
  private readonly table = new KeyTable();
  /** Recipients with at least one event. */
  private known = 0;
  private first: LedgerHeader | undefined;
  readonly problems: LedgerProblem[] = [];
  private needsNewline = false;

  private constructor(
    readonly path: string,
    private readonly syncEvery: number,
  ) {}

  /** Reads a ledger (an empty one when the file does not exist), a megabyte at a time. */
  static open(path: string, syncEvery = 200): Ledger {
    const ledger = new Ledger(path, syncEvery);
    const decoder = new StringDecoder("utf8");
    let rest = "";
    let line = 0;
    for (const chunk of fileChunks(path, true)) {
      const lines = (rest + decoder.write(chunk)).split("\n");
      rest = lines.pop() ?? "";
      for (const text of lines) ledger.read(text, ++line, false);
    }
    rest += decoder.end();
    if (rest !== "") {
      ledger.read(rest, ++line, true);
      ledger.needsNewline = true;
    }
    return ledger;
  }

  /** The ledger's first line: the issue as its send began. */
  get header(): LedgerHeader | undefined {
    return this.first;
  }

  /** Number of recipients the ledger has events for. */
  get size(): number {
    return this.known;
  }

  /** Where a recipient stands, or undefined when the ledger has no event for it. */
  state(key: string): RecipientState | undefined {
    const packed = this.table.get(key);
    return packed === undefined ? undefined : unpack(packed);
  }

  /** Every recipient with an event and where it stands. */
  *states(): Generator<[string, RecipientState]> {
    for (const [key, packed] of this.table.entries()) {
      const state = unpack(packed);
      if (state) yield [key, state];
    }
  }

  /**
   * True the first time this run's list names `key`, false for a duplicate.
   * Kept in the ledger's own table, so a list of a million needs no second one.
   */
  firstSight(key: string): boolean {
    const packed = this.table.get(key) ?? 0;
    if (packed & SEEN) return false;
    this.table.set(key, packed | SEEN);
    return true;
  }

  /** Learns another ledger's recipients (of the same issue): the ones unknown here, and every one it sent. */
  absorb(other: Ledger): void {
    for (const [key, state] of other.states()) if (state.state === "sent" || this.state(key) === undefined) this.note(key, state.state, state.attempts);
  }

  private read(text: string, line: number, last: boolean): void {
    if (text === "") return;
    let event: LedgerEvent | LedgerHeader;
    try {
      event = JSON.parse(text) as LedgerEvent | LedgerHeader;
    } catch {
      this.problems.push({ line, torn: last });
      return;
    }
    if ("type" in event) {
      this.first ??= event;
      return;
    }
    if (typeof event.key !== "string" || !STATES.includes(event.state)) {
      this.problems.push({ line, torn: last });
      return;
    }
    this.note(event.key, event.state, typeof event.attempt === "number" ? event.attempt : 0);
  }

  private note(key: string, state: LedgerState, attempt: number): void {
    const previous = this.table.get(key) ?? 0;
    if ((previous & STATE_BITS) === 0) this.known++;
    const attempts = Math.min(MAX_ATTEMPTS, Math.max(previous >> ATTEMPTS_SHIFT, attempt));
    this.table.set(key, (STATES.indexOf(state) + 1) | (previous & SEEN) | (attempts << ATTEMPTS_SHIFT));
  }

  /** Appends one event or the header; the line is on disk (in the OS) when this returns. */
  append(event: LedgerEvent | LedgerHeader): void {
    if (this.fd === undefined) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.fd = openSync(this.path, "a");
      if (this.needsNewline) writeSync(this.fd, "\n");
    }
    writeSync(this.fd, `${JSON.stringify(event)}\n`);
    if ("key" in event) this.note(event.key, event.state, event.attempt);
    else this.first ??= event;
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
