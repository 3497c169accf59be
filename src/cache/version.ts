/**
 * The version of what Presswork's own code makes: bump it when a change to
 * the code changes rendered HTML, pages, feeds, validated front matter or
 * config, or the layout of the cache, so nothing cached before is reused.
 * Dependencies and Node need no bump: the cache keys hold their versions
 * (see environment.ts).
 */
export const CACHE_VERSION = 88;
