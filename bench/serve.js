// The subscription service under load on loopback, on SQLite and on
// PostgreSQL (a throwaway cluster with its default durability: fsync and
// synchronous commit on). For each database, a fresh `presswork serve`
// process over a list of 100,000 active subscribers, mailing through a
// loopback SMTP sink:
//   one-click    POST List-Unsubscribe=One-Click to a different subscriber's
//                link each time, as fast as it goes on 32 connections, then
//                3,000 a second;
//   subscribe    POST /subscribe with a new address each time (every one a
//                transaction and a queued confirmation the worker mails
//                meanwhile), as fast as it goes, then 1,000 a second.
// "As fast as it goes" is wrk (Debian's package: a C client that costs the
// machine a tenth of autocannon's CPU a request), after two seconds of
// warm-up; autocannon where wrk is not installed, or with --client
// autocannon. "N a second" is bench/open-loop.js: requests leave on a fixed
// schedule whatever the answers do (two seconds of it first, left out), and
// each latency counts from when its request was due (autocannon's rate
// option sends a second's quota as fast as it can, then waits for the next
// second). Reported: requests a second, p50 and p99 latency, the service's
// CPU time per request (what bounds its rate on a core of its own),
// PostgreSQL's (its server and backends, on the same machine), the
// client's, and the service's peak memory. With taskset (util-linux) and two
// cores or more, the clients run on the last core; the service and its
// threads (SQLite's checkpoints, the garbage collector) on any. The service
// runs with the Node options the Dockerfile gives it. --cpu-prof writes a V8
// CPU profile of the service to bench/.work/serve-prof/ and prints the
// functions that took the most of its time. The subscribe limit per client
// is raised for the run: every request comes from 127.0.0.1.
// Usage: npm run compile && node bench/serve.js [sqlite|postgres] [seconds] [--cpu-prof] [--only one-click|subscribe] [--client wrk|autocannon]
import { fork, spawn, spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { cp, mkdir, rm, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import pg from "pg";
import { openStore } from "../lib/store/database.js";
import { SubscriberList } from "../lib/store/subscribers.js";
import { unsubscribeUrl } from "../lib/issues/message.js";
import { loadConfig } from "../lib/config/load.js";
import { importActive } from "./list.js";
import { freePort } from "../scripts/free-port.js";
import { startCluster } from "../scripts/postgres-cluster.js";

const REPO = join(import.meta.dirname, "..");
const WORK = join(REPO, "bench/.work/serve");
const only = ["sqlite", "postgres"].includes(process.argv[2] ?? "") ? [process.argv[2]] : ["sqlite", "postgres"];
const SECONDS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 10);
const PROFILE = process.argv.includes("--cpu-prof");
// --only one-click or --only subscribe: that endpoint's two runs alone (a profile of one endpoint).
const ONLY = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
const PROFILES = join(REPO, "bench/.work/serve-prof");
// The load client: wrk (Debian's package), a C program that costs the shared machine a tenth of autocannon's CPU a
// request, where installed; autocannon otherwise, or with --client autocannon.
const CLIENT = process.argv.includes("--client") ? process.argv[process.argv.indexOf("--client") + 1] : spawnSync("wrk", ["--version"]).error ? "autocannon" : "wrk";
// The clients (this process, wrk, the open-loop client) on the last core, when the machine has two or more.
const CLIENT_CORE = availableParallelism() - 1;
const PINNED = CLIENT_CORE >= 1 && spawnSync("taskset", ["-cp", String(CLIENT_CORE), String(process.pid)], { stdio: "ignore" }).status === 0;
const SUBSCRIBERS = 100_000;
// Node's options for the service as the Dockerfile (and the README's systemd unit) run it: the heap capped.
const DEPLOYED_FLAGS = (() => {
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(readFileSync(join(REPO, "Dockerfile"), "utf8"))[1]);
  return cmd.slice(1, cmd.findIndex((arg) => arg.endsWith("presswork.js")));
})();
/** Seconds of load before each run, left out of its results. */
const WARM_UP = 2;
const SECRET = "bench-secret";
const LIST = "weekly.signal-noise.example";

const TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** CPU time a process has used, in ms (user and system, from /proc). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
}

