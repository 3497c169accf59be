import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** The project's cache folder, relative to its root. */
export const CACHE_DIR = ".presswork-cache";

/** A cache file's data, or undefined when there is none yet or it cannot be read: the caller starts afresh. */
export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** Writes a cache file beside itself, then renames it: a crash never leaves half a file, nor does a second build. */
export function writeJson(path: string, data: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(data));
  renameSync(temporary, path);
}
