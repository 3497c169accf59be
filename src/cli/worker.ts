// Entry of a command run in a worker thread (see bounded.ts).
import { workerData } from "node:worker_threads";
import { run } from "./main.js";

await run((workerData as { argv: string[] }).argv);
