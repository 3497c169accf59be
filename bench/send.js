// Send benchmark: 10,000 messages through a pool of 5 SMTP connections to a
// sink on loopback (bench/fast-sink.js, a separate process). Reports messages
// per second and the sender's peak memory.
import { fork } from "node:child_process";
import { cp, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

const REPO = join(import.meta.dirname, "..");
const WORK = join(REPO, "bench/.work/send");
const COUNT = Number(process.argv[2] ?? 10_000);
const { send } = await import("../lib/pipeline/send.js");

await rm(WORK, { recursive: true, force: true });
await mkdir(WORK, { recursive: true });
for (const part of ["articles", "templates", "newsletter", "presswork.config.yaml"]) await cp(join(REPO, part), join(WORK, part), { recursive: true });
await rm(join(WORK, "newsletter/ledger"), { recursive: true, force: true });
await writeFile(join(WORK, "subs.csv"), `email,name\n${Array.from({ length: COUNT }, (_, i) => `reader${i}@example.org,Reader ${i}`).join("\n")}\n`);

const sink = fork(join(REPO, "bench/fast-sink.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
const { port } = await new Promise((resolve) => sink.once("message", resolve));
const started = performance.now();
const outcome = await send({
  root: WORK,
  now: new Date("2026-11-29T12:00:00Z"),
  env: { PRESSWORK_SECRET: "bench", SMTP_URL: `smtp://127.0.0.1:${port}` },
  subscribers: "subs.csv",
  dryRun: false,
  retryFailed: false,
});
const seconds = (performance.now() - started) / 1000;
sink.send("count");
const { received } = await new Promise((resolve) => sink.once("message", resolve));
sink.kill();
const peak = process.resourceUsage().maxRSS / 1024;
console.log(`send: ${outcome.report.sent.toLocaleString("en")} messages (${received.toLocaleString("en")} received by the sink) in ${seconds.toFixed(2)} s = ${(outcome.report.sent / seconds).toFixed(0)} messages/s through 5 connections; sender peak RSS ${peak.toFixed(0)} MB (includes building the site once)`);
