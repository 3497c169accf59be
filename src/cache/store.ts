import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMainThread } from "node:worker_threads";
import { writeFileAtomic } from "../files/atomic.js";
import { environment } from "./environment.js";
import { environmentDigest } from "./key.js";
import { Journal } from "./journal.js";
import { readIdentified, replaceIdentified, type WarmFiles } from "./warm.js";
import { Packs } from "./pack.js";

/** The project's cache folder, relative to its root. */
export const CACHE_DIR = ".presswork-cache";

/** The file that says which code made the cache: see CacheStore.open. */
const STAMP = "version.json";

/**
 * The build's cache: one folder (`.presswork-cache/`), made by one version
 * of the code and its dependencies (see environment.ts), and every entry
 * in it found by a key from cacheKey (see key.ts). Entries come in three shapes, for three sizes of data:
 *
 * - a journal: a map of many small records (one per article), read whole
 *   and saved by appending what changed;
 * - packs: large texts (rendered bodies), appended and read back one by one
 *   by their place, which a journal records;
 * - a document: one JSON file (a parsed config, an output folder's
 *   manifest), or a folder of them (compiled issues), replaced atomically.
 *
 * Each run keeps what it used and drops the rest, so the folder does not
 * grow with every edit; anything lost or unreadable is made again.
 */
export class CacheStore {
  private readonly packSets: Packs[] = [];
  private readonly scratches: string[] = [];

  private constructor(
    /** The folder, or undefined when nothing is to be kept (`--no-cache`). */
    readonly dir: string | undefined,
    /** The journals and warm documents this process keeps parsed between runs. */
    private readonly warm?: WarmFiles,
  ) {}

  /**
   * Opens the cache folder `dir`. A folder made under another environment
   * (other dependencies, Node major version or cache version: see
   * environment.ts), or whose stamp is missing, is emptied first, so no entry
   * made by other code is ever read. Without `dir`, a store that keeps
   * nothing between runs: its packs live in a temporary folder, removed when
   * the process exits. A process that builds again and again (`preview`)
   * gives every run the same `warm`, so that journals and warm documents are
   * parsed once, not on every run.
   */
  static open(dir: string | undefined, warm?: WarmFiles): CacheStore {
    if (!dir) return new CacheStore(undefined);
    const version = environmentDigest();
    if (stampedVersion(dir) !== version) {
      const env = environment();
      mkdirSync(dir, { recursive: true });
      for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
      writeFileAtomic(join(dir, STAMP), `${JSON.stringify({ version, presswork: env.presswork, node: env.node, packages: env.packages.length, from: env.from }, null, 2)}\n`);
    }
    return new CacheStore(dir, warm);
  }

  /**
   * The documents of the cache folder `dir` as a build left them, to read
   * only; undefined when it holds none made under this environment (see
   * open). For a command that builds nothing: the folder is left as it is.
   */
  static reader(dir: string): Pick<CacheStore, "read"> | undefined {
    if (stampedVersion(dir) !== environmentDigest()) return undefined;
    const store = new CacheStore(dir);
    return { read: (name, options) => store.read(name, options) };
  }

  /** Whether the store keeps what it is given for the next run. */
  get persistent(): boolean {
    return this.dir !== undefined;
  }

  /** The journal `name`: see Journal. In a store that keeps nothing, it starts empty and saves nothing. */
  journal<V>(name: string): Journal<V> {
    return new Journal<V>(this.dir && join(this.dir, name), this.warm);
  }

  /**
   * The packs in folder `name`: see Packs. Closed with the store; their texts
   * can still be read after, also in a store that keeps nothing (until the
   * process exits).
   */
  packs(name: string): Packs {
    const packs = new Packs(this.dir ? join(this.dir, name) : scratchFolder(name));
    this.packSets.push(packs);
    return packs;
  }

  /** Packs for this run alone, in a temporary folder that closing the store removes: for what a run makes and writes later. */
  scratch(name: string): Packs {
    const dir = scratchFolder(name);
    this.scratches.push(dir);
    const packs = new Packs(dir);
    this.packSets.push(packs);
    return packs;
  }

  /** Whether the entry `name` (a file or folder) is there. */
  has(name: string): boolean {
    return this.dir !== undefined && existsSync(join(this.dir, name));
  }

  /**
   * The document `name`, or undefined when there is none or it cannot be
   * read. A `warm` document is taken from the store's WarmFiles, when it has
   * them, while its file is as this process last read or wrote it: the same
   * value every time, which nothing may change.
   */
  read<T>(name: string, { warm = false } = {}): T | undefined {
    if (!this.dir) return undefined;
    const path = join(this.dir, name);
    const files = warm ? this.warm : undefined;
    const recalled = files?.recall<T>(path);
    if (recalled) return recalled.value;
    try {
      if (!files) return JSON.parse(readFileSync(path, "utf8")) as T;
      const { bytes, identity } = readIdentified(path);
      const value = JSON.parse(bytes.toString("utf8")) as T;
      files.keep(path, identity, value);
      return value;
    } catch {
      return undefined;
    }
  }

