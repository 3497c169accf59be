import type { Stats } from "node:fs";
import type { Recalled, SourceFile, SourceMemory } from "../content/read.js";
import { readJson, writeJson } from "./json-file.js";
import { storeMessages } from "../validate/messages.js";

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
  private readonly entries: Record<string, Entry>;
  private readonly next: Record<string, Entry> = {};
  private readonly now = Date.now();
  /** Whether this run read a source, so the file needs writing. */
  private changed = false;

  constructor(private readonly path: string | undefined) {
    this.entries = (path && readJson<Record<string, Entry>>(path)) || {};
  }

  recall(path: string, stat: Stats): Recalled | undefined {
    const entry = this.entries[path];
    if (!entry || !identity(stat).every((value, i) => value === entry.identity[i]) || stat.mtimeMs > entry.readAt - RACY_MS) return undefined;
    this.next[path] = entry;
    return entry;
  }

  remember(path: string, stat: Stats, source: SourceFile): void {
    this.changed = true;
    this.next[path] = { identity: identity(stat), readAt: this.now, digest: source.digest, messages: storeMessages(source.file) };
  }

  /** Writes what this run knows; sources that are gone are dropped. */
  save(): void {
    if (!this.path || (!this.changed && Object.keys(this.next).length === Object.keys(this.entries).length)) return;
    writeJson(this.path, this.next);
  }
}

function identity(stat: Stats): Identity {
  return [stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino];
}
