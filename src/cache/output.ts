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
 * the keys (a third of the manifest, read and written on every rebuild).
 */
interface Manifest {
  /** Also written into the output folder's marker: when both agree, the folder is as the last build left it. */
  token: string;
  /** Output file to the hash of what it was made from (pages, feeds, the issue preview). */
  pages: Record<string, string>;
  /** The files the last build wrote or kept that have no key (copies, the sitemap, redirects, the marker). */
  unkeyed: string[];
  /** Keyed files the last build did not write or keep. */
  absent: string[];
  /** What the pages were planned from (see OutputState.plannedFrom), their list as the keyed files that are no page of it. */
  plan?: Omit<PagePlan, "pages"> & { notPages: string[] };
}

/** The pages of a build and what they were planned from. */
interface PagePlan {
  /** A digest of everything the pages show but the article bodies. */
  signature: string;
  pages: string[];
  /** Each article's body digest, by article id. */
  bodies: Record<string, string>;
}

/**
 * What the last build left in an output folder: the key of each page, feed
 * and preview file, and the list of files. A rebuild makes only the files
 * whose key changed, and when the folder's marker matches it needs not even
 * list the folder.
 */
export class OutputState {
  /** This build's key of every keyed output file. */
  readonly keys: Record<string, string> = {};
  private plan: PagePlan | undefined;

  private constructor(
    private readonly store: CacheStore | undefined,
    private readonly manifest: string | undefined,
    private readonly pages: Record<string, string>,
    /** The last build's token, when its output is still as it left it. */
    private readonly token: string | undefined,
    private readonly lastPlan: PagePlan | undefined,
    /** Files now in the output folder. */
    readonly existing: ReadonlySet<string>,
  ) {}

  /** Reads the state of `outDir` from the store's manifest of it (an empty state when the store keeps nothing or there is no output folder). */
  static open(store: CacheStore, outDir: string | undefined): OutputState {
    if (!store.persistent || !outDir) return new OutputState(undefined, undefined, {}, undefined, undefined, outDir ? listFiles(outDir) : new Set());
    const name = `output-${digest(outDir)}.json`;
    let manifest = store.read<Manifest>(name, { warm: true });
    try {
      if (manifest && !readFileSync(join(outDir, MARKER), "utf8").includes(manifest.token)) manifest = undefined;
    } catch {
      manifest = undefined;
    }
    // A manifest of another shape (written by hand, or cut short) is as none: the folder is listed instead.
    if (!manifest || !Array.isArray(manifest.unkeyed) || !Array.isArray(manifest.absent) || typeof manifest.pages !== "object" || manifest.pages === null) return new OutputState(store, name, {}, undefined, undefined, listFiles(outDir));
    const keyed = Object.keys(manifest.pages);
    const absent = new Set(manifest.absent);
    const files = new Set([...keyed.filter((file) => !absent.has(file)), ...manifest.unkeyed]);
    const notPages = new Set(manifest.plan?.notPages);
    const plan = manifest.plan && { signature: manifest.plan.signature, bodies: manifest.plan.bodies, pages: keyed.filter((file) => !notPages.has(file)) };
    return new OutputState(store, name, manifest.pages, manifest.token, plan, files);
  }

  /**
   * The pages of the last build and its article bodies, when its pages were
   * planned from the same signature: then only the article pages whose
   * bodies changed can differ, and every other page keeps its key.
   */
  plannedFrom(signature: string): Omit<PagePlan, "signature"> | undefined {
    return this.lastPlan?.signature === signature ? this.lastPlan : undefined;
  }

  /** Carries a page's key over from the last build, whose inputs are known unchanged. */
  carry(file: string): void {
    this.keys[file] = this.pages[file] ?? "";
  }

  /** Records what this build's pages were planned from. */
  planned(plan: PagePlan): void {
    this.plan = plan;
  }

  /** Records the key of an output file: true when the last build wrote it with the same key and it is still there. */
  keep(file: string, key: string): boolean {
    this.keys[file] = key;
    return this.pages[file] === key && this.existing.has(file);
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

  /** The marker text for a build with these files; the same build always gets the same text. */
  marker(files: readonly string[]): string {
    const keys = Object.keys(this.keys)
      .sort()
      .map((file) => [file, this.keys[file]]);
    const token = digest(keys, files, this.plan?.signature ?? "");
    return `This folder is written by \`presswork build\`; anything else put here is removed.\nbuild ${token}\n`;
  }

  /** Records a build once its output is written. */
  save(files: readonly string[], marker: string): void {
    if (!this.store || !this.manifest) return;
    const token = /build (\w+)/.exec(marker)?.[1] ?? "";
    if (token === this.token) return;
    const written = new Set(files);
    const keyed = Object.keys(this.keys);
    const pages = new Set(this.plan?.pages);
    const plan = this.plan && { signature: this.plan.signature, bodies: this.plan.bodies, notPages: keyed.filter((file) => !pages.has(file)) };
    const manifest: Manifest = { token, pages: { ...this.keys }, unkeyed: files.filter((file) => !Object.hasOwn(this.keys, file)), absent: keyed.filter((file) => !written.has(file)), ...(plan ? { plan } : {}) };
    this.store.write(this.manifest, manifest, { warm: true });
  }
}
