import { isAscii } from "node:buffer";
import { appendIdentified, readIdentified, replaceIdentified, type WarmFiles } from "./warm.js";

/** A journal as read, or as WarmFiles keeps it: its map, how many records its file holds, and the file's identity then. */
interface Read<V> {
  entries: ReadonlyMap<string, V>;
  records: number;
  identity?: string | undefined;
}

/**
 * A cache map kept on disk as a journal of `[key, value]` records: the whole
 * map once, then each run's changes appended (a value of null drops its
 * key), so a run that changes a few entries of thousands writes only those.
 * Read back with one JSON.parse; the last record of a key wins. Rewritten
 * whole when a quarter of it changed or it holds a quarter more records than
 * live entries. A torn append makes the file unreadable, and the map starts
 * afresh like any lost cache.
 *
 * Each run keeps the entries it used; the others are dropped on save. In
 * a process that keeps its cache files warm (see warm.ts), what a save
 * leaves is the next run's map, without reading the file again.
 */
export class Journal<V> {
  private readonly last: ReadonlyMap<string, V>;
  private readonly next = new Map<string, V>();
  /** How many records the file holds. */
  private readonly records: number;
  /** The file's identity when it was read (see warm.ts): an append keeps the map warm only if the file still has it. */
  private readonly identity: string | undefined;

  /** Given `warm`, the journal is taken from it while its file is as this process last read or wrote it. */
  constructor(
    private readonly path: string | undefined,
    private readonly warm?: WarmFiles,
  ) {
    const recalled = path ? warm?.recall<Omit<Read<V>, "identity">>(path) : undefined;
    const journal: Read<V> = recalled ? { ...recalled.value, identity: recalled.identity } : readJournal<V>(path);
    if (path && !recalled && journal.records > 0) warm?.keep(path, journal.identity, { entries: journal.entries, records: journal.records });
    this.last = journal.entries;
    this.records = journal.records;
    this.identity = journal.identity;
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
      const identity = replaceIdentified(this.path, [...this.next].map(asciiJson).join(","));
      this.warm?.keep(this.path, identity, { entries: new Map(this.next), records: this.next.size });
    } else {
      const identity = appendIdentified(this.path, `,${changes.map(asciiJson).join(",")}`, this.identity);
      this.warm?.keep(this.path, identity, { entries: new Map(this.next), records: this.records + changes.length });
    }
    return dropped;
  }
}

/** The journal at `path`: empty when there is none or it cannot be read. */
function readJournal<V>(path: string | undefined): Read<V> {
  const entries = new Map<string, V>();
  let text: string | undefined;
  let identity: string | undefined;
  try {
    const read = path ? readIdentified(path) : undefined;
    // Written as ASCII (see asciiJson): decoded as such, and parsed as a one-byte string, it reads in half the time.
    text = read && (isAscii(read.bytes) ? read.bytes.toString("latin1") : read.bytes.toString("utf8"));
    identity = read?.identity;
  } catch {
    return { entries, records: 0 };
  }
  if (!text) return { entries, records: 0 };
  try {
    const records = JSON.parse(`[${text}]`) as Array<[string, V | null]>;
    for (const [key, value] of records) {
      if (value === null) entries.delete(key);
      else entries.set(key, value);
    }
    return { entries, records: records.length, identity };
  } catch {
    return { entries: new Map(), records: 0 };
  }
}

/** JSON with every character beyond ASCII escaped, so the text is ASCII whatever it holds. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
