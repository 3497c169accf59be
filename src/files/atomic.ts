import { renameSync, rmSync, writeFileSync } from "node:fs";
import { threadId } from "node:worker_threads";

/**
 * Replaces the file at `path` all at once: `write` makes the new content at a
 * temporary path beside it, which is then renamed over it. A reader or a
 * crash sees the old file or the new, never half of one. The folder must exist.
 */
export function replaceFile(path: string, write: (temporary: string) => void): void {
  const temporary = `${path}.${process.pid}-${threadId}.tmp`;
  try {
    write(temporary);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Writes `data` to `path` with replaceFile. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  replaceFile(path, (temporary) => writeFileSync(temporary, data));
}
