#!/usr/bin/env node
import { fileURLToPath } from "node:url";
import { requireWithCodeCache } from "../lib/cli/code-cache.js";

const { run } = requireWithCodeCache(fileURLToPath(new URL("../lib/bundle/main.cjs", import.meta.url)));
await run(process.argv.slice(2));
