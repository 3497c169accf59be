// npm run bench: times `presswork build` on generated projects, each run in a
// fresh process, then the email issue (bench/email.js), a send of 10,000
// messages (bench/send.js) and the memory of a send over a million
// subscribers (bench/subscribers.js).
//
// Usage: node bench/run.js [--short N]... [--real N]... [--builds-only]
//                          [--node PATH] [--bin PATH] [--against PATH] [--repeat N]
//   --short N   a project of N short articles (about 230 words); default 1000 and 5000
//   --real N    a project of N real-size articles (about 800 words, 5-8 KB); default 5000
//   --node      the Node binary to build with (default: this one)
//   --bin       the presswork to time (default: this checkout's bin/presswork.js),
//               e.g. another checkout's, to compare two versions on the same projects
//   --against   another presswork (its bin/presswork.js) to time beside --bin, round
//               by round on a copy of each project: the same machine's minutes for
//               both, where runs one after the other would compare a machine that
//               slowed or sped up between them
// Memory is the peak of the whole process tree at once (the build, its render
// process and threads), sampled every 50 ms.
import { execFileSync, spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { cp, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { generate } from "./generate.js";
import { measure } from "./measure.js";

const REPO = join(import.meta.dirname, "..");
const WORK = join(REPO, "bench/.work");
const { values } = parseArgs({
  options: {
    short: { type: "string", multiple: true },
    real: { type: "string", multiple: true },
    node: { type: "string", default: process.execPath },
    bin: { type: "string", default: join(REPO, "bin/presswork.js") },
    against: { type: "string" },
    repeat: { type: "string", default: "5" },
    "builds-only": { type: "boolean", default: false },
  },
});
const projects = [...(values.short ?? []).map((n) => ["short", n]), ...(values.real ?? []).map((n) => ["real", n])].map(([size, n]) => {
  if (!/^[1-9][0-9]*$/.test(n)) {
    console.error(`bench/run.js: --${size} takes a number of articles of at least 1, not "${n}": leave the option out to skip those projects`);
    process.exit(2);
  }
  return [size, Number(n)];
});
// Builds run in the projects' folders: a path given relative to here is made absolute first.
for (const option of ["bin", "against"]) if (values[option] !== undefined) values[option] = resolve(values[option]);
for (const [option, path] of [["bin", values.bin], ["against", values.against]]) {
  if (path !== undefined && !statSync(path, { throwIfNoEntry: false })?.isFile()) {
    console.error(`bench/run.js: --${option} names ${path}, which is not a file: give the path of a checkout's bin/presswork.js (compiled with npm run compile)`);
    process.exit(2);
  }
}
if (projects.length === 0) projects.push(["short", 1000], ["short", 5000], ["real", 5000]);
const nodeVersion = execFileSync(values.node, ["--version"], { encoding: "utf8" }).trim();

/** Runs `presswork build` (this one, or `bin`) in a fresh Node process. */
const timedBuild = (project, bin = values.bin) => measure({ node: values.node, script: bin, args: ["build", "--now", "2026-11-29T12:00:00Z"], cwd: project });

/** Median (of an even count, the mean of the two middle values) and range of `values`. */
function middle(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const half = Math.floor(sorted.length / 2);
  return { median: sorted.length % 2 === 1 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2, min: sorted[0], max: sorted.at(-1) };
}

/** Median and range of timed builds (wall and CPU seconds). */
function summary(runs) {
  return { ...middle(runs.map((r) => r.seconds)), cpu: runs[0]?.cpu === undefined ? undefined : middle(runs.map((r) => r.cpu)), mb: Math.max(...runs.map((r) => r.mb)) };
}
const cpu = (s) => (s === undefined ? "" : `, CPU ${s.median.toFixed(2)} s`);
const show = (s) => `${s.median.toFixed(2)} s (${s.min.toFixed(2)}–${s.max.toFixed(2)})${cpu(s.cpu)}`;
const once = (r) => `${r.seconds.toFixed(2)} s${r.cpu === undefined ? "" : ` (CPU ${r.cpu.toFixed(2)} s)`}`;

// A rebuild takes well under a second, where a shared machine's noise is a tenth or more: each is timed REPEAT times.
const REPEAT = Number(values.repeat);
const rows = [];
for (const [size, n] of projects) {
  const project = join(WORK, `project-${size}-${n}`);
  await generate(project, n, size);
  await rm(join(project, ".presswork-cache"), { recursive: true, force: true });
  if (values.against) {
    rows.push(await alternated(project, size, n, values.against));
    continue;
  }
  const cold = await timedBuild(project);
  // The first rebuild reads again the files written just before the cold build read them (a file modified
  // within 2 s of being read is never trusted): it is timed apart.
  const first = await timedBuild(project);
  const changes = [];
  for (let i = 0; i < REPEAT; i++) {
    await changeOneArticle(project, i);
    changes.push(await timedBuild(project));
  }
  const unchanged = [];
  for (let i = 0; i < REPEAT; i++) unchanged.push(await timedBuild(project));
  const row = { size, n, cold, first, oneChange: summary(changes), noChange: summary(unchanged) };
  rows.push(row);
  console.log(
    `${n} ${size} articles: cold ${once(cold)}, ${cold.mb.toFixed(0)} MB | first rebuild ${once(first)}` +
      ` | no change ${show(row.noChange)} | one article changed ${show(row.oneChange)}, ${row.oneChange.mb.toFixed(0)} MB`,
  );
}

/** A word added to a heading of one article, then taken away again, and so on. */
async function changeOneArticle(project, i) {
  const file = join(project, "articles/story-1.md");
  const text = await readFile(file, "utf8");
  await writeFile(file, i % 2 === 0 ? text.replace("## What comes next", "## What comes next, updated") : text.replace("## What comes next, updated", "## What comes next"));
}

/**
 * --bin and `against` on two copies of `project`: in every round, one
 * article changed in both, a rebuild of each, then a rebuild of each with
 * nothing changed, which of them goes first taking turns. Prints both, and
 * the median of the rounds' differences (--bin's time minus `against`'s);
 * returns --bin's row.
 */
async function alternated(project, size, n, against) {
  const copy = `${project}-against`;
  await rm(copy, { recursive: true, force: true });
  await cp(project, copy, { recursive: true });
  const [cold, coldAgainst] = [await timedBuild(project), await timedBuild(copy, against)];
  await timedBuild(project);
  await timedBuild(copy, against);
  const rounds = { change: [[], []], none: [[], []] };
  for (let i = 0; i < REPEAT; i++) {
    await changeOneArticle(project, i);
    await changeOneArticle(copy, i);
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const kind of ["change", "none"]) {
      for (const side of order) rounds[kind][side].push(await (side === 0 ? timedBuild(project) : timedBuild(copy, against)));
    }
  }
  const signed = (seconds) => {
    const text = seconds.toFixed(3);
    return Number(text) > 0 ? `+${text}` : Number(text) === 0 ? "0.000" : text;
  };
  const compared = (kind) => {
    const [mine, theirs] = rounds[kind].map(summary);
    const difference = middle(rounds[kind][0].map((run, i) => run.seconds - rounds[kind][1][i].seconds));
    const line = `bin ${show(mine)}, ${mine.mb.toFixed(0)} MB; against ${show(theirs)}, ${theirs.mb.toFixed(0)} MB; bin minus against, per round: ${signed(difference.median)} s (${signed(difference.min)} to ${signed(difference.max)})`;
    return { mine, line };
  };
  const [change, none] = [compared("change"), compared("none")];
  console.log(`${n} ${size} articles, ${REPEAT} alternated rounds of --bin ${values.bin} and --against ${against}:`);
  console.log(`  cold: bin ${once(cold)}, ${cold.mb.toFixed(0)} MB; against ${once(coldAgainst)}, ${coldAgainst.mb.toFixed(0)} MB`);
  console.log(`  one article changed: ${change.line}`);
  console.log(`  nothing changed: ${none.line}`);
  return { size, n, cold, oneChange: change.mine, noChange: none.mine };
}
const load = execFileSync("cat", ["/proc/loadavg"], { encoding: "utf8" }).split(" ").slice(0, 3).join(" ");
console.log(`\n${values.bin}${values.against ? " (the table is --bin's)" : ""} on node ${nodeVersion}, ${execFileSync("nproc").toString().trim()} cores, load average ${load}; rebuilds: median (range) of ${REPEAT}; CPU: user and system time of the build's processes`);
console.log("| articles | cold build | peak memory | rebuild, one article changed | peak memory | rebuild, nothing changed |");
console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) console.log(`| ${r.n} ${r.size} | ${once(r.cold)} | ${r.cold.mb.toFixed(0)} MB | ${show(r.oneChange)} | ${r.oneChange.mb.toFixed(0)} MB | ${show(r.noChange)} |`);

if (!values["builds-only"]) {
  console.log("");
  spawnSync(process.execPath, [join(REPO, "bench/email.js")], { stdio: "inherit" });
  spawnSync(process.execPath, [join(REPO, "bench/send.js")], { stdio: "inherit" });
  spawnSync(process.execPath, [join(REPO, "bench/subscribers.js")], { stdio: "inherit" });
}
