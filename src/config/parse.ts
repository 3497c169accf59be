import { VFile } from "vfile";
import { quote } from "../validate/words.js";
import { parseYaml } from "../validate/yaml.js";
import { CONFIG_FILE, type ConfigResult } from "./load.js";
import { configSchema } from "./schema.js";

/** Parses and validates configuration text; cross-field rules (default author exists) are checked here too. */
export function parseConfig(text: string, path = CONFIG_FILE): ConfigResult {
  const file = new VFile({ path, value: text });
  const config = parseYaml(text, configSchema, file, { line: 1, rule: "config" });
  if (!config) return { config: undefined, file };
  if (config.defaultAuthor !== undefined && !(config.defaultAuthor in config.authors)) {
    const line = text.split("\n").findIndex((l) => /^defaultAuthor\s*:/.test(l)) + 1;
    const keys = Object.keys(config.authors);
    file.message(`'defaultAuthor' is ${quote(config.defaultAuthor)}, which is not a key under 'authors'${keys.length ? `: use one of ${keys.join(", ")}` : ": add the author under authors: first"}`, {
      place: { line: Math.max(line, 1), column: 1 },
      ruleId: "config-defaultAuthor",
      source: "config",
    }).fatal = true;
    return { config: undefined, file };
  }
  if (!config.site.url.endsWith("/")) config.site.url += "/";
  return { config, file };
}
