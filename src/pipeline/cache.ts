import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RenderedBody } from "../markdown/render.js";
import type { StoredMessage } from "./messages.js";

/** A rendered body with the messages its render produced. */
export interface CachedRender {
  body: RenderedBody;
  messages: StoredMessage[];
}

/**
 * Rendered article bodies on disk, keyed by a hash of everything the render
 * reads: the source text, its path, the site URL and the pipeline version.
 * Link resolutions are stored in the body and checked by the caller on every
 * hit, since they depend on the other articles.
 */
export class RenderCache {
  private made: Promise<unknown> | undefined;

  constructor(private readonly dir: string | undefined) {}

  /** Key for one render. */
  static key(parts: readonly string[]): string {
    const hash = createHash("sha256");
    for (const part of parts) hash.update(part).update("\0");
    return hash.digest("hex").slice(0, 40);
  }

  /** The cached render for `key`, if there is one. */
  get(key: string): CachedRender | undefined {
    if (!this.dir) return undefined;
    try {
      return JSON.parse(readFileSync(join(this.dir, `${key}.json`), "utf8")) as CachedRender;
    } catch {
      return undefined;
    }
  }

  /** Stores a render; written to a temporary name first so a crash never leaves half an entry. */
  async set(key: string, entry: CachedRender): Promise<void> {
    if (!this.dir) return;
    await (this.made ??= mkdir(this.dir, { recursive: true }));
    const path = join(this.dir, `${key}.json`);
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(entry));
    await rename(temporary, path);
  }
}
