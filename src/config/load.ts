import { readFile } from "node:fs/promises";
import { VFile } from "vfile";
import { parseYaml } from "../validate/yaml.js";
import { configSchema, type Config } from "./schema.js";

/** File name of the configuration at the project root. */
export const CONFIG_FILE = "presswork.config.yaml";

/** The config, or the file carrying the messages that explain why there is none. */
export type ConfigResult = { config: Config; file: VFile } | { config: undefined; file: VFile };

/** Parses and validates configuration text; cross-field rules (default author exists) are checked here too. */
export function parseConfig(text: string, path = CONFIG_FILE): ConfigResult {
  const file = new VFile({ path, value: text });
  const config = parseYaml(text, configSchema, file, { line: 1, rule: "config" });
  if (!config) return { config: undefined, file };
  if (config.defaultAuthor !== undefined && !(config.defaultAuthor in config.authors)) {
    file.message(`'defaultAuthor' is "${config.defaultAuthor}", which is not a key under 'authors'`, {
      place: { line: 1, column: 1 },
      ruleId: "config-defaultAuthor",
      source: "config",
    }).fatal = true;
    return { config: undefined, file };
  }
  if (!config.site.url.endsWith("/")) config.site.url += "/";
  return { config, file };
}

/** Reads `presswork.config.yaml` from the project root. */
export async function loadConfig(root: string): Promise<ConfigResult> {
  const path = `${root}/${CONFIG_FILE}`;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    const file = new VFile({ path: CONFIG_FILE });
    file.message(`cannot read ${CONFIG_FILE}: create it at the project root (see README, "Configuration")`, {
      ruleId: "config-missing",
      source: "config",
    }).fatal = true;
    return { config: undefined, file };
  }
  return parseConfig(text, CONFIG_FILE);
}
