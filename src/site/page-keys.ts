import { digest } from "../cache/key.js";

/**
 * Digests of page scopes, to tell which pages changed since the last build.
 * Objects that many pages share (the site, each article's card and scope)
 * are registered once with a digest of their own and stand in every page's
 * digest by it: a page is serialised with its shared parts as short
 * references, so keying thousands of pages costs one small JSON text each.
 */
export class ScopeDigests {
  private readonly known = new Map<object, string>();

  /** Registers a shared object by a digest of its JSON, or by `given` when it holds what JSON cannot see (lazy HTML). */
  register<T extends object>(value: T, given?: string): T {
    this.known.set(value, `\u0001${given ?? digest(JSON.stringify(value))}`);
    return value;
  }

  /** The registered digest of `value`. */
  digestOf(value: object): string | undefined {
    return this.known.get(value);
  }

  /** A digest of a page's scope: its own data in full, its shared parts by their digests. */
  of(scope: object): string {
    return digest(JSON.stringify(scope, (_key, value: unknown) => (typeof value === "object" && value !== null && this.known.get(value)) || value));
  }
}
