import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync, type Stats } from "node:fs";
import { dirname, join, sep } from "node:path";
import { PressworkError } from "../errors/error.js";

/** A generated file's content: its text or bytes, or a function that gives them when it is written (kept outside memory until then). */
export type FileData = string | Uint8Array | (() => string | Uint8Array);

/** What a build writes: generated files by output path, and files copied from the project. */
export interface OutputPlan {
  files: Map<string, FileData>;
  /** Output path to the absolute path of the file to copy there. */
  copies: Map<string, string>;
  /** Output paths whose file from the previous build is still right, left as they are. */
  reuse: Set<string>;
  /** Set once impossiblePaths found nothing in the plan's paths, to which nothing but the MARKER is added after: writeOutput need not look again. */
  checked?: true;
}

/** Whether the plan has a file at output path `path`: to write, to copy or to keep. */
export function planned(plan: OutputPlan, path: string): boolean {
  return plan.files.has(path) || plan.copies.has(path) || plan.reuse.has(path);
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


/** The longest file or folder name in bytes that common file systems take (ext4, APFS, NTFS). */
export const NAME_MAX = 255;
/** The longest output path, relative to the output folder, in bytes: a deep URL is hard to use long before a file system refuses it. */
export const PATH_MAX = 1024;

/**
 * The paths of a plan that no file system could hold, or that clash (a
 * file where another path needs a folder), each with why. Checked before
 * anything is written, and by `check`, so that both refuse the same build.
 */
export function impossiblePaths(paths: Iterable<string>): Array<{ path: string; reason: string }> {
  const problems: Array<{ path: string; reason: string }> = [];
  const all = paths instanceof Set ? (paths as Set<string>) : new Set(paths);
  const clash = new Set<string>();
  for (const path of all) {
    // A UTF-8 byte count only where it could matter: a character takes at most 3 bytes per UTF-16 unit.
    const bytes = (text: string) => (text.length * 3 <= NAME_MAX ? text.length : Buffer.byteLength(text));
    let long: string | undefined;
    let bad = path === "";
    for (let start = 0, end = 0; end !== -1 && !bad; start = end + 1) {
      end = path.indexOf("/", start);
      const part = end === -1 ? path.slice(start) : path.slice(start, end);
      if (part === "" || part === "." || part === "..") bad = true;
      else if (!long && bytes(part) > NAME_MAX) long = part;
      // A file where this path needs a folder.
      if (end !== -1 && all.has(path.slice(0, end))) clash.add(path.slice(0, end));
    }
    if (bad) problems.push({ path, reason: "is not a path inside the output folder" });
    else if (long) problems.push({ path, reason: `has a name of ${Buffer.byteLength(long)} bytes, and file systems take at most ${NAME_MAX}: shorten the slug, tag or key it comes from` });
    else if (path.length * 3 > PATH_MAX && Buffer.byteLength(path) > PATH_MAX) problems.push({ path, reason: `is ${Buffer.byteLength(path)} bytes long, over the ${PATH_MAX} an output path may have` });
  }
  for (const path of clash) problems.push({ path, reason: "is both a file and the folder of other files" });
  return problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Brings `outDir` in line with the plan, touching only what changed, so
 * that either the whole build lands or, when something cannot be written,
 * nothing does:
 * - every path is checked first (impossiblePaths, unless the plan says it
 *   was), and the folder must be
 *   Presswork's (it holds the MARKER file) or empty;
 * - a new folder gets its marker before anything else, so a build that
 *   fails part way never leaves a folder the next build refuses;
 * - every new or changed file is then staged: a new one written in place, a
 *   changed one beside itself. A failure removes what was staged and
 *   leaves the folder as it was;
 * - then staged files replace their old versions (one rename each, so a
 *   server reading the folder never sees half a file) and files the plan
 *   no longer has are removed. The marker changes first, so if this fails
 *   part way the next build sees that the folder is not as its records say
 *   and rewrites what differs.
 * `existing` lists what the folder holds, when the caller knows.
 * Synchronous calls: for thousands of small files they are faster than the
 * thread pool. The plan must include the MARKER file.
 */
export function writeOutput(outDir: string, plan: OutputPlan, existing: ReadonlySet<string> = listFiles(outDir)): WriteReport {
  if (existing.size > 0 && !existing.has(MARKER)) {
    throw new PressworkError("output-foreign", `${outDir} holds files that Presswork did not write; it replaces everything in its output folder, so choose another --out or empty this one`);
  }
  const impossible = plan.checked ? [] : impossiblePaths([...plan.files.keys(), ...plan.copies.keys(), ...plan.reuse]);
  if (impossible.length > 0) throw new PressworkError("output-write", `cannot write ${impossible[0]?.path}: it ${impossible[0]?.reason}. Nothing was written`);
  const planned = plan.files.get(MARKER);
  const marker = typeof planned === "function" ? planned() : planned;
  if (marker === undefined) throw new PressworkError("internal", `the output plan has no ${MARKER}`);

  const report: WriteReport = { written: 0, unchanged: 0, removed: 0 };
  /** Folders this build made, to remove again if it fails, and folders known to be there. */
  const made: string[] = [];
  const known = new Set<string>();
  const ensureDir = (path: string) => {
    const missing: string[] = [];
    for (let dir = dirname(path); !known.has(dir); dir = dirname(dir)) {
      if (isDir(dir) || dir === dirname(dir)) {
        known.add(dir);
        break;
      }
      missing.unshift(dir);
    }
    for (const dir of missing) {
      mkdirSync(dir);
      made.push(dir);
      known.add(dir);
    }
  };
  /** Written in place (new files) or beside their target (changed ones, renamed over it later). */
  const created: string[] = [];
  const staged: Array<[temporary: string, target: string]> = [];
  const rollback = () => {
    for (const path of created) unlinkQuietly(path);
    for (const [temporary] of staged) unlinkQuietly(temporary);
    for (const dir of made.reverse()) {
      try {
        rmdirSync(dir);
      } catch {
        // not empty: something else lives there
      }
    }
  };

  const fresh = !existing.has(MARKER);
  let writing = join(outDir, MARKER);
  try {
    ensureDir(join(outDir, MARKER));
    if (fresh) {
      writeFileSync(join(outDir, MARKER), marker);
      created.push(join(outDir, MARKER));
    }
    const stage = (path: string, write: (file: string) => void) => {
      const target = join(outDir, path);
      ensureDir(target);
      if (!existing.has(path)) {
        write(target);
        created.push(target);
      } else {
        const temporary = `${target}.${process.pid}.tmp`;
        write(temporary);
        staged.push([temporary, target]);
      }
      report.written++;
    };
    for (const [path, deferred] of plan.files) {
      if (path === MARKER) continue;
      const data = typeof deferred === "function" ? deferred() : deferred;
      writing = join(outDir, path);
      if (existing.has(path) && sameBytes(writing, data)) report.unchanged++;
      else stage(path, (file) => writeFileSync(file, data));
    }
    for (const [path, from] of plan.copies) {
      writing = join(outDir, path);
      if (existing.has(path) && sameFile(from, writing)) report.unchanged++;
      else stage(path, (file) => copyFileSync(from, file));
    }
  } catch (error) {
    rollback();
    throw new PressworkError("output-write", `${describe(error, writing, outDir)}. Nothing was written`);
  }

  try {
    if (!fresh) {
      if (sameBytes(join(outDir, MARKER), marker)) report.unchanged++;
      else {
        writeFileSync(join(outDir, MARKER), marker);
        report.written++;
      }
    } else report.written++;
    for (const [temporary, target] of staged) renameSync(temporary, target);
    staged.length = 0;
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
  } catch (error) {
    for (const [temporary] of staged) unlinkQuietly(temporary);
    throw new PressworkError("output-write", `${describe(error, (error as NodeJS.ErrnoException).path ?? outDir, outDir)}. The output folder is partly updated: the next build finds what differs and writes it`);
  }
  return report;
}

/** A file-system error as a sentence naming the file it was writing, relative to the output folder's parent. */
function describe(error: unknown, target: string, outDir: string): string {
  const e = error as NodeJS.ErrnoException;
  const what: Record<string, string> = {
    ENOENT: e.path === target ? "its folder is gone" : `${e.path ?? "the file to copy"} is gone`,
    ENOSPC: "the disk is full",
    EDQUOT: "the disk quota is used up",
    EACCES: "permission denied",
    EPERM: "permission denied",
    EROFS: "the file system is read-only",
    ENOTDIR: "a file stands where a folder is needed",
    EEXIST: "a file stands where a folder is needed",
    EISDIR: "a folder stands where a file is needed",
    ENAMETOOLONG: "the name is too long for the file system",
    EMFILE: "too many files are open",
  };
  return `cannot write ${target.slice(dirname(outDir).length + 1)}: ${(e.code && what[e.code]) ?? e.message} (${e.code ?? "error"})`;
}

function isDir(path: string): boolean {
  try {
    // A missing folder is the common case in a first build (one for each page): answered without an exception.
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
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

/** Whether the output file holds these bytes; false when it is missing (removed by hand from a folder the build trusts). */
function sameBytes(path: string, data: string | Uint8Array): boolean {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  return statOf(path)?.size === bytes.length && readFileSync(path).equals(bytes);
}

function sameFile(from: string, to: string): boolean {
  const a = statSync(from);
  const b = statOf(to);
  return b !== undefined && b.size === a.size && a.mtimeMs <= b.mtimeMs;
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    // A missing file is undefined above; a path through a file (ENOTDIR) still throws, and is missing too.
    if ((error as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw error;
  }
}

function removeEmptyDirs(dir: string, keep = false): boolean {
  let empty = true;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !removeEmptyDirs(join(dir, entry.name))) empty = false;
  }
  if (empty && !keep) rmdirSync(dir);
  return empty;
}
