import { VFile } from "vfile";
import { replayMessages, storeMessages, type StoredMessage } from "../validate/messages.js";
import { cacheKey } from "./key.js";
import type { CacheStore } from "./store.js";

/** Where parses are remembered: a cache store, or the documents of one to read only (see CacheStore.reader), which keeps no new parse. */
export type ParseMemory = Pick<CacheStore, "read"> & Partial<Pick<CacheStore, "write">>;

interface Stored<T> {
  key: string;
  value: T;
  messages: StoredMessage[];
}

/**
 * Parses a small project file (the config, the record of sent issues), or
 * recalls what parsing the same text gave last time: the YAML parser and
 * the schema library take a fifth of a second to load, and a rebuild after
 * an edit to an article needs neither. Only parses that succeed are kept,
 * with their warnings, in the store's document `parsed-<name>.json`;
 * `parse` must give plain JSON data.
 */
export async function parseRemembered<T>(
  store: ParseMemory | undefined,
  name: string,
  path: string,
  text: string,
  parse: () => Promise<{ value?: T | undefined; file: VFile }>,
): Promise<{ value?: T | undefined; file: VFile }> {
  const key = cacheKey(path, text);
  const document = `parsed-${name}.json`;
  const stored = store?.read<Stored<T>>(document);
  if (stored?.key === key) {
    const file = new VFile({ path, value: text });
    replayMessages(file, stored.messages);
    return { value: stored.value, file };
  }
  const result = await parse();
  if (result.value !== undefined) store?.write?.(document, { key, value: result.value, messages: storeMessages(result.file) } satisfies Stored<T>);
  return result;
}
