#!/usr/bin/env node
import module from "node:module";

// Node 22.1 and later keep V8's compiled code of the modules between runs (a fifth of a rebuild
// that changes one article); the render process and threads inherit it through the environment.
// Older Node has no such cache, and runs without one.
const compileCache = module.enableCompileCache?.();
if (compileCache?.directory && !process.env.NODE_COMPILE_CACHE) process.env.NODE_COMPILE_CACHE = compileCache.directory;

const { run } = await import("../lib/bundle/main.js");
await run(process.argv.slice(2));
