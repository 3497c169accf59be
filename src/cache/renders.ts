import { textFacts, type TextFacts } from "../content/review.js";
import type { ArticleHtml, RenderedBody } from "../markdown/render.js";
import type { StoredMessage } from "../validate/messages.js";
import type { Journal } from "./journal.js";
import type { Packs, Place } from "./pack.js";
import type { CacheStore } from "./store.js";
import { PressworkError } from "../errors/error.js";

/** A rendered body with the messages its render produced, as a render gives it: HTML and all. */
export interface CachedRender {
  body: RenderedBody;
  messages: StoredMessage[];
}

/** A body as the cache gives it: with the facts a review needs of its text. */
export type CachedBody = RenderedBody & Readonly<TextFacts>;

/** What pages, feeds and issues show of a body besides its HTML: read only for the articles they show. */
type Shown = Pick<RenderedBody, "excerpt" | "keyPoints" | "keyPointsHtml">;

/**
 * A rendered body without its HTML, ids and what pages show of it, with its
 * messages, the facts a review needs, and where the rest lies in the packs:
 * one record of the index. A rebuild reads every record of the index, and
 * the text of a body's excerpt and key points was most of it. The record in
 * the pack is the web HTML, the feed's, the email's when it differs from the
 * feed's (the body has images), the shown parts as JSON and the ids as JSON,
 * one after the other as UTF-8; `split` holds the byte lengths of the first
 * four (the email's 0 when it is the feed's), so each is read alone, without
 * the others and without decoding anything but its text.
 */
interface IndexEntry {
  body: Omit<CachedBody, "html" | "ids" | keyof Shown>;
  messages: StoredMessage[];
  html: Place;
  split: [web: number, feed: number, email: number, shown: number];
}

/** The parts of a record in the packs, in their order there. */
type Part = "web" | "feed" | "email" | "shown" | "ids";

const INDEX = "bodies/index.journal";
/** The digest of the link targets the renders were last checked against. */
const LINKS = "bodies/links.json";

/**
 * Rendered article bodies, keyed by a cacheKey of everything the render
 * reads: the source text, its path, the site URL and the Markdown options.
 * Link resolutions are stored in the body and checked by the caller on a
 * hit, since they depend on the other articles, unless none of those that
 * links could lead to changed (see checkedAgainst).
 *
 * A body's HTML goes to the store's packs as soon as it is rendered, and is
 * read back each time a page, feed or issue asks for it, never kept: memory
 * holds the index (stats, links, digests, messages) and not the bodies, so
 * it stays flat however many articles there are. A rebuild after one edit
 * reads the index and the few bodies whose pages or feed items change.
 */
export class RenderCache {
  private readonly index: Journal<IndexEntry>;
  private readonly packs: Packs;
  /** The link targets' digest of this run, and of the run before. */
  private links: string | undefined;
  private linksBefore: string | undefined;

  constructor(private readonly store: CacheStore) {
    this.index = store.journal(INDEX);
    this.packs = store.packs("bodies");
  }

  /** Whether `store` holds renders of an earlier run: without them, every body is rendered. */
  static stored(store: CacheStore): boolean {
    return store.has(INDEX);
  }

  /**
   * Whether every render in the cache had its links checked against `links`
   * (a digest of what links resolve to: see resolverDigest), so that hits
   * need no check. Every render a run keeps was checked in that run, and
   * renders it did not use are dropped; saving records `links` for the next.
   */
  checkedAgainst(links: string): boolean {
    this.links = links;
    this.linksBefore = this.store.read<string>(LINKS);
    return this.linksBefore === links;
  }

  /** The cached render for `key`, if there is one; its HTML is read from the packs each time it is asked for. */
  get(key: string): { body: CachedBody; messages: StoredMessage[] } | undefined {
    const entry = this.index.recall(key);
    if (!entry || !wellFormed(entry)) return undefined;
    this.index.keep(key, entry);
    return { body: this.lazy(key, entry), messages: entry.messages };
  }

  /**
   * Stores a render: its HTML and what pages show of it are appended to the
   * packs now. Returns the body to use from here on, which reads those from
   * there.
   */
  put(key: string, render: CachedRender): CachedBody {
    const { html, ids, excerpt, keyPoints, keyPointsHtml, ...body } = render.body;
    const email = html.email === html.feed ? "" : html.email;
    const shown = JSON.stringify({ excerpt, keyPoints, keyPointsHtml });
    const split: IndexEntry["split"] = [Buffer.byteLength(html.web), Buffer.byteLength(html.feed), Buffer.byteLength(email), Buffer.byteLength(shown)];
    const place = this.packs.append(html.web + html.feed + email + shown + JSON.stringify(ids));
    const entry: IndexEntry = { body: { ...body, ...textFacts(render.body) }, messages: render.messages, html: place, split };
    this.index.keep(key, entry);
    return this.lazy(key, entry);
  }

