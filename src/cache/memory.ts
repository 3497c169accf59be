import { statSync } from "node:fs";

/**
 * What a long-lived process (`presswork preview`) keeps of the cache files
 * it read or wrote, so that the next build uses the parsed value again
 * instead of reading and parsing the file: valid while the file is as this
 * process last saw it (same size, change time and inode: an append changes
 * the size, an atomic replace the inode, and any other writer the change
 * time). A value kept here is shared by every build that recalls it, so
 * nothing may change it. What is kept are cache entries, each found by a
 * key of what it was made from: should another process write a file
 * between this one's write and its look at the file, this process misses
 * that process's entries, and never takes a stale entry for a fresh one.
 */
export class CacheMemory {
  private readonly held = new Map<string, { identity: string; value: unknown }>();

  /** The value kept for the file at `path`, while the file is as it was when kept. */
  recall<T>(path: string): T | undefined {
    const held = this.held.get(path);
    if (!held) return undefined;
    if (identity(path) === held.identity) return held.value as T;
    this.held.delete(path);
    return undefined;
  }

  /** Keeps `value` as what the file at `path` now holds (just read or written). */
  remember(path: string, value: unknown): void {
    const now = identity(path);
    if (now === undefined) this.held.delete(path);
    else this.held.set(path, { identity: now, value });
  }
}

/** A file's identity as the file system reports it, to the nanosecond; undefined when it is not there. */
function identity(path: string): string | undefined {
  try {
    const stat = statSync(path, { bigint: true });
    return `${stat.size}:${stat.ctimeNs}:${stat.mtimeNs}:${stat.ino}`;
  } catch {
    return undefined;
  }
}
