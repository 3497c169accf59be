import type { ArticleHtml, RenderedBody } from "../markdown/render.js";
import type { StoredMessage } from "../validate/messages.js";
import type { Journal } from "./journal.js";
import type { Packs, Place } from "./pack.js";
import type { CacheStore } from "./store.js";

/** A rendered body with the messages its render produced, as a render gives it: HTML and all. */
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
  get(key: string): CachedRender | undefined {
    const entry = this.index.recall(key);
    if (!entry) return undefined;
    this.index.keep(key, entry);
    return { body: this.lazy(key, entry), messages: entry.messages };
  }

  /** Stores a render: its HTML is appended to the packs now. Returns the body to use from here on, which reads its HTML from there. */
  put(key: string, render: CachedRender): RenderedBody {
    const { html, ...body } = render.body;
    const entry: IndexEntry = { body, messages: render.messages, html: this.packs.append(packed(html)) };
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

  /** The body of `entry` with an `html` read from the packs on each use: where the index says, as compaction may move it. */
  private lazy(key: string, entry: IndexEntry): RenderedBody {
    const { packs, index, store } = this;
    const body = { ...entry.body } as RenderedBody;
    Object.defineProperty(body, "html", {
      enumerable: true,
      get(): ArticleHtml {
        try {
          return unpacked(packs.read((index.kept(key) ?? entry).html));
        } catch {
          throw new Error(`the render cache in ${store.dir ?? "a temporary folder"} has lost a rendered body: delete the folder and build again`);
        }
      },
    });
    return body;
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
