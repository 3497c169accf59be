import { createHash } from "node:crypto";
import { join } from "node:path";
import { VFile } from "vfile";
import { PIPELINE_VERSION } from "../markdown/version.js";
import { readJson, writeJson } from "./json-file.js";
import { replayMessages, storeMessages, type StoredMessage } from "../validate/messages.js";

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
 * with their warnings; `parse` must give plain JSON data.
 */
export async function parseRemembered<T>(
  cacheDir: string | undefined,
  name: string,
  path: string,
  text: string,
  parse: () => Promise<{ value?: T | undefined; file: VFile }>,
): Promise<{ value?: T | undefined; file: VFile }> {
  const key = createHash("sha256").update(`${PIPELINE_VERSION}\0${path}\0${text}`).digest("hex");
  const at = cacheDir && join(cacheDir, `parsed-${name}.json`);
  const stored = at ? readJson<Stored<T>>(at) : undefined;
  if (stored?.key === key) {
    const file = new VFile({ path, value: text });
    replayMessages(file, stored.messages);
    return { value: stored.value, file };
  }
  const result = await parse();
  if (at && result.value !== undefined) writeJson(at, { key, value: result.value, messages: storeMessages(result.file) } satisfies Stored<T>);
  return result;
}
