import { readFileSync } from "node:fs";
import { join } from "node:path";
import { listFiles, MARKER } from "../output/write.js";
import type { PageSpec } from "../site/pages.js";
import type { TemplateSources } from "../templates/liquid.js";
import { cacheKey, digest } from "./key.js";
import type { CacheStore } from "./store.js";

/**
 * The manifest as stored. Most files are keyed and most keyed files are
 * pages, so the lists of files and of pages say only how they differ from
 * the keys (a third of the manifest).
 */
interface Manifest {
  /** Also written into the output folder's marker: when both agree, the folder is as the build that wrote the manifest left it. */
  token: string;
  /** The sum of the files' entries the token is made from (see OutputState.marker), in hex. */
  sum: string;
  /** Output file to the hash of what it was made from (pages, feeds, the issue preview). */
  pages: Record<string, string>;
  /** The files the build wrote or kept that have no key (copies, the sitemap, redirects, the marker). */
  unkeyed: string[];
  /** Keyed files the build did not write or keep. */
  absent: string[];
  /** What the pages were planned from (see OutputState.plannedFrom), their list as the keyed files that are no page of it. */
  plan?: Omit<PagePlan, "pages"> & { notPages: string[] };
}

/**
 * What the builds since the manifest changed, while the pages are planned as
 * it has them: a rebuild that writes a few files of thousands writes this,
 * not the manifest (1.1 MB for a site of 5,000 articles).
 */
interface Changes {
  /** The token of the manifest these changes apply to: changes to another are void. */
  on: string;
  token: string;
  sum: string;
  /** Files keyed anew (null: no longer keyed). */
  keys: Record<string, string | null>;
  /** Files now in the output (true) or no longer. */
  present: Record<string, boolean>;
  /** Article bodies' digests, by article id (null: the article is gone). */
  bodies: Record<string, string | null>;
}

/** The pages of a build and what they were planned from. */
interface PagePlan {
  /** A digest of everything the pages show but the article bodies. */
  signature: string;
  pages: string[];
  /** Each article's body digest, by article id. */
  bodies: Record<string, string>;
}

/** The state of the output folder as the last build left it, when its marker says so. */
interface Last {
  manifest: Manifest;
  changes: Changes | undefined;
  token: string;
  sum: bigint;
  /** How many files it keyed. */
  keyed: number;
  plan: PagePlan | undefined;
}

/**
 * What the last build left in an output folder: the key of each page, feed
 * and preview file, and the list of files. A rebuild makes only the files
 * whose key changed, and when the folder's marker matches it needs not even
 * list the folder.
 */
export class OutputState {
  /** This build's key of every keyed output file (without a prototype: a file may be named `__proto__`). */
  private readonly keys: Record<string, string> = Object.create(null) as Record<string, string>;
  private plan: PagePlan | undefined;
  /** Files whose key this build found changed, new, or none known. */
  private readonly rekeyed = new Set<string>();
  /** Whether marker found the last build's files, every one and no other. */
  private samePaths = false;
  /** The marker's findings, for save. */
  private made: { token: string; sum: bigint; present: Set<string>; changes?: Pick<Changes, "keys" | "present"> } | undefined;

  private constructor(
    private readonly store: CacheStore | undefined,
    private readonly name: string | undefined,
    private readonly last: Last | undefined,
    /** Files now in the output folder. */
    readonly existing: ReadonlySet<string>,
  ) {}

  /** Reads the state of `outDir` from the store's manifest of it (an empty state when the store keeps nothing or there is no output folder). */
  static open(store: CacheStore, outDir: string | undefined): OutputState {
    if (!store.persistent || !outDir) return new OutputState(undefined, undefined, undefined, outDir ? listFiles(outDir) : new Set());
    const name = `output-${digest(outDir)}`;
    const last = readLast(store, name, outDir);
    if (!last) return new OutputState(store, name, undefined, listFiles(outDir));
    const { manifest, changes } = last;
    const absent = new Set(manifest.absent);
    const files = new Set(manifest.unkeyed);
    for (const file in manifest.pages) if (!absent.has(file)) files.add(file);
    for (const file in changes?.present) {
      if (changes?.present[file]) files.add(file);
      else files.delete(file);
    }
    return new OutputState(store, name, last, files);
  }

  /** The key the last build gave `file`, if it had one (a file may be named `toString`). */
  private lastKey(file: string): string | undefined {
    const changed = this.last?.changes?.keys;
    if (changed && Object.hasOwn(changed, file)) return changed[file] ?? undefined;
    const pages = this.last?.manifest.pages;
    return pages && Object.hasOwn(pages, file) ? pages[file] : undefined;
  }

