// Bundles the compiled command line (lib/, from tsc) into lib/bundle/: one
// module per entry point and shared chunks. Importing the Markdown pipeline
// as some two hundred small ES modules costs Node 0.35 s of resolving and
// loading; as a bundle, 0.06 s. A rebuild that changes one article is mostly
// start-up, so this is most of its time. The worker threads and processes
// the command line starts are entry points too, found beside the chunk that
// starts them. On Node 22.1 and later, bin/presswork.js turns on Node's
// compile cache, which keeps V8's compiled code of these modules between runs.
// MJML stays in node_modules: it loads its parts by name at run time, and it
// loads in the issue compiler's thread only. So do the service's HTTP server
// (its logger starts threads from files of its own) and the database drivers
// (better-sqlite3 is a native addon).
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { build } from "rolldown";

const LIB = join(import.meta.dirname, "..", "lib");
const OUT = join(LIB, "bundle");

/** The command line, and the modules each worker thread or process starts from. */
const ENTRIES = {
  main: "cli/main.js",
  worker: "cli/worker.js",
  "mjml-worker": "pipeline/mjml-worker.js",
  "page-worker": "pipeline/page-worker.js",
  "render-worker": "pipeline/render-worker.js",
  "watch-worker": "preview/watch-worker.js",
};

await rm(OUT, { recursive: true, force: true });
await build({
  platform: "node",
  external: [/^mjml($|\/)/, /^(fastify|@fastify\/[^/]+|better-sqlite3|pg)($|\/)/],
  logLevel: "warn",
  input: Object.fromEntries(Object.entries(ENTRIES).map(([name, path]) => [name, join(LIB, path)])),
  output: { dir: OUT, format: "esm", entryFileNames: "[name].js", chunkFileNames: "chunk-[hash].js" },
});
// Node looks for the package.json that says how to load a module in its folder and up, on every import:
// one beside the chunks is found at once (without it, a build tries two missing files for each chunk).
await writeFile(join(OUT, "package.json"), `${JSON.stringify({ type: "module" })}\n`);
