import { hash } from "node:crypto";
import { environment } from "./environment.js";

/**
 * The one digest Presswork uses to stand for content: SHA-256 of the parts,
 * as 32 hex characters (128 bits). Each part is a string or any JSON value,
 * and enters with its length, so `digest("ab", "c")` and `digest("a", "bc")`
 * differ. A cache key is a cacheKey, which adds the environment.
 */
export function digest(...parts: readonly unknown[]): string {
  return hash("sha256", joined(parts)).slice(0, 32);
}

/** The parts as digest hashes them, each with its length. */
function joined(parts: readonly unknown[]): string {
  let text = "";
  for (const part of parts) {
    const value = typeof part === "string" ? part : String(JSON.stringify(part));
    text += `${value.length}:${value}`;
  }
  return text;
}

/**
 * The key of a cache entry: a digest of `parts` (everything the entry is
 * made from) and of the environment (Presswork's cache version, Node's
 * major version and the installed version of every package Presswork runs).
 * The same key means the same result, whatever code ran before.
 */
export function cacheKey(...parts: readonly unknown[]): string {
  return digest(environmentDigest(), ...parts);
}

/**
 * Cache keys of `fixed` and each value of `more`: the cacheKey of the fixed
 * parts stands for them in each key, so they are hashed once rather than
 * with every key, which saves about a third of each key's cost.
 */
export function cacheKeys(...fixed: readonly unknown[]): (...more: readonly unknown[]) => string {
  const start = cacheKey(...fixed);
  return (...more) => digest(start, ...more);
}

let memo: string | undefined;

/** A digest of the environment (see environment.ts), once a process: the first part of every cache key, and the cache folder's stamp. */
export function environmentDigest(): string {
  if (memo === undefined) {
    const { presswork, node, packages } = environment();
    memo = digest("presswork", presswork, "node", node, "packages", packages);
  }
  return memo;
}
