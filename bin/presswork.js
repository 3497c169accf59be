#!/usr/bin/env node
import { run } from "../lib/bundle/main.js";

await run(process.argv.slice(2));
