import { VFile } from "vfile";
import { quote } from "../validate/words.js";
import { parseYaml } from "../validate/yaml.js";
import { CONFIG_FILE, type ConfigResult } from "./load.js";
import { configSchema } from "./schema.js";
import { fileError, fileWarning } from "../errors/rules.js";

/** Parses and validates configuration text; cross-field rules (default author exists) are checked here too. */
export function parseConfig(text: string, path = CONFIG_FILE): ConfigResult {
  const file = new VFile({ path, value: text });
  const config = parseYaml(text, configSchema, file, { line: 1, rule: "config" });
  if (!config) return { config: undefined, file };
  if (config.defaultAuthor !== undefined && !(config.defaultAuthor in config.authors)) {
    const line = text.split("\n").findIndex((l) => /^defaultAuthor\s*:/.test(l)) + 1;
    const keys = Object.keys(config.authors);
    fileError(file, "config-defaultAuthor", `'defaultAuthor' is ${quote(config.defaultAuthor)}, which is not a key under 'authors'${keys.length ? `: use one of ${keys.join(", ")}` : ": add the author under authors: first"}`, {
      place: { line: Math.max(line, 1), column: 1 },
    });
    return { config: undefined, file };
  }
  if (!config.site.url.endsWith("/")) config.site.url += "/";
  const subscribe = config.newsletter?.subscribe;
  // The service answers /subscribe, and its links are made beside it: /subscribe/ would put them under it, where nothing answers.
  if (subscribe) subscribe.url = withoutTrailingSlash(subscribe.url);
  const misplaced = config.newsletter ? unsubscribeOffService(config.newsletter) : undefined;
  if (misplaced) fileWarning(file, "config-unsubscribe-url", misplaced, { place: { line: unsubscribeUrlLine(text), column: 1 } });
  const plain = config.newsletter ? plainUnsubscribe(config.newsletter.unsubscribe.url) : undefined;
  if (plain) fileWarning(file, "config-unsubscribe-https", plain, { place: { line: unsubscribeUrlLine(text), column: 1 } });
  return { config, file };
}

/** The line of `url:` under `unsubscribe:` in the config's text, or 1. */
function unsubscribeUrlLine(text: string): number {
  const lines = text.split("\n");
  const block = lines.findIndex((l) => /^\s+unsubscribe\s*:/.test(l));
  return Math.max(block >= 0 ? lines.findIndex((l, i) => i > block && /^\s+url\s*:/.test(l)) + 1 : 0, 1);
}

/** A URL whose path, other than the root, ends in slashes, without them. */
function withoutTrailingSlash(value: string): string {
  const url = new URL(value);
  if (url.pathname === "/" || !url.pathname.endsWith("/")) return value;
  url.pathname = url.pathname.replace(/\/+$/, "");
  return url.href;
}

/**
 * Why an http:// unsubscribe URL costs the one-click button, or undefined:
 * RFC 8058 has mail clients POST only to an https List-Unsubscribe URL, and
 * Gmail and Yahoo ask bulk senders for one-click. A loopback URL, which no
 * reader's mail reaches, is a test's and passes.
 */
function plainUnsubscribe(value: string): string | undefined {
  const url = new URL(value);
  if (url.protocol === "https:" || ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) return undefined;
  return `'newsletter.unsubscribe.url' is http://, and mail clients offer one-click unsubscribe only for an https URL (RFC 8058; Gmail and Yahoo require it of bulk senders): serve it over https and write https://${url.host}${url.pathname}…`;
}

/**
 * Why newsletter.unsubscribe.url is likely to miss the service, or
 * undefined: with a subscribe URL set (a `presswork serve` runs), the
 * unsubscribe URL should be that service's /unsubscribe, or the one-click
 * POST of every mail reaches a page that does not answer it (a 404 on the
 * static site).
 */
function unsubscribeOffService(newsletter: { subscribe?: { url: string } | undefined; unsubscribe: { url: string } }): string | undefined {
  if (!newsletter.subscribe) return undefined;
  const subscribe = new URL(newsletter.subscribe.url);
  if (!subscribe.pathname.endsWith("/subscribe")) return undefined;
  const expected = new URL(`${subscribe.pathname.slice(0, -"subscribe".length)}unsubscribe`, subscribe.origin);
  const actual = new URL(newsletter.unsubscribe.url);
  if (actual.origin === expected.origin && actual.pathname === expected.pathname) return undefined;
  return `'newsletter.unsubscribe.url' is ${quote(`${actual.origin}${actual.pathname}`)}, not the /unsubscribe of the service that 'newsletter.subscribe.url' names: one-click unsubscribe from the mail would likely reach a 404. Use ${expected.href}?list={list}&token={token}`;
}
