import { appendFileSync, closeSync, fstatSync, openSync, readFileSync, statSync, writeFileSync, type BigIntStats } from "node:fs";
import { replaceFile } from "../files/atomic.js";

/**
 * The cache files a long-lived process (`presswork preview`) keeps parsed
 * from one build to the next, each with the identity its file had when this
 * process read or wrote it: size, change and modification times to the
 * nanosecond, and inode. A build takes the parsed value again while the
 * file still has that identity, instead of reading and parsing it.
 *
 * Presswork changes a cache file only by appending to it (a new size) or by
 * renaming a new file over it (a new inode). A file that another process
 * (a `presswork build` in another terminal) changed while this one read it,
 * or between this one's look and its write, is not kept: the next build
 * reads it from disk. A kept value is shared by every build that recalls
 * it, so nothing may change it.
 */
export class WarmFiles {
  private readonly held = new Map<string, { identity: string; value: unknown }>();

  /** The value kept for the file at `path`, with the file's identity, while the file has that identity. */
  recall<T>(path: string): { value: T; identity: string } | undefined {
    const held = this.held.get(path);
    if (!held) return undefined;
    if (identityOf(path) === held.identity) return { value: held.value as T, identity: held.identity };
    this.held.delete(path);
    return undefined;
  }

  /** Keeps `value` as what the file at `path` holds while it has `identity`; without one (the file changed meanwhile), forgets the file. */
  keep(path: string, identity: string | undefined, value: unknown): void {
    if (identity === undefined) this.held.delete(path);
    else this.held.set(path, { identity, value });
  }
}

/**
 * The bytes of the file at `path`, with its identity when nothing changed
 * it while it was read (its size is the length read). Throws as
 * readFileSync does.
 */
export function readIdentified(path: string): { bytes: Buffer; identity?: string } {
  const fd = openSync(path, "r");
  try {
    const stat = fstatSync(fd, { bigint: true });
    const bytes = readFileSync(fd);
    return BigInt(bytes.length) === stat.size ? { bytes, identity: identity(stat) } : { bytes };
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends `text` to the file at `path`. Returns the file's identity after
 * the append when it had `before` until then and nothing else was appended
 * with it; otherwise undefined.
 */
export function appendIdentified(path: string, text: string, before: string | undefined): string | undefined {
  const fd = openSync(path, "a");
  try {
    const was = fstatSync(fd, { bigint: true });
    appendFileSync(fd, text);
    const now = fstatSync(fd, { bigint: true });
    return identity(was) === before && now.size === was.size + BigInt(Buffer.byteLength(text)) ? identity(now) : undefined;
  } finally {
    closeSync(fd);
  }
}

/** Replaces the file at `path` atomically with `data`; returns its identity when, once renamed, it is still the file written. */
export function replaceIdentified(path: string, data: string): string | undefined {
  let written: BigIntStats | undefined;
  replaceFile(path, (temporary) => {
    writeFileSync(temporary, data);
    written = statSync(temporary, { bigint: true });
  });
  const now = statSync(path, { bigint: true, throwIfNoEntry: false });
  return now && written && now.ino === written.ino && now.size === written.size ? identity(now) : undefined;
}

function identityOf(path: string): string | undefined {
  const stat = statSync(path, { bigint: true, throwIfNoEntry: false });
  return stat && identity(stat);
}

function identity(stat: BigIntStats): string {
  return `${stat.size}:${stat.ctimeNs}:${stat.mtimeNs}:${stat.ino}`;
}
