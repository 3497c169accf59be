import { createHash, hash } from "node:crypto";
import { VFile } from "vfile";
import type { Config } from "../config/schema.js";
import { frontMatterBlock, type ArticleMeta } from "../content/article.js";
import { PIPELINE_VERSION } from "../markdown/version.js";
import type { MetaReader } from "../content/collection.js";
import type { SourceFile } from "../content/read.js";
import { Journal } from "./json-file.js";
import { replayMessages, storeMessages, type StoredMessage } from "../validate/messages.js";

type StoredMeta = Omit<ArticleMeta, "source" | "published" | "updated"> & { published: number; updated: number };

/** An article's front matter read: its meta as stored (null when unusable) and the messages reading it gave. */
export interface ParsedMeta {
  meta: StoredMeta | null;
  messages: StoredMessage[];
}

/** Reads front matter in another process (the render worker) while this one reads its own share. */
export type FrontMatterHelper = (sources: ReadonlyArray<{ path: string; text: string }>) => Promise<ParsedMeta[]>;

/** Below this many articles to read, the YAML parser's start-up in a helper costs more than it saves. */
const SHARE_FROM = 400;
/** Articles handed to the helper at a time, and batches it holds at once. */
const HELPER_BATCH = 100;
const HELPER_AHEAD = 2;

/** The front-matter reader, loaded on first use: YAML and the schema are a tenth of a second to load. */
let loaded: typeof import("../content/meta.js") | undefined;

/** Reads one article's front matter into its stored form: the same here and in a helper process. */
export async function parseMeta(path: string, text: string, config: Config, assets: ReadonlyMap<string, number>): Promise<ParsedMeta> {
  loaded ??= await import("../content/meta.js");
  const file = new VFile({ path });
  const meta = loaded.readMeta({ path, text, digest: "", file }, config, assets);
  const { source: _source, ...rest } = meta ?? ({} as ArticleMeta);
  return { meta: meta ? { ...rest, published: meta.published.getTime(), updated: meta.updated.getTime() } : null, messages: storeMessages(file) };
}

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

  constructor(path: string | undefined) {
    this.journal = new Journal(path);
  }

  /**
   * A MetaReader over `sources` that answers from the cache when the key
   * matches and records what it reads. The front-matter parser (YAML and
   * the schema) is loaded only when some article needs parsing; with a
   * helper, half of many articles to parse are parsed there.
   */
  async reader(config: Config, sources: readonly SourceFile[], assets: ReadonlyMap<string, number>, helper?: FrontMatterHelper): Promise<MetaReader> {
    const context = createHash("sha256").update(String(PIPELINE_VERSION)).update(JSON.stringify(config)).update(JSON.stringify([...assets])).digest("hex");
    const keyOf = (source: SourceFile, text: string) => hash("sha256", `${context}${source.path}\0${text}`);
    const keys = new Map<SourceFile, { key: string; head: string }>();
    for (const source of sources) {
      const key = keyOf(source, source.digest);
      const hit = this.journal.recall(source.path);
      keys.set(source, { key, head: hit?.key === key ? hit.head : keyOf(source, frontMatterOf(source.text)) });
    }
    const misses = sources.filter((s) => this.journal.recall(s.path)?.head !== keys.get(s)?.head);
    this.parsedAny = misses.length > 0;
    const parsed = new Map<SourceFile, ParsedMeta>();
    // The helper takes batches from the end while this process parses from the front, so neither waits on the other.
    const queue = [...misses];
    const shared: Array<Promise<void>> = [];
    const share = (help: FrontMatterHelper): void => {
      const batch = queue.splice(Math.max(0, queue.length - HELPER_BATCH));
      if (batch.length === 0) return;
      const answered = help(batch.map(({ path, text }) => ({ path, text }))).then((results) => {
        results.forEach((result, i) => parsed.set(batch[i] as SourceFile, result));
        share(help);
      });
      // Awaited below, once this process has parsed its share: until then a failure waits there.
      answered.catch(() => {});
      shared.push(answered);
    };
    if (helper && misses.length >= SHARE_FROM) for (let i = 0; i < HELPER_AHEAD; i++) share(helper);
    while (queue.length > 0) {
      for (const source of queue.splice(0, 32)) parsed.set(source, await parseMeta(source.path, source.text, config, assets));
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (let i = 0; i < shared.length; i++) await shared[i];

    return (source: SourceFile) => {
      const { key, head } = keys.get(source) ?? { key: "", head: "" };
      const hit = this.journal.recall(source.path);
      let entry: Entry;
      if (hit?.head === head) entry = hit.key === key ? hit : { ...hit, key };
      else {
        const read = parsed.get(source);
        if (!read) throw new Error(`${source.path} is not one of the sources this reader was made for`);
        entry = { key, head, ...read, digest: createHash("sha1").update(JSON.stringify(read.meta)).digest("hex") };
      }
      replayMessages(source.file, entry.messages);
      this.journal.keep(source.path, entry);
      return entry.meta ? { ...entry.meta, published: new Date(entry.meta.published), updated: new Date(entry.meta.updated), source } : undefined;
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
