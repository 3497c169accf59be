import { hash } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ArticleHtml, RenderedBody } from "../markdown/render.js";
import { Journal, readJson, writeJson } from "./json-file.js";
import type { StoredMessage } from "../validate/messages.js";

/** A rendered body with the messages its render produced. */
export interface CachedRender {
  body: RenderedBody;
  messages: StoredMessage[];
}

/** A rendered body without its HTML, with its messages: one line of the index. */
interface IndexEntry {
  body: Omit<RenderedBody, "html">;
  messages: StoredMessage[];
}

const INDEX = "index.journal";
/** The digest of the link targets the renders were last checked against. */
const LINKS = "links.json";

/**
 * Rendered article bodies on disk, keyed by a hash of everything the render
 * reads: the source text, its path, the site URL and the pipeline version.
 * Link resolutions are stored in the body and checked by the caller on every
 * hit, since they depend on the other articles.
 *
 * One index file holds every body without its HTML (stats, links, digest,
 * messages); the HTML of each body is a file of its own, read only when
 * something asks for it. A rebuild after one edit reads the index and the
 * few bodies whose pages or feed items change, not all of them.
 */
export class RenderCache {
  private made: Promise<unknown> | undefined;
  private readonly index: Journal<IndexEntry>;
  private links: string | undefined;

  constructor(private readonly dir: string | undefined) {
    this.index = new Journal(dir && join(dir, INDEX));
  }

  /** Key for one render. */
  static key(parts: readonly string[]): string {
    return hash("sha256", parts.map((part) => `${part}\0`).join("")).slice(0, 40);
  }

  /**
   * Whether every render in the cache had its links checked against `links`
   * (a digest of what links resolve to: see resolverDigest), so that hits
   * need no check. Every render a run keeps was checked in that run, and
   * renders it did not use are dropped.
   */
  checkedAgainst(links: string): boolean {
    this.links = links;
    return this.dir !== undefined && readJson<string>(join(this.dir, LINKS)) === links;
  }

  /** The cached render for `key`, if there is one; its HTML is read from disk on first use. */
  get(key: string): CachedRender | undefined {
    const entry = this.index.recall(key);
    if (!entry || !this.dir) return undefined;
    this.index.keep(key, entry);
    return { body: lazyHtml(entry.body, join(this.dir, `${key}.json`)), messages: entry.messages };
  }

  /** Stores a render; its HTML is written to a temporary name first so a crash never leaves half an entry. */
  async set(key: string, entry: CachedRender): Promise<void> {
    if (!this.dir) return;
    const { html, ...body } = entry.body;
    await (this.made ??= mkdir(this.dir, { recursive: true }));
    const path = join(this.dir, `${key}.json`);
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(html));
    await rename(temporary, path);
    this.index.keep(key, { body, messages: entry.messages });
  }

  /** Records this run's renders and removes the HTML of renders no article uses any more. */
  save(): void {
    if (!this.dir) return;
    for (const key of this.index.save()) rmSync(join(this.dir, `${key}.json`), { force: true });
    if (this.links !== undefined && readJson<string>(join(this.dir, LINKS)) !== this.links) writeJson(join(this.dir, LINKS), this.links);
  }
}

/** The body with an `html` that reads its file the first time it is asked for, then keeps it. */
function lazyHtml(info: Omit<RenderedBody, "html">, path: string): RenderedBody {
  const body = { ...info } as RenderedBody;
  Object.defineProperty(body, "html", {
    enumerable: true,
    configurable: true,
    get(): ArticleHtml {
      let html: ArticleHtml;
      try {
        html = JSON.parse(readFileSync(path, "utf8")) as ArticleHtml;
      } catch {
        throw new Error(`the render cache has lost ${path}: delete the cache folder and build again`);
      }
      Object.defineProperty(body, "html", { value: html, enumerable: true });
      return html;
    },
  });
  return body;
}
