// Bundles the compiled command line (lib/, from tsc) into lib/bundle/: one
// module per entry point and shared chunks. Importing the Markdown pipeline
// as some two hundred small ES modules costs Node 0.35 s of resolving and
// loading; as a bundle, 0.06 s. A rebuild that changes one article is mostly
// start-up, so this is most of its time.
// The command line itself is bundled as CommonJS (main.cjs and its .cjs
// chunks), which bin/presswork.js loads with V8's code cache (see
// src/cli/code-cache.ts); its dynamic imports become require() calls, since
// code from V8's cache has no import() to call. The worker threads and
// processes it starts are ES modules (.js) in the same folder, where it looks
// for them.
// MJML stays in node_modules: it loads its parts by name at run time, and it
// loads in the issue compiler's thread only. So do the service's HTTP server
// (its logger starts threads from files of its own) and the database drivers
// (better-sqlite3 is a native addon).
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { build } from "rolldown";

const LIB = join(import.meta.dirname, "..", "lib");
const OUT = join(LIB, "bundle");

/** The modules each worker thread or process starts from (found beside the chunk that starts them). */
const WORKERS = {
  worker: "cli/worker.js",
  "mjml-worker": "pipeline/mjml-worker.js",
  "page-worker": "pipeline/page-worker.js",
  "render-worker": "pipeline/render-worker.js",
};

const input = (entries) => Object.fromEntries(Object.entries(entries).map(([name, path]) => [name, join(LIB, path)]));
const shared = { platform: "node", external: [/^mjml($|\/)/, /^(fastify|@fastify\/[^/]+|better-sqlite3|pg)($|\/)/], logLevel: "warn" };

await rm(OUT, { recursive: true, force: true });
await build({ ...shared, input: input(WORKERS), output: { dir: OUT, format: "esm", entryFileNames: "[name].js", chunkFileNames: "chunk-[hash].js" } });
await build({ ...shared, input: input({ main: "cli/main.js" }), output: { dir: OUT, format: "cjs", entryFileNames: "[name].cjs", chunkFileNames: "chunk-[hash].cjs", dynamicImportInCjs: false } });
