// Bundles the compiled command line (lib/, from tsc) into lib/bundle/: one
// module per entry point and shared chunks, loaded by bin/presswork.js.
// Importing the Markdown pipeline as some two hundred small ES modules costs
// Node 0.35 s of resolving and loading; as a bundle, 0.06 s. A rebuild that
// changes one article is mostly start-up, so this is most of its time.
// MJML stays in node_modules: it loads its parts by name at run time, and it
// loads in the issue compiler's thread only.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { build } from "rolldown";

const LIB = join(import.meta.dirname, "..", "lib");
const OUT = join(LIB, "bundle");

/** Entry points: the command line, and the modules each worker thread or process starts from (found beside the chunk that starts them). */
const ENTRIES = {
  main: "cli/main.js",
  worker: "cli/worker.js",
  "mjml-worker": "pipeline/mjml-worker.js",
  "page-worker": "pipeline/page-worker.js",
  "render-worker": "pipeline/render-worker.js",
};

await rm(OUT, { recursive: true, force: true });
await build({
  input: Object.fromEntries(Object.entries(ENTRIES).map(([name, path]) => [name, join(LIB, path)])),
  platform: "node",
  external: [/^mjml($|\/)/],
  logLevel: "warn",
  output: { dir: OUT, format: "esm", entryFileNames: "[name].js", chunkFileNames: "chunk-[hash].js" },
});