  /**
   * The pages of the last build and its article bodies, when its pages were
   * planned from the same signature: then only the article pages whose
   * bodies changed can differ, and every other page keeps its key.
   */
  plannedFrom(signature: string): Omit<PagePlan, "signature"> | undefined {
    return this.last?.plan?.signature === signature ? this.last.plan : undefined;
  }

  /** Carries a file's key over from the last build, whose inputs are known unchanged (a page, or a feed). */
  carry(file: string): void {
    const key = this.lastKey(file);
    if (key === undefined) this.rekeyed.add(file);
    this.keys[file] = key ?? "";
  }

  /** Records what this build's pages were planned from. */
  planned(plan: PagePlan): void {
    this.plan = plan;
  }

  /** Records the key of an output file: true when the last build wrote it with the same key and it is still there. */
  keep(file: string, key: string): boolean {
    const same = this.lastKey(file) === key;
    if (!same) this.rekeyed.add(file);
    this.keys[file] = key;
    return same && this.existing.has(file);
  }

  /**
   * Splits pages into those to render and those whose file from the last
   * build is still right: a page's key is its template set and the digest
   * of its scope.
   */
  sort(specs: readonly PageSpec[], templates: TemplateSources): { render: PageSpec[]; reuse: Set<string> } {
    const base = cacheKey(Object.keys(templates).sort().map((name) => [name, templates[name]]));
    const render: PageSpec[] = [];
    const reuse = new Set<string>();
    for (const spec of specs) {
      if (this.keep(spec.file, digest(base, spec.template, spec.key))) reuse.add(spec.file);
      else render.push(spec);
    }
    return { render, reuse };
  }

  /**
   * The marker text for a build that writes or keeps `files` (the marker
   * aside); the same build always gets the same text. Its token is a digest
   * of the pages' signature and of a sum of the files: the XOR of a hash of
   * each file's entry (its path, whether it is in the output, its key if it
   * has one). A rebuild adds to the last build's sum the entries that
   * changed, rather than hash every file again.
   */
  marker(files: readonly string[]): string {
    const present = new Set(files).add(MARKER);
    const last = this.last;
    const keyed = Object.keys(this.keys).length;
    let sum = 0n;
    let changes: Pick<Changes, "keys" | "present"> | undefined;
    if (!last) {
      for (const file in this.keys) sum ^= term(file, present.has(file), this.keys[file]);
      for (const file of present) if (!Object.hasOwn(this.keys, file)) sum ^= term(file, true, undefined);
    } else {
      changes = { keys: Object.create(null) as Changes["keys"], present: Object.create(null) as Changes["present"] };
      const touched = new Set(this.rekeyed);
      // Files keyed by the last build and not by this one: only when this one keeps fewer of them.
      const keyedBefore = keyed - [...this.rekeyed].filter((file) => this.lastKey(file) === undefined).length;
      if (keyedBefore < last.keyed) {
        for (const file in last.manifest.pages) if (!Object.hasOwn(this.keys, file)) touched.add(file);
        for (const file in last.changes?.keys) if (!Object.hasOwn(this.keys, file)) touched.add(file);
      }
      // Files in the output now and not then.
      let added = 0;
      for (const file of present) {
        if (this.existing.has(file)) continue;
        touched.add(file);
        added++;
      }
      this.samePaths = added === 0 && present.size === this.existing.size;
      // Files in the output then and not now: only when fewer of this build's files were there then than there were.
      if (present.size - added < this.existing.size) for (const file of this.existing) if (!present.has(file)) touched.add(file);
      sum = last.sum;
      for (const file of touched) {
        const key = this.lastKey(file);
        const was = this.existing.has(file);
        if (key !== undefined || was) sum ^= term(file, was, key);
        const now = Object.hasOwn(this.keys, file) ? this.keys[file] : undefined;
        if (now !== undefined || present.has(file)) sum ^= term(file, present.has(file), now);
        if (now !== key) changes.keys[file] = now ?? null;
        if (present.has(file) !== was) changes.present[file] = present.has(file);
      }
    }
    const token = digest(sum.toString(16), this.plan?.signature ?? "");
    this.made = { token, sum, present, ...(changes ? { changes } : {}) };
    return `This folder is written by \`presswork build\`; anything else put here is removed.\nbuild ${token}\n`;
  }

  /** Whether the files marker was given (and the marker) are those the last build left, every one and no other. */
  pathsAsBefore(): boolean {
    return this.samePaths;
  }

