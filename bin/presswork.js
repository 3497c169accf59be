#!/usr/bin/env node
import { requireWithCodeCache } from "../lib/cli/code-cache.js";

const { run } = requireWithCodeCache(new URL("../lib/bundle/main.cjs", import.meta.url).pathname);
await run(process.argv.slice(2));
