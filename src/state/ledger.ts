import { KeyTable, MAX_VALUE } from "./key-table.js";
import { type LedgerPart } from "./store.js";
import { PressworkError } from "../errors/error.js";

/**
 * What happened to one recipient's message. "sending" is written before each
 * attempt: an attempt with no outcome after it was in flight when its run
 * died. "not-sent" means the send stopped (the message or the account was
 * refused) and the recipient is still owed the issue; "outboxed" went to
 * the outbox, not to the recipient.
 */
export type LedgerState = "sending" | "sent" | "outboxed" | "temp-failed" | "perm-failed" | "not-sent";

/** One event. Addresses never appear: `key` is an HMAC of the address (24 hex digits). */
export interface LedgerEvent {
  key: string;
  state: LedgerState;
  attempt: number;
  /** Seconds since the attempt started. */
  seconds?: number;
  code?: number;
  /** The server's reply, masked, for failures. */
  response?: string;
}

/** The first line of every ledger part: its issue, its attempt and where in the attempt's journal it starts. */
export interface LedgerHeader {
  presswork: "ledger";
  format: 2;
  issue: number;
  attempt: string;
  started: string;
  offset: number;
  shard?: string;
}

/** Ledger parts are cut at this size, well under GitHub's 100 MB file limit. */
export const PART_BYTES = 25 * 1024 * 1024;

const LETTERS: Record<LedgerState, string> = { sending: "s", sent: "S", outboxed: "O", "temp-failed": "T", "perm-failed": "P", "not-sent": "N" };
const STATES = Object.fromEntries(Object.entries(LETTERS).map(([state, letter]) => [letter, state as LedgerState])) as Record<string, LedgerState>;
const HEX_KEY = /^[0-9a-f]{24}$/;

/**
 * One event as a ledger line, about 20 bytes for "sending" and 30 for an
 * outcome: `KEY s1` or `KEY S1 SECONDS CODE [REPLY]`, the key in base64url
 * (16 characters for its 96 bits). A recipient costs under 64 bytes.
 */
export function encodeEvent(event: LedgerEvent): string {
  if (!HEX_KEY.test(event.key)) throw new PressworkError("internal", "a ledger key is 24 hex digits (see addressKey)");
  const head = `${Buffer.from(event.key, "hex").toString("base64url")} ${LETTERS[event.state]}${event.attempt}`;
  if (event.state === "sending") return head;
  const reply = event.response ? ` ${event.response.replace(/[\r\n]+/g, " ")}` : "";
  return `${head} ${Math.max(0, Math.round(event.seconds ?? 0))} ${event.code ?? "-"}${reply}`;
}

/** A ledger line back as an event, or undefined when it is not one. */
export function decodeEvent(line: string): LedgerEvent | undefined {
  const match = /^([A-Za-z0-9_-]{16}) ([sSOTPN])(\d{1,5})(?: (\d+) (\d{3}|-)(?: (.*))?)?$/.exec(line);
  if (!match) return undefined;
  const state = STATES[match[2] as string] as LedgerState;
  const event: LedgerEvent = { key: Buffer.from(match[1] as string, "base64url").toString("hex"), state, attempt: Number(match[3]) };
  if (match[4] !== undefined) event.seconds = Number(match[4]);
  if (match[5] !== undefined && match[5] !== "-") event.code = Number(match[5]);
  if (match[6]) event.response = match[6];
  return event;
}

/** A part's header line. */
export function encodeHeader(header: Omit<LedgerHeader, "presswork" | "format">): string {
  return JSON.stringify({ presswork: "ledger", format: 2, ...header });
}

/** Where each recipient stands, from the ledger. */
export interface RecipientState {
  state: LedgerState;
  attempts: number;
}

/** A line of a part that could not be read: reported with its part and line, never silently. */
export interface LedgerProblem {
  attempt: string;
  offset: number;
  line: number;
}

