import { hash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { Script } from "node:vm";

/** The part of Node's CommonJS loader this hooks: compiling one module's source. */
interface Compiling {
  _compile(content: string, filename: string): unknown;
}

/**
 * Loads the bundled command line (CommonJS, in `entry`'s folder) with V8's
 * code cache. The first run that loads a chunk keeps its compiled code,
 * with every function the run called, in `code-cache/` beside the bundle;
 * later runs start from it instead of compiling again: a tenth to a fifth
 * of a rebuild that changes one article (Node 20 has no compile cache of
 * its own). A cache V8 rejects (another Node) is made again; one that
 * cannot be written is done without.
 */
export function requireWithCodeCache(entry: string): unknown {
  const bundle = dirname(entry);
  const cacheDir = join(bundle, "code-cache", `${process.version}-${process.arch}`);
  const uncached: Array<[Script, string]> = [];
  const loader = Module.prototype as unknown as Compiling;
  const compile = loader._compile;
  loader._compile = function (this: Module, content: string, filename: string) {
    if (dirname(filename) !== bundle) return compile.call(this, content, filename);
    // By the chunk's text: V8 checks a cache against the length of the source only.
    const cacheFile = join(cacheDir, `${basename(filename)}-${hash("sha1", content).slice(0, 16)}.bin`);
    let cachedData: Buffer | undefined;
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      // not cached yet
    }
    const script = new Script(Module.wrap(content), { filename, cachedData });
    if (!cachedData || script.cachedDataRejected) uncached.push([script, cacheFile]);
    const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => unknown;
    return wrapper.call(this.exports, this.exports, createRequire(filename), this, filename, bundle);
  };
  // Made at exit, so the cache holds the functions this run compiled as it went, not just the top level.
  process.once("exit", () => {
    for (const [script, file] of uncached) {
      try {
        mkdirSync(dirname(file), { recursive: true });
        const temporary = `${file}.${process.pid}.tmp`;
        writeFileSync(temporary, script.createCachedData());
        renameSync(temporary, file);
      } catch {
        // a read-only install: every run compiles
      }
    }
  });
  return createRequire(import.meta.url)(entry);
}