/** CPU time of a process and all its children (PostgreSQL's server and its backends, those that have ended too), in ms. */
function treeCpuMs(root) {
  const parents = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parents.set(Number(entry), Number(readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1].split(" ")[1]));
    } catch {
      // The process ended meanwhile.
    }
  }
  // The backends that have ended: the server has waited for them, and their time is in its children's fields.
  const fields = readFileSync(`/proc/${root}/stat`, "utf8").split(") ")[1].split(" ");
  let ms = ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS;
  for (const [pid, parent] of parents) {
    if (pid !== root && parent !== root) continue;
    try {
      ms += cpuMs(pid);
    } catch {
      // The process ended meanwhile.
    }
  }
  return ms;
}

/** CPU time this process's children that have ended used, in ms (wrk's, once it has exited). */
function childrenCpuMs() {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS;
}

/** wrk's time units in its report. */
const UNITS = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/**
 * One run of wrk (one thread, 32 connections, a Lua script that gives each
 * request its own path and body), read into the shape autocannon reports.
 */
function runWrk(url, script, args, seconds = SECONDS) {
  const child = spawnSync("wrk", ["-t1", "-c32", `-d${seconds}s`, "--latency", "-s", script, url, "--", ...args], { encoding: "utf8" });
  if (child.status !== 0) throw new Error(`wrk failed: ${child.stderr}`);
  const out = child.stdout;
  const time = (label) => {
    const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(out);
    return m ? Math.round(Number(m[1]) * UNITS[m[2]]) : NaN;
  };
  const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: { total, average: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0) },
    latency: { p50: time("50%"), p99: time("99%") },
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    errors: socket ? Number(socket[1]) + Number(socket[2]) + Number(socket[3]) : 0,
    timeouts: socket ? Number(socket[4]) : 0,
  };
}

/** Waits until the service's worker has mailed every queued confirmation; returns how many it mailed and how long it took. */
async function drainMail(databaseUrl) {
  const store = await openStore({ url: databaseUrl, root: WORK });
  const unsent = async () => Number((await store.db.selectFrom("mail_queue").select((eb) => eb.fn.countAll().as("n")).where("sent_at", "is", null).where("failed_at", "is", null).executeTakeFirstOrThrow()).n);
  const start = performance.now();
  const mails = await unsent();
  while ((await unsent()) > 0 && performance.now() - start < 300_000) await new Promise((r) => setTimeout(r, 100));
  await store.close();
  return { mails, seconds: (performance.now() - start) / 1000 };
}