  /** Records a build once the files its marker was made for are written. */
  save(): void {
    const { store, name, made, last, plan } = this;
    if (!store || !name || !made || made.token === last?.token) return;
    // The changes since the manifest, while the pages are planned as it has them and they stay few.
    const lastPlan = last?.plan;
    if (last && made.changes && plan && lastPlan && plan.signature === lastPlan.signature && plan.pages === lastPlan.pages) {
      const bodies: Changes["bodies"] = { ...last.changes?.bodies };
      for (const id in plan.bodies) if (plan.bodies[id] !== lastPlan.bodies[id]) bodies[id] = plan.bodies[id] as string;
      for (const id in lastPlan.bodies) if (!Object.hasOwn(plan.bodies, id)) bodies[id] = null;
      const changes: Changes = { on: last.manifest.token, token: made.token, sum: made.sum.toString(16), keys: { ...last.changes?.keys, ...made.changes.keys }, present: { ...last.changes?.present, ...made.changes.present }, bodies };
      if (Object.keys(changes.keys).length + Object.keys(changes.present).length + Object.keys(bodies).length <= Math.max(CHANGES_MIN, last.keyed / 4)) {
        store.write(`${name}.changes.json`, changes, { warm: true });
        return;
      }
    }
    const keyed = Object.keys(this.keys);
    const pages = new Set(plan?.pages);
    const manifest: Manifest = {
      token: made.token,
      sum: made.sum.toString(16),
      pages: this.keys,
      unkeyed: [...made.present].filter((file) => !Object.hasOwn(this.keys, file)),
      absent: keyed.filter((file) => !made.present.has(file)),
      ...(plan ? { plan: { signature: plan.signature, bodies: plan.bodies, notPages: keyed.filter((file) => !pages.has(file)) } } : {}),
    };
    store.write(`${name}.json`, manifest, { warm: true });
    // Changes kept for the manifest before are void.
    store.write(`${name}.changes.json`, {}, { warm: true });
  }
}

/** Changes are kept beside a manifest while there are at most this many, or a quarter as many as the files it keys; then it is written again. */
const CHANGES_MIN = 64;

/** The last build's manifest and changes, when the output folder's marker has its token; undefined otherwise. */
function readLast(store: CacheStore, name: string, outDir: string): Last | undefined {
  const manifest = store.read<Manifest>(`${name}.json`, { warm: true });
  // A manifest of another shape (written by hand, or cut short) is as none: the folder is listed instead.
  if (!manifest || typeof manifest.token !== "string" || typeof manifest.sum !== "string" || !Array.isArray(manifest.unkeyed) || !Array.isArray(manifest.absent) || typeof manifest.pages !== "object" || manifest.pages === null) return undefined;
  const read = store.read<Changes>(`${name}.changes.json`, { warm: true });
  const changes = read?.on === manifest.token && typeof read.token === "string" && typeof read.sum === "string" && [read.keys, read.present, read.bodies].every((part) => typeof part === "object" && part !== null) ? read : undefined;
  const token = changes?.token ?? manifest.token;
  try {
    if (!readFileSync(join(outDir, MARKER), "utf8").includes(token)) return undefined;
  } catch {
    return undefined;
  }
  const sum = changes?.sum ?? manifest.sum;
  if (!/^[0-9a-f]{1,32}$/.test(sum)) return undefined;
  const keyedFiles = Object.keys(manifest.pages);
  let keyed = keyedFiles.length;
  for (const file in changes?.keys) keyed += (changes?.keys[file] === null ? 0 : 1) - (Object.hasOwn(manifest.pages, file) ? 1 : 0);
  const { plan: stored } = manifest;
  let plan: PagePlan | undefined;
  if (stored) {
    const notPages = new Set(stored.notPages);
    const bodies = changes ? { ...stored.bodies } : stored.bodies;
    for (const id in changes?.bodies) {
      const body = changes.bodies[id];
      if (body === null || body === undefined) delete bodies[id];
      else bodies[id] = body;
    }
    plan = { signature: stored.signature, bodies, pages: keyedFiles.filter((file) => !notPages.has(file)) };
  }
  return { manifest, changes, token, sum: BigInt(`0x${sum}`), keyed, plan };
}

/** A file's entry as the marker's sum counts it: the digest of its path, whether it is in the output, and its key. */
function term(file: string, present: boolean, key: string | undefined): bigint {
  return BigInt(`0x${digest(file, present, key ?? null)}`);
}
