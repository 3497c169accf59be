// Memory of a send over a large list (default 1,000,000 subscribers), each run
// a fresh `presswork send` process:
//   dry run     streams, validates, de-duplicates and hashes every row;
//   resumed     the same with a ledger on the state branch that already has
//               every recipient sent, the largest state a send of this list
//               ever holds (the ledger's recipients and the list's
//               de-duplication, both full).
// Usage: node bench/subscribers.js [N]
import { execFileSync, fork, spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { createWriteStream } from "node:fs";
import { cp, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { once } from "node:events";

const REPO = join(import.meta.dirname, "..");
const WORK = join(REPO, "bench/.work/subscribers");
const COUNT = Number(process.argv[2] ?? 1_000_000);
const SECRET = "bench";
const ISSUE = 3;

await rm(WORK, { recursive: true, force: true });
await mkdir(WORK, { recursive: true });
for (const part of ["articles", "templates", "newsletter", "presswork.config.yaml"]) await cp(join(REPO, part), join(WORK, part), { recursive: true });
await rm(join(WORK, "newsletter/ledger"), { recursive: true, force: true });

/** Writes lines to a file, waiting when the stream is full. */
async function writeLines(path, count, line) {
  const out = createWriteStream(path);
  for (let i = 0; i < count; i++) if (!out.write(line(i))) await once(out, "drain");
  out.end();
  await once(out, "finish");
}

/** spawnSync would block the sink's event loop; this waits without blocking. */
function spawnAsync(command, args, options) {
  const child = spawn(command, args, options);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
}

const address = (i) => `subscriber.${i}@list${i % 97}.example.org`;
await writeLines(join(WORK, "subs.csv"), COUNT + 1, (i) => (i === 0 ? "email,name,status\n" : `${address(i - 1)},Subscriber ${i - 1},active\n`));

// A sink on loopback, so the resumed send can verify its server (it sends nothing).
const sink = fork(join(REPO, "bench/fast-sink.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
const { port } = await new Promise((resolve) => sink.once("message", resolve));

async function run(label, extra) {
  const started = performance.now();
  const result = await spawnAsync(process.execPath, ["--import", join(REPO, "bench/peak-memory.js"), join(REPO, "bin/presswork.js"), "send", "--subscribers", "subs.csv", "--now", "2026-11-29T12:00:00Z", ...extra], {
    cwd: WORK,
    env: { PATH: process.env.PATH, PRESSWORK_SECRET: SECRET, SMTP_URL: `smtp://127.0.0.1:${port}` },
  });
  const seconds = (performance.now() - started) / 1000;
  const kb = Number(/PEAK_RSS_KB=(\d+)/.exec(result.stderr)?.[1] ?? 0);
  if (!kb) throw new Error(`${label} failed:\n${result.stdout}\n${result.stderr}`);
  console.log(`${label}: ${COUNT.toLocaleString("en")} subscribers in ${seconds.toFixed(1)} s, peak RSS ${(kb / 1024).toFixed(0)} MB (exit ${result.status})`);
}

await run("dry run", ["--dry-run"]);

// The ledger of an issue already sent to everyone, on the state branch of a repository made for it.
const keyOf = (a) => createHmac("sha256", SECRET).update(a).digest("hex").slice(0, 24);
const identity = { GIT_AUTHOR_NAME: "bench", GIT_AUTHOR_EMAIL: "bench@example.org", GIT_COMMITTER_NAME: "bench", GIT_COMMITTER_EMAIL: "bench@example.org" };
const git = (...args) => execFileSync("git", args, { cwd: WORK, env: { ...process.env, ...identity } });
git("init", "--quiet", "--initial-branch=main");
git("add", "articles", "templates", "newsletter", "presswork.config.yaml");
git("commit", "--quiet", "-m", "bench");
const { GitBranchStore } = await import("../lib/state/git-store.js");
const { encodeEvent, encodeHeader, PART_BYTES } = await import("../lib/state/ledger.js");
const store = await GitBranchStore.open({ root: WORK, branch: "presswork-state" });
const attempt = "20261129T120000Z.bench";
const started = { number: ISSUE, date: "2026-11-29T12:00:00.000Z", subject: "Signal & Noise #3", articles: ["tag:signal-noise.example,2026-11-24:open-silicon-fab"] };
const changes = [{ kind: "started", issue: started, attempt }];
let lines = [];
let bytes = 0;
let offset = 0;
const flush = () => {
  changes.push({ kind: "ledger", part: { issue: ISSUE, attempt, offset, text: `${encodeHeader({ issue: ISSUE, attempt, started: started.date, offset })}\n${lines.join("\n")}\n` } });
  offset += bytes;
  lines = [];
  bytes = 0;
};
for (let i = 0; i < COUNT; i++) {
  const line = encodeEvent({ key: keyOf(address(i)), state: "sent", attempt: 1, seconds: 0, code: 250 });
  if (bytes + line.length + 1 > PART_BYTES - 4096) flush();
  lines.push(line);
  bytes += line.length + 1;
}
flush();
await store.write(changes, "bench: an issue sent to everyone");
await run("resumed, everyone already sent", []);
sink.kill();
