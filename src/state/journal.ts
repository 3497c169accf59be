import { closeSync, existsSync, fsyncSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { running } from "./process.js";
import { earlierAttempt, githubAttempt, otherRun } from "./github-attempt.js";
import { encodeEvent, encodeHeader, PART_BYTES, type LedgerEvent } from "./ledger.js";
import type { Attempt, Shard, StateChange } from "./store.js";

/** This machine's folder of the send's state: journals of attempts, kept until saved (and uploaded as an artifact on GitHub). */
export const LOCAL_STATE_DIR = ".presswork-state";

/** What a journal knows of its attempt. */
export interface JournalInfo {
  attempt: Attempt;
  issue: number;
  shard?: Shard;
}

/** How far a journal's files are in the store. */
interface Saved {
  ledger: number;
  suppressed: number;
}

/**
 * One attempt's records on this machine, written as they happen: each
 * ledger event with one write(2) before the send goes on (a killed process
 * loses nothing it wrote), fsync every `syncEvery` events. pending() is
 * what the store does not have yet; once the store has it, markSaved moves
 * the mark. A journal is only ever written by its own attempt; one left by
 * a killed run is saved by the next `presswork state save` or send here.
 */
export class Journal {
  private ledgerFd: number | undefined;
  private suppressedFd: number | undefined;
  private unsynced = 0;

  private constructor(
    readonly dir: string,
    readonly info: JournalInfo,
    private readonly syncEvery: number,
  ) {}

  /** Starts the journal of a new attempt. */
  static create(root: string, info: JournalInfo, syncEvery = 200): Journal {
    const dir = join(root, LOCAL_STATE_DIR, "attempts", info.attempt.name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "attempt.json"), `${JSON.stringify(info)}\n`);
    return new Journal(dir, info, syncEvery);
  }

  /** Every journal on this machine, oldest first. */
  static all(root: string): Journal[] {
    const base = join(root, LOCAL_STATE_DIR, "attempts");
    if (!existsSync(base)) return [];
    return readdirSync(base)
      .sort()
      .flatMap((name) => {
        try {
          const info = JSON.parse(readFileSync(join(base, name, "attempt.json"), "utf8")) as JournalInfo;
          return [new Journal(join(base, name), info, 200)];
        } catch {
          return [];
        }
      });
  }

  /** Appends a ledger event; it is in the file (in the OS) when this returns. */
  append(event: LedgerEvent): void {
    this.ledgerFd ??= this.open("ledger.txt");
    writeSync(this.ledgerFd, `${encodeEvent(event)}\n`);
    if (++this.unsynced >= this.syncEvery) this.sync();
  }

  /** Appends a suppression: the address's key, the reply code and the issue. */
  suppress(key: string, code: number, at: Date): void {
    this.suppressedFd ??= this.open("suppressed.txt");
    writeSync(this.suppressedFd, `${key} ${code} ${this.info.issue} ${at.toISOString().slice(0, 10)}\n`);
  }

  /** Flushes the journal to the disk. */
  sync(): void {
    for (const fd of [this.ledgerFd, this.suppressedFd]) if (fd !== undefined && this.unsynced > 0) fsyncSync(fd);
    this.unsynced = 0;
  }

  close(): void {
    this.sync();
    for (const fd of [this.ledgerFd, this.suppressedFd]) if (fd !== undefined) closeSync(fd);
    this.ledgerFd = this.suppressedFd = undefined;
  }

  /**
   * What the store does not have yet, as changes, and the marks to record
   * once it does. Only whole lines: a line torn by a crash stays out (and
   * is ended before the next append).
   */
  pending(): { changes: StateChange[]; saved: Saved } {
    const saved = this.saved();
    const changes: StateChange[] = [];
    const { name, started } = this.info.attempt;
    const ledgerEnd = this.wholeLines("ledger.txt", saved.ledger, (offset, text) => {
      const header = encodeHeader({ issue: this.info.issue, attempt: name, started, offset, ...(this.info.shard ? { shard: `${this.info.shard.index}/${this.info.shard.count}` } : {}) });
      changes.push({ kind: "ledger", part: { issue: this.info.issue, attempt: name, offset, text: `${header}\n${text}` } });
    });
    const suppressedEnd = this.wholeLines("suppressed.txt", saved.suppressed, (offset, text) => changes.push({ kind: "suppressions", part: { attempt: name, offset, text } }));
    return { changes, saved: { ledger: ledgerEnd, suppressed: suppressedEnd } };
  }

  /** Records that the store has everything up to `saved`. */
  markSaved(saved: Saved): void {
    const path = join(this.dir, "saved.json");
    writeFileSync(`${path}.tmp`, JSON.stringify(saved));
    renameSync(`${path}.tmp`, path);
  }

  /** Deletes the journal: only once the store has all of it and its attempt is over. */
  remove(): void {
    this.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Marks the attempt as over: nothing more will be written, whatever the store has of it. */
  end(): void {
    this.close();
    writeFileSync(join(this.dir, "ended"), "");
  }

  /**
   * Whether its attempt is over: it ended, its process (on this machine) is
   * gone, or it was an earlier attempt of this GitHub run's job or the same
   * job of another run (a journal restored from that attempt's artifact).
   */
  get over(): boolean {
    const { host, pid, github } = this.info.attempt;
    const mine = githubAttempt(process.env);
    return existsSync(join(this.dir, "ended")) || (host === hostname() && pid !== process.pid && !running(pid)) || earlierAttempt(github, mine) || otherRun(github, mine);
  }

  private saved(): Saved {
    try {
      return JSON.parse(readFileSync(join(this.dir, "saved.json"), "utf8")) as Saved;
    } catch {
      return { ledger: 0, suppressed: 0 };
    }
  }

  private open(name: string): number {
    return openSync(join(this.dir, name), "a");
  }

  /** Hands on the whole lines of a file from `from`, in pieces under a ledger part's size; returns where they end. */
  private wholeLines(name: string, from: number, take: (offset: number, text: string) => void): number {
    const path = join(this.dir, name);
    if (!existsSync(path)) return from;
    const fd = openSync(path, "r");
    try {
      const size = fstatSync(fd).size;
      let offset = from;
      const buffer = Buffer.alloc(Math.min(PART_BYTES - 4096, Math.max(0, size - from)));
      while (offset < size) {
        const read = readSync(fd, buffer, 0, Math.min(buffer.length, size - offset), offset);
        const end = buffer.lastIndexOf(10, read - 1);
        if (end < 0) break;
        const text = buffer.subarray(0, end + 1).toString("utf8");
        take(offset, text);
        offset += end + 1;
      }
      return offset;
    } finally {
      closeSync(fd);
    }
  }
}

