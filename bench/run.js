// npm run bench: times Presswork on generated projects, each run in a fresh process,
// then the email issue (bench/email.js), a send of 10,000 messages (bench/send.js)
// and the memory of a send over a million subscribers (bench/subscribers.js).
// Usage: node bench/run.js [N ...]   (default: 1000 5000)
import { execFileSync, spawnSync } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generate } from "./generate.js";

const REPO = join(import.meta.dirname, "..");
const WORK = join(REPO, "bench/.work");
const sizes = process.argv.slice(2).map(Number).filter(Boolean);

/** Runs `presswork build` in a fresh Node process; returns wall seconds and peak memory. */
function timedBuild(project, extra = []) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ["--import", join(REPO, "bench/peak-memory.js"), join(REPO, "bin/presswork.js"), "build", "--now", "2026-11-29T12:00:00Z", ...extra], {
    cwd: project,
    encoding: "utf8",
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`build failed:\n${result.stderr}`);
  const kb = Number(/PEAK_RSS_KB=(\d+)/.exec(result.stderr)?.[1] ?? 0);
  return { seconds, mb: kb / 1024 };
}

const rows = [];
for (const n of sizes.length ? sizes : [1000, 5000]) {
  const project = join(WORK, `project-${n}`);
  await generate(project, n);
  await rm(join(project, ".presswork-cache"), { recursive: true, force: true });
  const cold = timedBuild(project);
  const warm = timedBuild(project);
  const file = join(project, "articles/story-1.md");
  await writeFile(file, (await readFile(file, "utf8")).replace("## What comes next", "## What comes next, updated"));
  const oneChange = timedBuild(project);
  rows.push({ n, cold, warm, oneChange });
  console.log(`${n} articles: cold ${cold.seconds.toFixed(2)} s, ${cold.mb.toFixed(0)} MB | no change ${warm.seconds.toFixed(2)} s | one article changed ${oneChange.seconds.toFixed(2)} s, ${oneChange.mb.toFixed(0)} MB`);
}
console.log(`\nnode ${process.version}, ${execFileSync("nproc").toString().trim()} cores`);
console.log("| articles | cold build | peak memory | rebuild, one article changed | peak memory |");
console.log("| ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) console.log(`| ${r.n} | ${r.cold.seconds.toFixed(2)} s | ${r.cold.mb.toFixed(0)} MB | ${r.oneChange.seconds.toFixed(2)} s | ${r.oneChange.mb.toFixed(0)} MB |`);

console.log("");
spawnSync(process.execPath, [join(REPO, "bench/email.js")], { stdio: "inherit" });
spawnSync(process.execPath, [join(REPO, "bench/send.js")], { stdio: "inherit" });
spawnSync(process.execPath, [join(REPO, "bench/subscribers.js")], { stdio: "inherit" });