  /** Replaces the document `name` atomically; a `warm` one (see read) is kept as written. */
  write(name: string, data: unknown, { warm = false } = {}): void {
    if (!this.dir) return;
    const path = join(this.dir, name);
    mkdirSync(join(path, ".."), { recursive: true });
    const files = warm ? this.warm : undefined;
    if (!files) return writeFileAtomic(path, JSON.stringify(data));
    files.keep(path, replaceIdentified(path, JSON.stringify(data)), data);
  }

  /** A folder of documents whose entries the run marks as used; see DocumentFolder. */
  folder(name: string): DocumentFolder | undefined {
    return this.dir ? new DocumentFolder(this, name) : undefined;
  }

  /** Writes what the packs hold and closes them, and removes the run's scratch packs. */
  close(): void {
    for (const packs of this.packSets) packs.close();
    for (const dir of this.scratches.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** The environment a cache folder was made under, as its stamp says; undefined for a new folder, or one from before stamps. */
function stampedVersion(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, STAMP), "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * Documents in one folder of the store, by name (a cache key and a suffix).
 * A run marks every entry it uses, read or written; prune removes the rest.
 */
export class DocumentFolder {
  private readonly used = new Set<string>();

  constructor(
    private readonly store: CacheStore,
    private readonly name: string,
  ) {}

  /** The document `entry`, marked as used; undefined when there is none. */
  read<T>(entry: string): T | undefined {
    this.used.add(entry);
    return this.store.read<T>(`${this.name}/${entry}`);
  }

  /** Whether `entry` is there, marking it as used. */
  has(entry: string): boolean {
    this.used.add(entry);
    return this.store.has(`${this.name}/${entry}`);
  }

  /** Writes the document `entry`, marked as used. */
  write(entry: string, data: unknown): void {
    this.used.add(entry);
    this.store.write(`${this.name}/${entry}`, data);
  }

  /** Marks `entry` as used without reading it. */
  keep(entry: string): void {
    this.used.add(entry);
  }

  /** Removes every entry this run did not use. */
  prune(): void {
    const dir = this.store.dir && join(this.store.dir, this.name);
    if (!dir) return;
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) if (!this.used.has(name)) rmSync(join(dir, name), { force: true });
  }
}

let scratch: string | undefined;
let watching = false;
/**
 * Marks the signal handlers below, in every copy of this module a process
 * holds (a test runner that reloads modules leaves several): each copy
 * leaves a signal to other code's handlers, never to another copy's, or
 * each would wait on the other and the signal would end nothing.
 */
const SCRATCH_HANDLER = Symbol.for("presswork.scratch-signal-handler");

/**
 * A folder under this process's temporary folder, made on first use and
 * removed when the process ends, by Ctrl-C or SIGTERM (a cancelled job)
 * too: a build stopped halfway would otherwise leave its spilled pages and
 * feeds (hundreds of MB on a large archive) in the temporary folder.
 */
function scratchFolder(name: string): string {
  if (!scratch) {
    // Handlers first: a signal that comes while the folder is made waits for this code to finish.
    removeScratchOnExitOrSignal();
    scratch = mkdtempSync(join(tmpdir(), "presswork-scratch-"));
  }
  return mkdtempSync(join(scratch, `${name}-`));
}

/**
 * Removes the scratch folder when the process exits, and on SIGINT, SIGTERM
 * or SIGHUP when nothing else handles the signal: the folder goes, then the
 * signal is raised again and ends the process as it would have. A command
 * that handles the signal itself (`preview`, `serve`) exits on its own, and
 * the exit removes the folder. Signals reach the main thread alone: a
 * thread's folder goes when the thread exits.
 */
function removeScratchOnExitOrSignal(): void {
  if (watching) return;
  watching = true;
  const remove = () => scratch && rmSync(scratch, { recursive: true, force: true });
  process.once("exit", remove);
  if (!isMainThread) return;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const handler = Object.assign(
      () => {
        // First in line (see below), so a handler added with once is still counted while it runs.
        if (process.listeners(signal).some((listener) => !(SCRATCH_HANDLER in listener))) return;
        process.off(signal, handler);
        try {
          remove();
        } finally {
          process.kill(process.pid, signal);
        }
      },
      { [SCRATCH_HANDLER]: true },
    );
    process.prependListener(signal, handler);
  }
}
