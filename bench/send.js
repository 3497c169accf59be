// Send benchmark: N messages (default 10,000) through a pool of 5 SMTP
// connections to a sink on loopback (bench/fast-sink.js, a separate process).
// The send runs as `presswork send` runs it, in a worker thread with the same
// capped heap, its state on the local state branch of a git repository made
// for it. Reports messages per second, the CPU time a message costs the
// sending process, the process's peak memory, and the bytes a recipient
// costs in the ledger on the state branch, or in the database with
// --state sqlite (a SQLite file made for it) or --state postgres://… (an
// empty PostgreSQL database you give; its state tables are measured).
// Usage: node bench/send.js [N] [--state branch|sqlite|postgres://…]
import { execFileSync, fork } from "node:child_process";
import { cp, mkdir, rm, writeFile } from "node:fs/promises";
import { statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

if (isMainThread) {
  const REPO = join(import.meta.dirname, "..");
  const WORK = join(REPO, "bench/.work/send");
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { state: { type: "string", default: "branch" } } });
  const COUNT = Number(positionals[0] ?? 10_000);
  const databaseUrl = values.state === "sqlite" ? `sqlite:${join(WORK, "state.sqlite")}` : values.state.startsWith("postgres") ? values.state : undefined;
  const stateEnv = databaseUrl ? { PRESSWORK_STATE_STORE: "database", DATABASE_URL: databaseUrl } : {};
  const { boundedHeap, SEND_HEAP_MB } = await import("../lib/cli/bounded.js");

  await rm(WORK, { recursive: true, force: true });
  await mkdir(WORK, { recursive: true });
  for (const part of ["articles", "templates", "newsletter", "presswork.config.yaml"]) await cp(join(REPO, part), join(WORK, part), { recursive: true });
  await rm(join(WORK, "newsletter/ledger"), { recursive: true, force: true });
  await writeFile(join(WORK, "subs.csv"), `email,name\n${Array.from({ length: COUNT }, (_, i) => `reader${i}@example.org,Reader ${i}`).join("\n")}\n`);
  const git = (...args) => execFileSync("git", args, { cwd: WORK, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "bench", GIT_AUTHOR_EMAIL: "bench@example.org", GIT_COMMITTER_NAME: "bench", GIT_COMMITTER_EMAIL: "bench@example.org" } }).trim();
  git("init", "--quiet", "--initial-branch=main");
  git("add", "articles", "templates", "newsletter", "presswork.config.yaml");
  git("commit", "--quiet", "-m", "bench");

  const sink = fork(join(REPO, "bench/fast-sink.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const { port } = await new Promise((resolve) => sink.once("message", resolve));
  const worker = new Worker(new URL(import.meta.url), { workerData: { root: WORK, port, stateEnv }, resourceLimits: boundedHeap(SEND_HEAP_MB) });
  const { sent, seconds, delivering, cpuMs } = await new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  sink.send("count");
  const { received, bytes } = await new Promise((resolve) => sink.once("message", resolve));
  sink.kill();
  const peak = process.resourceUsage().maxRSS / 1024;
  const rate = (s) => (sent / s).toFixed(0);
  const { ledgerBytes, where } = databaseUrl ? await databaseLedger(databaseUrl) : branchLedger(git);
  console.log(
    `send: ${sent.toLocaleString("en")} messages of ${(bytes / received / 1024).toFixed(1)} KB (${received.toLocaleString("en")} received by the sink) through 5 connections:` +
      ` ${rate(delivering)} messages/s from the first message to the last (${delivering.toFixed(2)} s);` +
      ` ${rate(seconds)} messages/s counting start-up, compiling the issue and verifying the server (${seconds.toFixed(2)} s);` +
      ` ${(cpuMs / sent).toFixed(3)} ms of CPU a message in the sending process; peak RSS ${peak.toFixed(0)} MB;` +
      ` ledger ${(ledgerBytes / sent).toFixed(1)} bytes a recipient (${ledgerBytes.toLocaleString("en")} bytes ${where})`,
  );
} else {
  const { send } = await import("../lib/pipeline/send.js");
  const started = performance.now();
  let firstMessage;
  let firstCpu;
  const outcome = await send({
    root: workerData.root,
    now: new Date("2026-11-29T12:00:00Z"),
    env: { PRESSWORK_SECRET: "bench", SMTP_URL: `smtp://127.0.0.1:${workerData.port}`, ...workerData.stateEnv },
    subscribers: "subs.csv",
    dryRun: false,
    retryFailed: false,
    onProgress: () => {
      firstMessage ??= performance.now();
      firstCpu ??= process.cpuUsage();
    },
  });
  const finished = performance.now();
  const cpu = process.cpuUsage(firstCpu);
  parentPort.postMessage({ sent: outcome.report.sent, seconds: (finished - started) / 1000, delivering: (finished - firstMessage) / 1000, cpuMs: (cpu.user + cpu.system) / 1000 });
}

/** The ledger's bytes on the state branch: the size of its files. */
function branchLedger(git) {
  const ledgerBytes = git("ls-tree", "-r", "-l", "presswork-state", "ledger/")
    .split("\n")
    .reduce((total, line) => total + Number(line.split(/\s+/)[3] ?? 0), 0);
  return { ledgerBytes, where: "on the state branch" };
}

/** The ledger's bytes in the database: its text, and what its table takes on disk (SQLite: the file; PostgreSQL: the table with its index and TOAST). */
async function databaseLedger(url) {
  const { openStore } = await import("../lib/store/database.js");
  const { sql } = await import("kysely");
  const store = await openStore({ url, root: "/nonexistent" });
  try {
    const text = Number((await store.db.selectFrom("state_ledger").select((eb) => eb.fn.sum(eb.fn("length", ["text"])).as("bytes")).executeTakeFirst())?.bytes ?? 0);
    const disk =
      store.dialect === "postgres"
        ? Number((await sql`select pg_total_relation_size('state_ledger') as bytes`.execute(store.db)).rows[0].bytes)
        : statSync(url.slice("sqlite:".length)).size;
    return { ledgerBytes: text, where: `of text in ${store.description}; ${disk.toLocaleString("en")} bytes on disk for ${store.dialect === "postgres" ? "the table" : "the whole file"}` };
  } finally {
    await store.close();
  }
}
