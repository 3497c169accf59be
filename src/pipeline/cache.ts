import { hash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ArticleHtml, RenderedBody } from "../markdown/render.js";
import { Journal, readJson, writeJson } from "./json-file.js";
import { Packs, type Place } from "./pack.js";
import type { StoredMessage } from "../validate/messages.js";

/** A rendered body with the messages its render produced. */
export interface CachedRender {
  body: RenderedBody;
  messages: StoredMessage[];
}

/** A rendered body without its HTML, with its messages and where its HTML lies in the packs: one record of the index. */
interface IndexEntry {
  body: Omit<RenderedBody, "html">;
  messages: StoredMessage[];
  html: Place;
}

const INDEX = "index.journal";
/** The digest of the link targets the renders were last checked against. */
const LINKS = "links.json";

/**
 * Rendered article bodies on disk, keyed by a hash of everything the render
 * reads: the source text, its path, the site URL and the pipeline version.
 * Link resolutions are stored in the body and checked by the caller on a
 * hit, since they depend on the other articles, unless none of those that
 * links could lead to changed (see checkedAgainst).
 *
 * One index holds every body without its HTML (stats, links, digest,
 * messages); the HTML of each body lies in an append-only pack, read only
 * when something asks for it. A rebuild after one edit reads the index and
 * the few bodies whose pages or feed items change, not all of them.
 */
export class RenderCache {
  private readonly index: Journal<IndexEntry>;
  private readonly packs: Packs | undefined;
  /** The link targets' digest of this run, and of the run before. */
  private links: string | undefined;
  private linksBefore: string | undefined;

  constructor(private readonly dir: string | undefined) {
    this.index = new Journal(dir && join(dir, INDEX));
    this.packs = dir ? new Packs(dir) : undefined;
  }

  /** Whether `dir` holds renders of an earlier run: without them, every body is rendered. */
  static stored(dir: string): boolean {
    return existsSync(join(dir, INDEX));
  }

  /** Key for one render. */
  static key(parts: readonly string[]): string {
    return hash("sha256", parts.map((part) => `${part}\0`).join("")).slice(0, 40);
  }

  /**
   * Whether every render in the cache had its links checked against `links`
   * (a digest of what links resolve to: see resolverDigest), so that hits
   * need no check. Every render a run keeps was checked in that run, and
   * renders it did not use are dropped; saving records `links` for the next.
   */
  checkedAgainst(links: string): boolean {
    this.links = links;
    this.linksBefore = this.dir && readJson<string>(join(this.dir, LINKS));
    return this.linksBefore === links;
  }

  /** The cached render for `key`, if there is one; its HTML is read from disk on first use. */
  get(key: string): CachedRender | undefined {
    const entry = this.index.recall(key);
    if (!entry || !this.packs) return undefined;
    this.index.keep(key, entry);
    const { packs, index } = this;
    // Read where the index says when asked: saving may have moved it to a new pack.
    return { body: lazyHtml(entry.body, () => packs.read((index.kept(key) ?? entry).html), this.dir ?? ""), messages: entry.messages };
  }

  /** Stores a render: its HTML is appended to the pack, the rest recorded in the index on save. */
  set(key: string, entry: CachedRender): void {
    if (!this.packs) return;
    const { html, ...body } = entry.body;
    this.index.keep(key, { body, messages: entry.messages, html: this.packs.append(packed(html)) });
  }

  /**
   * Records this run's renders. When the packs hold more than twice the HTML
   * still in use, the HTML in use is copied to a new pack first; packs no
   * record refers to are removed once the index is saved.
   */
  save(): void {
    if (!this.dir || !this.packs) return;
    const kept = this.index.keptEntries();
    if (this.packs.wasteful(kept.reduce((sum, [, entry]) => sum + entry.html[2], 0))) {
      const moved = this.packs.compact(kept.map(([, entry]) => entry.html));
      kept.forEach(([key, entry], i) => this.index.keep(key, { ...entry, html: moved[i] as Place }));
    }
    // Every place the index records is written before the index is.
    this.packs.flush();
    this.index.save();
    this.packs.removeUnused(new Set(this.index.keptEntries().map(([, entry]) => entry.html[0])));
    this.packs.close();
    if (this.links !== undefined && this.linksBefore !== this.links) writeJson(join(this.dir, LINKS), this.links);
  }
}

/** An article's HTML as packed: web, feed and, when it differs from the feed's (it has images), email. */
type Packed = [web: string, feed: string, email?: string];

function packed(html: ArticleHtml): string {
  return JSON.stringify(html.email === html.feed ? [html.web, html.feed] : [html.web, html.feed, html.email]);
}

function unpacked(text: string | undefined): ArticleHtml {
  const [web, feed, email = feed] = JSON.parse(text ?? "") as Packed;
  if (typeof web !== "string" || typeof feed !== "string") throw new Error("not a packed body");
  return { web, feed, email };
}

/** The body with an `html` that reads it the first time it is asked for, then keeps it. */
function lazyHtml(info: Omit<RenderedBody, "html">, read: () => string | undefined, dir: string): RenderedBody {
  const body = { ...info } as RenderedBody;
  Object.defineProperty(body, "html", {
    enumerable: true,
    configurable: true,
    get(): ArticleHtml {
      let html: ArticleHtml;
      try {
        html = unpacked(read());
      } catch {
        throw new Error(`the render cache in ${dir} has lost a rendered body: delete the folder and build again`);
      }
      Object.defineProperty(body, "html", { value: html, enumerable: true });
      return html;
    },
  });
  return body;
}
