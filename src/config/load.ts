import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { VFile } from "vfile";
import { parseRemembered, type ParseMemory } from "../cache/parsed.js";
import { CACHE_DIR, CacheStore } from "../cache/store.js";
import type { Config } from "./schema.js";
import { fileError } from "../errors/rules.js";
import { decodeUtf8 } from "../files/utf8.js";

/** File name of the configuration at the project root. */
export const CONFIG_FILE = "presswork.config.yaml";

/** The config, or the file carrying the messages that explain why there is none. */
export type ConfigResult = { config: Config; file: VFile } | { config: undefined; file: VFile };

/** Reads `presswork.config.yaml` from the project root, which must be UTF-8; with a cache, unchanged text is not parsed again. */
export async function loadConfig(root: string, store?: ParseMemory): Promise<ConfigResult> {
  const path = `${root}/${CONFIG_FILE}`;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    const file = new VFile({ path: CONFIG_FILE });
    fileError(file, "config-missing", `cannot read ${CONFIG_FILE}: create it at the project root (see README, "Configuration")`);
    return { config: undefined, file };
  }
  const decoded = new VFile({ path: CONFIG_FILE });
  const text = decodeUtf8(bytes, decoded);
  if (decoded.messages.length > 0) return { config: undefined, file: decoded };
  const { value, file } = await parseRemembered(store, "config", CONFIG_FILE, text, async () => {
    const { config, file } = (await import("./parse.js")).parseConfig(text, CONFIG_FILE);
    return { value: config, file };
  });
  return value ? { config: value, file } : { config: undefined, file };
}

/**
 * The project's config, as loadConfig reads it, from the parse a build left
 * in the project's cache while the text is the same: a command that builds
 * nothing (`state`, `serve`, the start of a send) then loads neither the YAML
 * parser nor the schema, 60 ms of its start on Node 20. It writes nothing
 * to the cache, nor makes one where there is none.
 */
export function loadProjectConfig(root: string): Promise<ConfigResult> {
  return loadConfig(root, CacheStore.reader(join(root, CACHE_DIR)));
}
