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

/** Median and range of timed builds. */
function summary(runs) {
  const seconds = runs.map((r) => r.seconds).sort((a, b) => a - b);
  const median = seconds[Math.floor(seconds.length / 2)];
  return { median, min: seconds[0], max: seconds.at(-1), mb: Math.max(...runs.map((r) => r.mb)) };
}
const show = (s) => `${s.median.toFixed(2)} s (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;

// A rebuild takes well under a second, where a shared machine's noise is a tenth or more: each is timed REPEAT times.
const REPEAT = 5;
const rows = [];
for (const n of sizes.length ? sizes : [1000, 5000]) {
  const project = join(WORK, `project-${n}`);
  await generate(project, n);
  await rm(join(project, ".presswork-cache"), { recursive: true, force: true });
  const cold = timedBuild(project);
  // The first rebuild reads again the files written just before the cold build read them (a file modified
  // within 2 s of being read is never trusted): it is timed apart.
  const first = timedBuild(project);
  const file = join(project, "articles/story-1.md");
  const changes = [];
  for (let i = 0; i < REPEAT; i++) {
    // A word added to a heading, then taken away again, and so on.
    const text = await readFile(file, "utf8");
    await writeFile(file, i % 2 === 0 ? text.replace("## What comes next", "## What comes next, updated") : text.replace("## What comes next, updated", "## What comes next"));
    changes.push(timedBuild(project));
  }
  const unchanged = Array.from({ length: REPEAT }, () => timedBuild(project));
  const row = { n, cold, first, oneChange: summary(changes), noChange: summary(unchanged) };
  rows.push(row);
  console.log(`${n} articles: cold ${cold.seconds.toFixed(2)} s, ${cold.mb.toFixed(0)} MB | first rebuild ${first.seconds.toFixed(2)} s | no change ${show(row.noChange)} | one article changed ${show(row.oneChange)}, ${row.oneChange.mb.toFixed(0)} MB`);
}
console.log(`\nnode ${process.version}, ${execFileSync("nproc").toString().trim()} cores; rebuilds: median (range) of ${REPEAT}`);
console.log("| articles | cold build | peak memory | rebuild, one article changed | peak memory | rebuild, nothing changed |");
console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) console.log(`| ${r.n} | ${r.cold.seconds.toFixed(2)} s | ${r.cold.mb.toFixed(0)} MB | ${show(r.oneChange)} | ${r.oneChange.mb.toFixed(0)} MB | ${show(r.noChange)} |`);

console.log("");
spawnSync(process.execPath, [join(REPO, "bench/email.js")], { stdio: "inherit" });
spawnSync(process.execPath, [join(REPO, "bench/send.js")], { stdio: "inherit" });
spawnSync(process.execPath, [join(REPO, "bench/subscribers.js")], { stdio: "inherit" });
