import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { replaceFile } from "../files/atomic.js";

/** A generated file's content: its text or bytes, or a function that gives its text when it is written (kept outside memory until then). */
export type FileData = string | Uint8Array | (() => string);

/** What a build writes: generated files by output path, and files copied from the project. */
export interface OutputPlan {
  files: Map<string, FileData>;
  /** Output path to the absolute path of the file to copy there. */
  copies: Map<string, string>;
  /** Output paths whose file from the previous build is still right, left as they are. */
  reuse: Set<string>;
}

/** An empty plan to fill. */
export function emptyPlan(): OutputPlan {
  return { files: new Map(), copies: new Map(), reuse: new Set() };
}

/** What writing changed. */
export interface WriteReport {
  written: number;
  unchanged: number;
  removed: number;
}

/**
 * Brings `outDir` in line with the plan, touching only what changed. Each
 * file is replaced atomically (written beside itself, then renamed), so a
 * server or a deploy reading the folder never sees half a file; a file that
 * was not there is written in place, as a reader could only have found
 * nothing (a crash part way leaves it for the next build to rewrite); files the
 * plan no longer has are removed. A build that fails never gets here, so it
 * leaves the previous output as it was. `existing` lists what the folder
 * holds, when the caller knows. Synchronous calls: for thousands of small
 * files they are faster than the thread pool. The plan must include the MARKER file.
 */
export function writeOutput(outDir: string, plan: OutputPlan, existing: ReadonlySet<string> = listFiles(outDir)): WriteReport {
  const report: WriteReport = { written: 0, unchanged: 0, removed: 0 };
  if (existing.size > 0 && !existing.has(MARKER)) {
    throw new Error(`${outDir} holds files that Presswork did not write; it replaces everything in its output folder, so choose another --out or empty this one`);
  }
  const made = new Set<string>();
  const ensureDir = (path: string) => {
    const dir = dirname(path);
    if (made.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    made.add(dir);
  };
  const replace = (path: string, write: (temporary: string) => void) => {
    const target = join(outDir, path);
    ensureDir(target);
    if (!existing.has(path)) write(target);
    else replaceFile(target, write);
    report.written++;
  };
  for (const [path, deferred] of plan.files) {
    const data = typeof deferred === "function" ? deferred() : deferred;
    if (existing.has(path) && sameBytes(join(outDir, path), data)) report.unchanged++;
    else replace(path, (temporary) => writeFileSync(temporary, data));
  }
  for (const [path, from] of plan.copies) {
    if (existing.has(path) && sameFile(from, join(outDir, path))) report.unchanged++;
    else replace(path, (temporary) => copyFileSync(from, temporary));
  }
  report.unchanged += plan.reuse.size;
  for (const path of existing) {
    if (plan.files.has(path) || plan.copies.has(path) || plan.reuse.has(path)) continue;
    try {
      unlinkSync(join(outDir, path));
      report.removed++;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  if (report.removed > 0) removeEmptyDirs(outDir, true);
  return report;
}

/** A file that marks a folder as Presswork's output, so a build never empties a folder it did not make. */
export const MARKER = ".presswork-output";

/** Every file under a folder, as paths relative to it with forward slashes; empty when it does not exist. */
export function listFiles(dir: string): Set<string> {
  try {
    return new Set(
      readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name).slice(dir.length + 1).split(sep).join("/")),
    );
  } catch {
    return new Set();
  }
}

function sameBytes(path: string, data: string | Uint8Array): boolean {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  const size = statSync(path).size;
  return size === bytes.length && readFileSync(path).equals(bytes);
}

function sameFile(a: string, b: string): boolean {
  const [sa, sb] = [statSync(a), statSync(b)];
  return sa.size === sb.size && sa.mtimeMs <= sb.mtimeMs;
}

function removeEmptyDirs(dir: string, keep = false): boolean {
  let empty = true;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !removeEmptyDirs(join(dir, entry.name))) empty = false;
  }
  if (empty && !keep) rmdirSync(dir);
  return empty;
}