// A recipient's entry, packed in 16 bits: bits 0-2 its state (0 for none yet, else its index in ORDER + 1),
// bit 3 whether this run's list has named it, the attempts above.
const ORDER: readonly LedgerState[] = ["sending", "sent", "outboxed", "temp-failed", "perm-failed", "not-sent"];
const STATE_BITS = 7;
const SEEN = 8;
const ATTEMPTS_SHIFT = 4;
const MAX_ATTEMPTS = MAX_VALUE >> ATTEMPTS_SHIFT;
const SENT = ORDER.indexOf("sent") + 1;
const unpack = (packed: number): RecipientState | undefined =>
  (packed & STATE_BITS) === 0 ? undefined : { state: ORDER[(packed & STATE_BITS) - 1] as LedgerState, attempts: packed >> ATTEMPTS_SHIFT };

/**
 * The ledger of one issue in memory: the union of every attempt's parts,
 * applied in the order they were written. A recipient's state is its last
 * event's, except that "sent" stays: once any attempt delivered the issue,
 * no later event makes it owed again. 96-bit keys live in a flat table
 * (about 28 bytes each), so a list of a million fits a small heap.
 */
export class Ledger {
  private readonly table = new KeyTable();
  private known = 0;
  readonly problems: LedgerProblem[] = [];

  constructor(readonly issue: number) {}

  /** Reads every part of the issue's ledger. A part whose header names another issue is refused: the send must not start. */
  static async read(issue: number, parts: AsyncIterable<LedgerPart>): Promise<Ledger> {
    const ledger = new Ledger(issue);
    for await (const part of parts) ledger.add(part);
    return ledger;
  }

  /** Applies one part. */
  add(part: LedgerPart): void {
    let start = 0;
    let lineNumber = 0;
    for (let end = part.text.indexOf("\n"); start < part.text.length; end = part.text.indexOf("\n", start)) {
      const stop = end < 0 ? part.text.length : end;
      const line = part.text.slice(start, stop);
      lineNumber++;
      start = stop + 1;
      if (lineNumber === 1) {
        this.checkHeader(line, part);
        continue;
      }
      if (line === "") continue;
      const event = decodeEvent(line);
      if (event) this.note(event.key, event.state, event.attempt);
      else this.problems.push({ attempt: part.attempt, offset: part.offset, line: lineNumber });
    }
  }

  private checkHeader(line: string, part: LedgerPart): void {
    let header: Partial<LedgerHeader>;
    try {
      header = JSON.parse(line) as Partial<LedgerHeader>;
    } catch {
      throw new PressworkError("state-damaged", `ledger part ${part.offset} of attempt ${part.attempt} has no header: it cannot be told which issue it belongs to, so the send does not start`);
    }
    if (header.presswork !== "ledger" || header.format !== 2) throw new PressworkError("state-damaged", `ledger part ${part.offset} of attempt ${part.attempt} is not a Presswork ledger (format 2): refused`);
    if (header.issue !== this.issue) throw new PressworkError("state-damaged", `ledger part ${part.offset} of attempt ${part.attempt} is the ledger of issue #${header.issue}, not of issue #${this.issue}: refused. Move it back under issue #${header.issue} before sending`);
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

  /** Records an event of this run. */
  note(key: string, state: LedgerState, attempt: number): void {
    const previous = this.table.get(key) ?? 0;
    const before = previous & STATE_BITS;
    if (before === 0) this.known++;
    const attempts = Math.min(MAX_ATTEMPTS, Math.max(previous >> ATTEMPTS_SHIFT, attempt));
    const next = before === SENT ? SENT : ORDER.indexOf(state) + 1;
    this.table.set(key, next | (previous & SEEN) | (attempts << ATTEMPTS_SHIFT));
  }

  /** How many recipients have the issue, and how many were tried without getting it (temp-failed, perm-failed, not-sent). */
  counts(): { sent: number; failed: number } {
    let sent = 0;
    let failed = 0;
    for (const [, { state }] of this.states()) {
      if (state === "sent") sent++;
      else if (state === "temp-failed" || state === "perm-failed" || state === "not-sent") failed++;
    }
    return { sent, failed };
  }
}
