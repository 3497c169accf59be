import { appendFileSync, readFileSync } from "node:fs";
import { isAscii } from "node:buffer";
import { writeFileAtomic } from "../files/atomic.js";

/**
 * A cache map kept on disk as a journal of `[key, value]` records: the whole
 * map once, then each run's changes appended (a value of null drops its
 * key), so a run that changes a few entries of thousands writes only those.
 * Read back with one JSON.parse; the last record of a key wins. Rewritten
 * whole when a quarter of it changed or it holds a quarter more records than
 * live entries. A torn append makes the file unreadable, and the map starts
 * afresh like any lost cache.
 *
 * Each run keeps the entries it used; the others are dropped on save.
 */
export class Journal<V> {
  private readonly last = new Map<string, V>();
  private readonly next = new Map<string, V>();
  private records = 0;

  constructor(private readonly path: string | undefined) {
    let text: string | undefined;
    try {
      const bytes = path ? readFileSync(path) : undefined;
      // Written as ASCII (see asciiJson): decoded as such, and parsed as a one-byte string, it reads in half the time.
      text = bytes && (isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8"));
    } catch {
      return;
    }
    if (!text) return;
    try {
      const records = JSON.parse(`[${text}]`) as Array<[string, V | null]>;
      for (const [key, value] of records) {
        if (value === null) this.last.delete(key);
        else this.last.set(key, value);
      }
      this.records = records.length;
    } catch {
      this.last.clear();
    }
  }

  /** The last run's entry for `key`. */
  recall(key: string): V | undefined {
    return this.last.get(key);
  }

  /** The entry this run kept for `key`. */
  kept(key: string): V | undefined {
    return this.next.get(key);
  }

  /** Every entry this run kept. */
  keptEntries(): Array<[string, V]> {
    return [...this.next];
  }

  /** Keeps an entry for the next run: the very value recalled costs nothing to save. */
  keep(key: string, value: V): void {
    this.next.set(key, value);
  }

  /** Appends what changed since the last run, or rewrites the journal when that is shorter; returns the keys dropped. */
  save(): string[] {
    const dropped = [...this.last.keys()].filter((key) => !this.next.has(key));
    const changes: Array<[string, V | null]> = dropped.map((key) => [key, null]);
    for (const [key, value] of this.next) if (this.last.get(key) !== value) changes.push([key, value]);
    if (!this.path || changes.length === 0) return dropped;
    if (this.records === 0 || changes.length * 4 > this.next.size || this.records + changes.length > 1.25 * this.next.size + 100) {
      writeFileAtomic(this.path, [...this.next].map(asciiJson).join(","));
    } else {
      appendFileSync(this.path, `,${changes.map(asciiJson).join(",")}`);
    }
    return dropped;
  }
}

/** JSON with every character beyond ASCII escaped, so the text is ASCII whatever it holds. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
