import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { VFile } from "vfile";
import type { RenderedBody } from "../markdown/render.js";

/** A message as stored with a cached render, to be replayed on the article's VFile. */
interface StoredMessage {
  reason: string;
  line?: number;
  column?: number;
  ruleId?: string;
  source?: string;
  fatal: boolean | null;
}

interface Entry {
  body: RenderedBody;
  messages: StoredMessage[];
}

/**
 * Rendered article bodies on disk, keyed by a hash of everything the render
 * reads: the source text, its path, the site URL and the pipeline version.
 * Link resolutions are stored too and checked on every hit, since they
 * depend on the other articles.
 */
export class RenderCache {
  constructor(private readonly dir: string | undefined) {}

  /** Key for one render. */
  static key(parts: readonly string[]): string {
    const hash = createHash("sha256");
    for (const part of parts) hash.update(part).update("\0");
    return hash.digest("hex").slice(0, 40);
  }

  /** A cached body whose link resolutions still hold, replaying its messages onto `file`. */
  async get(key: string, file: VFile, stillValid: (body: RenderedBody) => boolean): Promise<RenderedBody | undefined> {
    if (!this.dir) return undefined;
    let entry: Entry;
    try {
      entry = JSON.parse(await readFile(join(this.dir, `${key}.json`), "utf8")) as Entry;
    } catch {
      return undefined;
    }
    if (!stillValid(entry.body)) return undefined;
    for (const m of entry.messages) {
      const place = m.line ? { line: m.line, column: m.column ?? 1 } : undefined;
      file.message(m.reason, { place, ruleId: m.ruleId, source: m.source }).fatal = m.fatal;
    }
    return entry.body;
  }

  /** Stores a body with the messages its render left on `file` (from index `since` on). */
  async set(key: string, body: RenderedBody, file: VFile, since: number): Promise<void> {
    if (!this.dir) return;
    const messages: StoredMessage[] = file.messages.slice(since).map((m) => ({
      reason: m.reason,
      ...(m.line ? { line: m.line } : {}),
      ...(m.column ? { column: m.column } : {}),
      ...(m.ruleId ? { ruleId: m.ruleId } : {}),
      ...(m.source ? { source: m.source } : {}),
      fatal: m.fatal ?? null,
    }));
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, `${key}.json`);
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify({ body, messages } satisfies Entry));
    await rename(temporary, path);
  }
}
