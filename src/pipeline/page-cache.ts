import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { listFiles } from "../output/write.js";
import type { PageSpec } from "../site/pages.js";
import type { TemplateSources } from "../site/templates.js";

/** Page keys of the last build written to an output folder: file path to the hash of its template and data. */
type Manifest = Record<string, string>;

/**
 * Remembers what each page of the last build was made from, so a rebuild
 * renders only pages whose template or data changed and takes the others
 * from the previous output as they are.
 */
export class PageCache {
  private constructor(
    private readonly manifestPath: string | undefined,
    private readonly previous: Manifest,
    private readonly existing: ReadonlySet<string>,
  ) {}

  /** Opens the manifest for `outDir` in `cacheDir` (none when either is missing). */
  static async open(cacheDir: string | undefined, outDir: string | undefined): Promise<PageCache> {
    if (!cacheDir || !outDir) return new PageCache(undefined, {}, new Set());
    const manifestPath = join(cacheDir, `pages-${createHash("sha1").update(outDir).digest("hex").slice(0, 12)}.json`);
    const previous = await readFile(manifestPath, "utf8").then((text) => JSON.parse(text) as Manifest, () => ({}));
    return new PageCache(manifestPath, previous, listFiles(outDir));
  }

  /**
   * Splits pages into those to render and those whose previous output is
   * still right, and returns the keys of all of them.
   */
  sort(specs: readonly PageSpec[], templates: TemplateSources): { render: PageSpec[]; reuse: Set<string>; keys: Manifest } {
    const templateHash = createHash("sha1");
    for (const name of Object.keys(templates).sort()) templateHash.update(name).update("\0").update(templates[name] ?? "").update("\0");
    const base = templateHash.digest("hex");
    const render: PageSpec[] = [];
    const reuse = new Set<string>();
    const keys: Manifest = {};
    for (const spec of specs) {
      const key = createHash("sha1").update(base).update(spec.template).update(JSON.stringify(spec.scope)).digest("hex");
      keys[spec.file] = key;
      if (this.previous[spec.file] === key && this.existing.has(spec.file)) reuse.add(spec.file);
      else render.push(spec);
    }
    return { render, reuse, keys };
  }

  /** Records the keys of a build once its output is written. */
  async save(keys: Manifest): Promise<void> {
    if (!this.manifestPath) return;
    await mkdir(join(this.manifestPath, ".."), { recursive: true });
    await writeFile(this.manifestPath, JSON.stringify(keys));
  }
}
