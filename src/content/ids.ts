import type { Config } from "../config/schema.js";

/**
 * A tag: URI (RFC 4151) for something dated `date` (YYYY-MM-DD), under the
 * site's id authority: `site.idAuthority`, else the host of `site.url`.
 * Fixing the authority keeps every id Presswork makes the same when the
 * site moves to another domain.
 */
export function tagUri(config: Config, date: string, specific: string): string {
  return `tag:${config.site.idAuthority ?? new URL(config.site.url).hostname},${date}:${specific}`;
}
