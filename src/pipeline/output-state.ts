import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { listFiles, MARKER } from "../output/write.js";
import type { PageSpec } from "../site/pages.js";
import type { TemplateSources } from "../templates/liquid.js";

interface Manifest {
  /** Also written into the output folder's marker: when both agree, the folder is as the last build left it. */
  token: string;
  /** Page file to the hash of its template and data. */
  pages: Record<string, string>;
  /** Every file the last build wrote or kept. */
  files: string[];
}

/**
 * What the last build left in an output folder: each page's key and the list
 * of files. A rebuild renders only pages whose template or data changed,
 * and when the folder's marker matches it needs not even list the folder.
 */
export class OutputState {
  private constructor(
    private readonly manifestPath: string | undefined,
    private readonly pages: Record<string, string>,
    /** Files now in the output folder. */
    readonly existing: ReadonlySet<string>,
  ) {}

  /** Reads the state of `outDir` (an empty one when there is no cache or no output folder). */
  static open(cacheDir: string | undefined, outDir: string | undefined): OutputState {
    if (!cacheDir || !outDir) return new OutputState(undefined, {}, outDir ? listFiles(outDir) : new Set());
    const manifestPath = join(cacheDir, `output-${createHash("sha1").update(outDir).digest("hex").slice(0, 12)}.json`);
    let manifest: Manifest | undefined;
    try {
      manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as Manifest;
      if (!readFileSync(join(outDir, MARKER), "utf8").includes(manifest.token)) manifest = undefined;
    } catch {
      manifest = undefined;
    }
    if (!manifest) return new OutputState(manifestPath, {}, listFiles(outDir));
    return new OutputState(manifestPath, manifest.pages, new Set(manifest.files));
  }

  /**
   * Splits pages into those to render and those whose file from the last
   * build is still right, and returns every page's key. Article bodies enter
   * the key through their digest, not their text, which keeps this cheap.
   */
  sort(specs: readonly PageSpec[], templates: TemplateSources, digests: ReadonlyMap<string, string>): { render: PageSpec[]; reuse: Set<string>; keys: Record<string, string> } {
    const templateHash = createHash("sha1");
    for (const name of Object.keys(templates).sort()) templateHash.update(name).update("\0").update(templates[name] ?? "").update("\0");
    const base = templateHash.digest("hex");
    const memo = new WeakMap<object, string>();
    const render: PageSpec[] = [];
    const reuse = new Set<string>();
    const keys: Record<string, string> = {};
    for (const spec of specs) {
      const key = createHash("sha1").update(base).update(spec.template).update(digestOf(spec.scope, memo, digests)).digest("hex");
      keys[spec.file] = key;
      if (this.pages[spec.file] === key && this.existing.has(spec.file)) reuse.add(spec.file);
      else render.push(spec);
    }
    return { render, reuse, keys };
  }

  /** The marker text for a build with these pages and files; the same build always gets the same text. */
  static marker(keys: Record<string, string>, files: readonly string[]): string {
    const token = createHash("sha1").update(JSON.stringify(keys)).update(JSON.stringify(files)).digest("hex");
    return `This folder is written by \`presswork build\`; anything else put here is removed.\nbuild ${token}\n`;
  }

  /** Records a build once its output is written. */
  save(keys: Record<string, string>, files: readonly string[], marker: string): void {
    if (!this.manifestPath) return;
    const token = /build (\w+)/.exec(marker)?.[1] ?? "";
    mkdirSync(join(this.manifestPath, ".."), { recursive: true });
    writeFileSync(`${this.manifestPath}.tmp`, JSON.stringify({ token, pages: keys, files: [...files] } satisfies Manifest));
    renameSync(`${this.manifestPath}.tmp`, this.manifestPath);
  }
}

/**
 * A digest of plain data. Objects are digested once and remembered: list
 * pages share their article cards, so each card is serialised once, not once
 * per page. Article HTML counts by its body digest.
 */
function digestOf(value: unknown, memo: WeakMap<object, string>, digests: ReadonlyMap<string, string>): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  const known = memo.get(value);
  if (known !== undefined) return known;
  let text: string;
  if (Array.isArray(value)) text = `[${value.map((v) => digestOf(v, memo, digests)).join(",")}]`;
  else {
    const record = value as Record<string, unknown>;
    text = `{${Object.keys(record)
      .map((k) => {
        const v = record[k];
        return `${JSON.stringify(k)}:${k === "html" && typeof v === "string" ? JSON.stringify(digests.get(v) ?? v) : digestOf(v, memo, digests)}`;
      })
      .join(",")}}`;
  }
  const digest = text.length > 64 ? createHash("sha1").update(text).digest("base64") : text;
  memo.set(value, digest);
  return digest;
}