/** One run of bench/open-loop.js: `rate` requests a second, each latency counted from when its request was due. */
async function runOpenLoop(job) {
  const child = fork(join(REPO, "bench/open-loop.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  child.send({ seconds: SECONDS, warmup: WARM_UP, connections: 64, ...job });
  const [result] = await Promise.all([new Promise((resolve) => child.once("message", resolve)), new Promise((resolve) => child.once("exit", resolve))]);
  return result;
}

/**
 * One run of the load client, with the service's, the database server's (PostgreSQL) and the client's CPU time per
 * request: the service's bounds its rate on a core of its own, and all three share the machine.
 */
async function load(title, run, pid, databasePid) {
  const before = cpuMs(pid);
  const databaseBefore = databasePid ? treeCpuMs(databasePid) : 0;
  const client = process.cpuUsage();
  const children = childrenCpuMs();
  const result = await run();
  const used = process.cpuUsage(client);
  // The open-loop client's warm-up is not in its results but is in the CPU times.
  const total = Math.max(1, result.answered ?? result.requests.total);
  const databaseUs = databasePid ? ((treeCpuMs(databasePid) - databaseBefore) * 1000) / total : undefined;
  // wrk's CPU time is its own once it has ended; the open-loop client tells its own.
  const clientUs = (used.user + used.system + (result.cpuMs ?? childrenCpuMs() - children) * 1000) / total;
  return { title, result, cpuUs: ((cpuMs(pid) - before) * 1000) / total, clientUs, databaseUs };
}

function line({ title, result, cpuUs, clientUs, databaseUs }) {
  const bad = result.non2xx + result.errors + result.timeouts;
  const database = databaseUs === undefined ? "" : `   PostgreSQL CPU ${String(Math.round(databaseUs)).padStart(4)} µs/request`;
  return `  ${title.padEnd(34)} ${String(Math.round(result.requests.average)).padStart(6)} req/s   p50 ${String(result.latency.p50).padStart(4)} ms   p99 ${String(result.latency.p99).padStart(4)} ms   service CPU ${String(Math.round(cpuUs)).padStart(4)} µs/request${database}   client CPU ${String(Math.round(clientUs)).padStart(4)} µs/request   ${bad ? `${bad} failed` : "all 2xx"}`;
}

/** The functions that took the most of a V8 CPU profile's samples (self time), with their share. */
function topFunctions(path, count = 25) {
  const profile = JSON.parse(readFileSync(path, "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const { functionName, url, lineNumber } = node.callFrame;
    const where = `${functionName || "(anonymous)"} ${url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/(lib|src)\//, "$1/")}:${lineNumber + 1}`;
    self.set(where, (self.get(where) ?? 0) + (deltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, count).map(([where, us]) => `    ${((100 * us) / total).toFixed(1).padStart(5)} %  ${where}`);
}

async function bench(database) {
  await rm(WORK, { recursive: true, force: true });
  await mkdir(WORK, { recursive: true });
  for (const part of ["templates", "presswork.config.yaml"]) await cp(join(REPO, part), join(WORK, part), { recursive: true });
  // A cluster with default durability, as a deployed server has.
  const postgres = database === "postgres" ? await startCluster(join(WORK, "pg"), { database: "bench" }) : undefined;
  if (database === "postgres" && !postgres) {
    console.log("PostgreSQL: not installed here (Debian's postgresql); skipped.");
    return;
  }
  const databaseUrl = postgres?.url ?? `sqlite:${join(WORK, "list.sqlite")}`;
  const { config } = await loadConfig(WORK);
  const store = await openStore({ url: databaseUrl, root: WORK });
  const list = new SubscriberList(store, LIST, SECRET);
  const members = await importActive(list, SUBSCRIBERS, (i) => `member.${i}@list${i % 97}.example.org`);
  await store.close();
  if (postgres) {
    // A cluster that has run a while reuses its WAL files: without this, the runs would wait while PostgreSQL creates
    // and syncs new 16 MB WAL files, every few seconds, as only a cluster started a minute ago does.
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    await client.query("checkpoint");
    await client.end();
  }
  const oneClick = members.map((m) => {
    const url = new URL(unsubscribeUrl(config.newsletter, m, SECRET));
    return `/unsubscribe${url.search}`;
  });

  const sink = fork(join(REPO, "bench/fast-sink.js"), [], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const { port: smtpPort } = await new Promise((resolve) => sink.once("message", resolve));
  const port = await freePort();
  const node = [...DEPLOYED_FLAGS, ...(PROFILE ? ["--cpu-prof", "--cpu-prof-dir", PROFILES] : []), "--import", join(REPO, "bench/peak-memory.js"), join(REPO, "bin/presswork.js"), "serve", "--port", String(port)];
  if (PROFILE) await rm(PROFILES, { recursive: true, force: true });
  // Not pinned: the service's threads may use every core, the clients' one too.
  const service = spawn(PINNED ? "taskset" : process.execPath, PINNED ? ["-c", `0-${CLIENT_CORE}`, process.execPath, ...node] : node, {
    cwd: WORK,
    env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, PRESSWORK_SECRET: SECRET, PRESSWORK_PUBLIC_URL: `http://127.0.0.1:${port}/`, SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, PRESSWORK_SUBSCRIBE_PER_MINUTE: "100000000", PRESSWORK_LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  service.stderr.on("data", (chunk) => (stderr += chunk));
  while (!stderr.includes("listening on")) {
    if (service.exitCode !== null) throw new Error(`presswork serve did not start:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = `http://127.0.0.1:${port}`;
  let next = 0;
  const unsubscribe = { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "List-Unsubscribe=One-Click", setupRequest: (request) => ({ ...request, path: oneClick[next++ % oneClick.length] }) };
  let fresh = 0;
  const subscribe = { method: "POST", path: "/subscribe", headers: { "content-type": "application/json" }, setupRequest: (request) => ({ ...request, body: JSON.stringify({ email: `new.${fresh++}@bench.example.org`, form: "bench" }) }) };

  let drained;
  const loadBefore = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  const results = [];
  const cannon = (options) => () => new Promise((resolve, reject) => autocannon({ url, connections: 32, duration: SECONDS, ...options }, (error, r) => (error ? reject(error) : resolve(r))));
  if (ONLY !== "subscribe") {
    const paths = join(WORK, "one-click.txt");
    await writeFile(paths, `${oneClick.join("\n")}\n`);
    if (CLIENT === "wrk") {
      const script = join(REPO, "bench/wrk/one-click.lua");
      // Warmed up first (compiled code, SQLite's page cache, PostgreSQL's connections), as a service that has run a while is.
      next = runWrk(url, script, [paths, "0"], WARM_UP).requests.total;
      results.push(await load("one-click, as fast as it goes", () => runWrk(url, script, [paths, String(next)]), service.pid, postgres?.pid));
      next += results.at(-1).result.requests.total;
    } else {
      // autocannon counts its requests in `next` as it makes them (see `unsubscribe`).
      await cannon({ requests: [unsubscribe], duration: WARM_UP })();
      results.push(await load("one-click, as fast as it goes", cannon({ requests: [unsubscribe] }), service.pid, postgres?.pid));
    }
    results.push(await load("one-click, 3,000 a second", () => runOpenLoop({ port, rate: 3000, kind: "one-click", paths, offset: next }), service.pid, postgres?.pid));
    next += results.at(-1).result.answered;
  }
  if (ONLY !== "one-click") {
    if (CLIENT === "wrk") {
      const script = join(REPO, "bench/wrk/subscribe.lua");
      fresh = runWrk(url, script, ["warm"], WARM_UP).requests.total;
      results.push(await load("subscribe, as fast as it goes", () => runWrk(url, script, ["run"]), service.pid, postgres?.pid));
      fresh += results.at(-1).result.requests.total;
    } else {
      await cannon({ requests: [subscribe], duration: WARM_UP })();
      results.push(await load("subscribe, as fast as it goes", cannon({ requests: [subscribe] }), service.pid, postgres?.pid));
    }
    // The confirmations of that run are mailed first: at 1,000 a second, the worker's share is those 1,000 mails alone.
    drained = await drainMail(databaseUrl);
    results.push(await load("subscribe, 1,000 a second", () => runOpenLoop({ port, rate: 1000, kind: "subscribe", prefix: "held" }), service.pid, postgres?.pid));
    fresh += results.at(-1).result.answered;
  }

  service.kill("SIGTERM");
  await new Promise((resolve) => service.once("exit", resolve));
  sink.kill();
  const mb = Number(/PEAK_RSS_KB=(\d+)/.exec(stderr)?.[1] ?? 0) / 1024;
  console.log(`${database === "sqlite" ? "SQLite" : "PostgreSQL"} (${SUBSCRIBERS.toLocaleString("en")} subscribers, ${SECONDS} s a run, node ${DEPLOYED_FLAGS.join(" ")} as deployed, ${CLIENT}, ${PINNED ? `clients on core ${CLIENT_CORE}, the service on any` : "not pinned"}; load average before: ${loadBefore}):`);
  for (const r of results) console.log(line(r));
  if (drained) console.log(`  the worker mailed the ${drained.mails.toLocaleString("en")} confirmations left from the run as fast as it goes in ${drained.seconds.toFixed(1)} s (${Math.round(drained.mails / drained.seconds)} a second)`);
  console.log(`  service peak memory ${mb.toFixed(0)} MB; ${next.toLocaleString("en")} one-click and ${fresh.toLocaleString("en")} subscribe requests in all`);
  if (PROFILE) {
    const file = readdirSync(PROFILES).find((f) => f.endsWith(".cpuprofile"));
    if (file) console.log(`  where the service's time went (self time, whole run; ${join(PROFILES, file)}):\n${topFunctions(join(PROFILES, file)).join("\n")}`);
  }
  await postgres?.stop();
}

for (const database of only) await bench(database);
