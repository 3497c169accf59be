// Memory and time of a send whose list comes from the database or from a
// running service rather than a file (default 1,000,000 active subscribers in
// a SQLite file), each a dry run in a fresh `presswork send` process, which
// streams, validates, de-duplicates and hashes every row:
//   --subscribers db          a thousand rows a query from SQLite;
//   --subscribers http://…    JSON Lines from `presswork serve` on loopback,
//                             with the service's own peak memory.
// Usage: npm run compile && node bench/subscribers-db.js [N]
import { spawn } from "node:child_process";
import { cp, mkdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { openStore } from "../lib/store/database.js";
import { SubscriberList } from "../lib/store/subscribers.js";
import { importActive } from "./list.js";

const REPO = join(import.meta.dirname, "..");
const WORK = join(REPO, "bench/.work/subscribers-db");
const COUNT = Number(process.argv[2] ?? 1_000_000);
const SECRET = "bench";
const TOKEN = "bench-api-token";
const DATABASE = `sqlite:${join(WORK, "list.sqlite")}`;

await rm(WORK, { recursive: true, force: true });
await mkdir(WORK, { recursive: true });
for (const part of ["articles", "templates", "newsletter", "presswork.config.yaml"]) await cp(join(REPO, part), join(WORK, part), { recursive: true });
await rm(join(WORK, "newsletter/ledger"), { recursive: true, force: true });

let started = performance.now();
const store = await openStore({ url: DATABASE, root: WORK });
const list = new SubscriberList(store, "weekly.signal-noise.example", SECRET);
await importActive(list, COUNT, (i) => `subscriber.${i}@list${i % 97}.example.org`, { nameOf: (i) => `Subscriber ${i}` });
await store.close();
console.log(`${COUNT.toLocaleString("en")} subscribers written to SQLite in ${((performance.now() - started) / 1000).toFixed(1)} s (importRows, 5,000 a transaction)`);

function run(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", join(REPO, "bench/peak-memory.js"), join(REPO, "bin/presswork.js"), ...args], { cwd: WORK, env: { PATH: process.env.PATH, PRESSWORK_SECRET: SECRET, ...env } });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, output, child }));
  });
}

async function send(label, subscribers, env) {
  started = performance.now();
  const result = await run(["send", "--subscribers", subscribers, "--dry-run", "--now", "2026-11-29T12:00:00Z"], env);
  const seconds = (performance.now() - started) / 1000;
  const kb = Number(/PEAK_RSS_KB=(\d+)/.exec(result.output)?.[1] ?? 0);
  const counted = /(\d+)\s+would be sent/.exec(result.output)?.[1];
  if (result.status !== 0 || Number(counted) !== COUNT) throw new Error(`${label} failed:\n${result.output}`);
  console.log(`  ${label.padEnd(38)} ${seconds.toFixed(1).padStart(6)} s   peak ${(kb / 1024).toFixed(0).padStart(4)} MB   ${Number(counted).toLocaleString("en")} would be sent`);
}

console.log("presswork send --dry-run:");
await send("--subscribers db", "db", { DATABASE_URL: DATABASE });

const port = await new Promise((resolve) => {
  const server = createServer();
  server.listen(0, "127.0.0.1", () => {
    const { port: free } = server.address();
    server.close(() => resolve(free));
  });
});
const service = spawn(process.execPath, ["--import", join(REPO, "bench/peak-memory.js"), join(REPO, "bin/presswork.js"), "serve", "--port", String(port)], {
  cwd: WORK,
  env: { PATH: process.env.PATH, PRESSWORK_SECRET: SECRET, DATABASE_URL: DATABASE, PRESSWORK_API_TOKEN: TOKEN, PRESSWORK_PUBLIC_URL: `http://127.0.0.1:${port}/`, PRESSWORK_LOG_LEVEL: "warn" },
});
let serviceOutput = "";
service.stderr.on("data", (chunk) => (serviceOutput += chunk));
while (!serviceOutput.includes("listening on")) {
  if (service.exitCode !== null) throw new Error(serviceOutput);
  await new Promise((r) => setTimeout(r, 50));
}
await send("--subscribers http://…/api/subscribers", `http://127.0.0.1:${port}/api/subscribers`, { PRESSWORK_API_TOKEN: TOKEN });
service.kill("SIGTERM");
await new Promise((resolve) => service.once("exit", resolve));
console.log(`  the service that streamed the list: peak ${(Number(/PEAK_RSS_KB=(\d+)/.exec(serviceOutput)?.[1] ?? 0) / 1024).toFixed(0)} MB`);
