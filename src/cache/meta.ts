import type { Config } from "../config/schema.js";
import { frontMatterBlock, type ArticleMeta } from "../content/article.js";
import type { MetaReader } from "../content/collection.js";
import type { SourceFile } from "../content/read.js";
import { replayMessages, storeMessages, type StoredMessage } from "../validate/messages.js";
import type { Journal } from "./journal.js";
import { cacheKey, digest } from "./key.js";
import type { CacheStore } from "./store.js";
import { PressworkError } from "../errors/error.js";

type StoredMeta = Omit<ArticleMeta, "source" | "published" | "updated"> & { published: number; updated: number };
interface Entry {
  /** By the whole text: matches while the file is unchanged, without reading it. */
  key: string;
  /** By the front matter alone: matches after an edit to the body. */
  head: string;
  meta: StoredMeta | null;
  /** A hash of the meta, standing for it where only its identity matters. */
  digest: string;
  messages: StoredMessage[];
}

/**
 * Validated front matter from the last run, by article path, so a rebuild
 * parses YAML only for articles whose front matter, the config or the
 * assets changed: an edit to the body loads neither the YAML parser nor the
 * schema. One journal for all articles.
 */
export class MetaCache {
  private readonly journal: Journal<Entry>;
  /** Whether some article's front matter was new or changed, and parsed. */
  parsedAny = false;

  constructor(store: CacheStore) {
    this.journal = store.journal("meta.journal");
  }

  /**
   * A MetaReader over `sources` that answers from the cache when the key
   * matches and records what it reads. The front-matter parser (YAML and
   * the schema) is loaded only when some article needs parsing.
   */
  async reader(config: Config, sources: readonly SourceFile[], assets: ReadonlyMap<string, number>): Promise<MetaReader> {
    // A key is the digest of what the entry depends on besides the text (the config, the assets) followed by the
    // text's digest: the entry is found by its article's path, so the key need not hold the path, nor hash again.
    const context = cacheKey(config, [...assets]);
    const keys = new Map<SourceFile, { key: string; head: string }>();
    for (const source of sources) {
      const key = context + source.digest;
      const hit = this.journal.recall(source.path);
      keys.set(source, { key, head: hit?.key === key ? hit.head : context + digest(frontMatterOf(source.text)) });
    }
    const parse = sources.some((s) => this.journal.recall(s.path)?.head !== keys.get(s)?.head) ? (await import("../content/meta.js")).readMeta : undefined;
    this.parsedAny = parse !== undefined;
    return (source: SourceFile) => {
      const { key, head } = keys.get(source) ?? { key: "", head: "" };
      const hit = this.journal.recall(source.path);
      if (hit?.head === head) {
        replayMessages(source.file, hit.messages);
        this.journal.keep(source.path, hit.key === key ? hit : { ...hit, key });
        return hit.meta ? { ...hit.meta, published: new Date(hit.meta.published), updated: new Date(hit.meta.updated), source } : undefined;
      }
      if (!parse) throw new PressworkError("internal", `${source.path} is not one of the sources this reader was made for`);
      const before = source.file.messages.length;
      const meta = parse(source, config, assets);
      const { source: _source, ...rest } = meta ?? ({} as ArticleMeta);
      const stored = meta ? { ...rest, published: meta.published.getTime(), updated: meta.updated.getTime() } : null;
      this.journal.keep(source.path, { key, head, meta: stored, digest: digest(stored), messages: storeMessages(source.file, before) });
      return meta;
    };
  }

  /** The digest of the meta this run read for `path`. */
  digestOf(path: string): string | undefined {
    return this.journal.kept(path)?.digest;
  }

  /** Records what this run read, dropping articles that are gone. */
  save(): void {
    this.journal.save();
  }
}

/** The part of a source that readMeta reads: up to the line that closes the front matter, or all of it when none does. */
function frontMatterOf(text: string): string {
  const block = frontMatterBlock(text);
  return block ? text.slice(0, block.end) : text;
}
