import type { Stats } from "node:fs";
import type { Recalled, SourceFile, SourceMemory } from "../content/read.js";
import { storeMessages } from "../validate/messages.js";
import type { Journal } from "./journal.js";
import type { CacheStore } from "./store.js";

/** A file's identity as the file system reports it: size, modification and change times, inode. */
type Identity = [size: number, mtimeMs: number, ctimeMs: number, ino: number];

interface Entry extends Recalled {
  identity: Identity;
  /** When the file was read: a file changed within the clock's granularity of that is never trusted. */
  readAt: number;
}

/** Files modified this close to when they were read may have changed again in the same clock tick. */
const RACY_MS = 2000;

/**
 * The digest of every article source by its file's identity, so a rebuild
 * stats the sources it already knows instead of reading and hashing them.
 * A file counts as unchanged only when its size, modification time, change
 * time (which no tool can set back) and inode all match, and it was last
 * modified well before it was read.
 */
export class SourceIndex implements SourceMemory {
  private readonly journal: Journal<Entry>;
  private readonly now = Date.now();

  constructor(store: CacheStore) {
    this.journal = store.journal("sources.journal");
  }

  recall(path: string, stat: Stats): Recalled | undefined {
    const entry = this.journal.recall(path);
    if (!entry || !identity(stat).every((value, i) => value === entry.identity[i]) || stat.mtimeMs > entry.readAt - RACY_MS) return undefined;
    this.journal.keep(path, entry);
    return entry;
  }

  remember(path: string, stat: Stats, source: SourceFile): void {
    this.journal.keep(path, { identity: identity(stat), readAt: this.now, digest: source.digest, messages: storeMessages(source.file) });
  }

  /** Records what this run knows; sources that are gone are dropped. */
  save(): void {
    this.journal.save();
  }
}

function identity(stat: Stats): Identity {
  return [stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino];
}
