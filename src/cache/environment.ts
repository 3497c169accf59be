import { readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { CACHE_VERSION } from "./version.js";
import { PressworkError } from "../errors/error.js";

/** A package as a lockfile lists it. */
interface LockedPackage {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** What a build's output depends on besides its input: the code that makes it (see environmentDigest in key.ts). */
export interface Environment {
  /** Node's major version: V8 and ICU change what some code gives (dates, sorting, regular expressions). */
  node: number;
  /** Presswork's own version and CACHE_VERSION. */
  presswork: string;
  /** The installed version of every package Presswork runs, by name, sorted: its dependencies and theirs. */
  packages: string[];
  /** Where the versions were read. */
  from: string;
}

let memo: Environment | undefined;

/**
 * The environment of this process, read once: Node's major version,
 * Presswork's version, and the installed versions of every package it runs
 * (from npm's record of node_modules, else the lockfile, else each package's
 * own package.json). A dependency upgraded, downgraded or patched through npm
 * changes it, so nothing cached by other code is reused.
 */
export function environment(): Environment {
  memo ??= readEnvironment(packageRoot(dirname(fileURLToPath(import.meta.url))));
  return memo;
}

/** Reads the environment of the Presswork installed at `root` (exported for tests). */
export function readEnvironment(root: string): Environment {
  const own = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string; dependencies?: Record<string, string> };
  const direct = Object.keys(own.dependencies ?? {});
  const locked = lockedPackages(root);
  const packages = locked ? closure(direct, locked.base, (path) => locked.packages[path]) : closure(direct, "", installed(root));
  const node = Number(process.versions.node.split(".")[0]);
  const presswork = `${own.version}+${CACHE_VERSION}`;
  return { node, presswork, packages, from: locked?.from ?? "node_modules" };
}

/** The folder of Presswork's package.json: above this module, in src/, lib/ or lib/bundle/. */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string }).name === "presswork") return dir;
    } catch {
      // no package.json here
    }
    if (dirname(dir) === dir) throw new PressworkError("internal", `cannot find Presswork's package.json above ${from}`);
  }
}

/**
 * The packages of the nearest npm record of node_modules (its hidden
 * lockfile), or else of package-lock.json, at `root` or above it (where
 * Presswork is itself installed as a dependency), with the path of `root`
 * in it.
 */
function lockedPackages(root: string): { packages: Record<string, LockedPackage>; base: string; from: string } | undefined {
  for (const name of [join("node_modules", ".package-lock.json"), "package-lock.json"]) {
    for (let dir = root; ; dir = dirname(dir)) {
      const path = join(dir, name);
      try {
        const { packages } = JSON.parse(readFileSync(path, "utf8")) as { packages?: Record<string, LockedPackage> };
        if (packages) return { packages, base: relative(dir, root).split(sep).join("/"), from: path };
      } catch {
        // none here
      }
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}

/** Where Node would find `name` required from the package at `from` (a lockfile path, "" for the root): the nearest node_modules up. */
function* candidates(name: string, from: string): Generator<string> {
  for (let dir = from; ; ) {
    yield dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (!dir) return;
    const cut = dir.lastIndexOf("/node_modules/");
    dir = cut < 0 ? "" : dir.slice(0, cut);
  }
}

/** `name@version` of every package reached from `direct`, resolved from `base` over the packages `lookup` finds by path. */
function closure(direct: readonly string[], base: string, lookup: (path: string) => LockedPackage | undefined): string[] {
  const found = new Map<string, string>();
  const stack = direct.map((name) => [name, base] as const);
  while (stack.length > 0) {
    const [name, from] = stack.pop() as readonly [string, string];
    for (const path of candidates(name, from)) {
      const entry = lookup(path);
      if (!entry) continue;
      if (!found.has(path)) {
        found.set(path, `${name}@${entry.version ?? "?"}`);
        for (const dependency of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) stack.push([dependency, path]);
      }
      break;
    }
  }
  return [...new Set(found.values())].sort();
}

/** Looks packages up by their package.json under `root`, for an install without npm's records. */
function installed(root: string): (path: string) => LockedPackage | undefined {
  const read = new Map<string, LockedPackage | undefined>();
  return (path) => {
    if (!read.has(path)) {
      try {
        read.set(path, JSON.parse(readFileSync(join(root, path, "package.json"), "utf8")) as LockedPackage);
      } catch {
        read.set(path, undefined);
      }
    }
    return read.get(path);
  };
}
