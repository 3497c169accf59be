// Runs a command and measures it: wall time; the CPU time (user and system)
// of its whole process tree, when GNU time is there to tell (/usr/bin/time:
// a busy machine inflates it far less than wall time, so it compares runs
// made while others share the CPU); and the peak of the memory the tree
// holds at once (the command, its worker processes and threads), sampled
// from /proc every 50 ms.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PAGE_KB = 4;
const GNU_TIME = "/usr/bin/time";

/** Resident memory of `pid` and every process below it, in kB (Linux: from /proc, following each thread's children). */
function treeRssKb(pid) {
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const next = stack.pop();
    try {
      total += Number(readFileSync(`/proc/${next}/statm`, "utf8").split(" ")[1]) * PAGE_KB;
      for (const task of readdirSync(`/proc/${next}/task`)) {
        for (const child of readFileSync(`/proc/${next}/task/${task}/children`, "utf8").split(" ")) if (child) stack.push(Number(child));
      }
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/**
 * Runs `node script args` in `cwd` with `node` (default: this Node).
 * Resolves to wall seconds, CPU seconds (undefined without GNU time), the
 * tree's sampled peak (MB), and stdout and stderr.
 */
export function measure({ node = process.execPath, script, args = [], cwd, env = process.env }) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const timed = existsSync(GNU_TIME) ? join(mkdtempSync(join(tmpdir(), "presswork-bench-")), "cpu") : undefined;
    const child = timed ? spawn(GNU_TIME, ["-f", "%U %S", "-o", timed, node, script, ...args], { cwd, env }) : spawn(node, [script, ...args], { cwd, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    let peakKb = 0;
    const sampler = setInterval(() => {
      peakKb = Math.max(peakKb, treeRssKb(child.pid));
    }, 50);
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(sampler);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      let cpu;
      if (timed) {
        const [user, system] = readFileSync(timed, "utf8").trim().split("\n").at(-1).split(" ").map(Number);
        cpu = user + system;
        rmSync(join(timed, ".."), { recursive: true, force: true });
      }
      if (code !== 0) return reject(new Error(`${script} ${args.join(" ")} exited with ${code}:\n${stderr}`));
      resolve({ seconds, cpu, mb: peakKb / 1024, stdout, stderr });
    });
  });
}