  /**
   * Records this run's renders. When the packs hold more than twice the HTML
   * still in use, the HTML in use is copied to a new pack first; packs no
   * record refers to are removed once the index is saved.
   */
  save(): void {
    const kept = this.index.keptEntries();
    if (this.store.persistent && this.packs.wasteful(kept.reduce((sum, [, entry]) => sum + entry.html[2], 0))) {
      const moved = this.packs.compact(kept.map(([, entry]) => entry.html));
      kept.forEach(([key, entry], i) => this.index.keep(key, { ...entry, html: moved[i] as Place }));
    }
    // Every place the index records is written before the index is.
    this.packs.flush();
    this.index.save();
    this.packs.removeUnused(new Set(this.index.keptEntries().map(([, entry]) => entry.html[0])));
    if (this.links !== undefined && this.linksBefore !== this.links) this.store.write(LINKS, this.links);
  }

  /**
   * The body of `entry` with an `html` whose web, feed and email HTML, and
   * `ids`, are each read from the packs on each use, and what pages show of
   * it read from there on first use: where the index says, as compaction may
   * move it.
   */
  private lazy(key: string, entry: IndexEntry): CachedBody {
    const { packs, index, store } = this;
    const lost = (): PressworkError => new PressworkError("render-cache", `the render cache in ${store.dir ?? "a temporary folder"} has lost a rendered body: delete the folder and build again`);
    const part = (which: Part): string => {
      const [generation, offset, length] = (index.kept(key) ?? entry).html;
      const [web, feed, email, shown] = entry.split;
      const ids = length - web - feed - email - shown;
      const [start, bytes] =
        which === "web" ? [0, web]
        : which === "feed" || (which === "email" && email === 0) ? [web, feed]
        : which === "email" ? [web + feed, email]
        : which === "shown" ? [web + feed + email, shown]
        : [web + feed + email + shown, ids];
      const text = ids >= 0 ? packs.read([generation, offset + start, bytes]) : undefined;
      if (text === undefined) throw lost();
      return text;
    };
    const json = <T>(which: Part): T => {
      const text = part(which);
      try {
        return JSON.parse(text) as T;
      } catch {
        throw lost();
      }
    };
    return new StoredBody(entry.body, part, json) as unknown as CachedBody;
  }
}

/**
 * Whether a record of the index has the shape this code writes: one of
 * another shape (a cache damaged, or kept by code of another layout under
 * the same version) is rendered again rather than read.
 */
function wellFormed(entry: IndexEntry): boolean {
  const { body, split, html } = entry as Partial<IndexEntry>;
  return typeof body === "object" && body !== null && !("excerpt" in body) && Array.isArray(split) && split.length === 4 && Array.isArray(html) && html.length === 3;
}

/**
 * A body as the index holds it, with its HTML and ids read from the packs
 * each time they are asked for, and what pages show of it read once, when
 * first asked for. `html`, `ids` and the shown parts are its class's
 * getters, not properties of each body: thousands are made on every rebuild.
 */
class StoredBody {
  readonly #part: (which: Part) => string;
  readonly #json: <T>(which: Part) => T;
  #shown: Shown | undefined;

  constructor(fields: IndexEntry["body"], part: (which: Part) => string, json: <T>(which: Part) => T) {
    Object.assign(this, fields);
    this.#part = part;
    this.#json = json;
  }

  get excerpt(): string {
    return this.#shownParts().excerpt;
  }

  get keyPoints(): string[] | undefined {
    return this.#shownParts().keyPoints;
  }

  get keyPointsHtml(): Shown["keyPointsHtml"] {
    return this.#shownParts().keyPointsHtml;
  }

  #shownParts(): Shown {
    this.#shown ??= this.#json<Shown>("shown");
    return this.#shown;
  }

  get html(): ArticleHtml {
    const part = this.#part;
    return {
      get web() {
        return part("web");
      },
      get feed() {
        return part("feed");
      },
      get email() {
        return part("email");
      },
    };
  }

  get ids(): string[] {
    return this.#json<string[]>("ids");
  }
}
