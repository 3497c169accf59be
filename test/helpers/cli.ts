import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { REPO } from "./project.js";

/** What a CLI run printed and how it ended. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled `presswork` CLI in a project folder, as an editor would. */
export function runCli(args: string[], root: string, env: Record<string, string> = {}, timeout = 120_000): CliResult {
  const result = spawnSync(process.execPath, [join(REPO, "bin/presswork.js"), ...args], {
    cwd: root,
    env: { ...process.env, GITHUB_ACTIONS: "", PRESSWORK_ROOT: "", ...env },
    encoding: "utf8",
    // A command that never exits is killed, and its test fails on the missing exit code.
    timeout,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Settings read once, as a process starts (NODE_EXTRA_CA_CERTS), or that choose the process's shape. */
const START_ONLY = ["NODE_EXTRA_CA_CERTS", "NODE_OPTIONS", "PRESSWORK_SEND_HEAP_MB"];

/** The in-process runs, one after another: each holds the process's working folder, environment and output. */
let turns: Promise<unknown> = Promise.resolve();

/**
 * Runs the CLI in this process, for a test of what a command does rather
 * than of its process (signals, crashes, the send's heap cap and the
 * compiled bundle are tested through runCli and startCli): the same exit
 * code, stdout and stderr, without starting Node and loading every module
 * again for each run. Runs take turns; a server the test runs in process
 * can answer one. The send runs in this thread (PRESSWORK_SEND_HEAP_MB=0).
 */
export function runCliHere(args: string[], root: string, env: Record<string, string> = {}): Promise<CliResult> {
  const startOnly = Object.keys(env).filter((name) => START_ONLY.includes(name));
  if (startOnly.length > 0) throw new Error(`runCliHere: ${startOnly.join(", ")} takes effect when a process starts: run the CLI with runCli or runCliAsync`);
  const turn = turns.then(() => runHere(args, root, env));
  turns = turn.catch(() => undefined);
  return turn;
}

/** How long an in-process run may take before it is given up (its test failed by then), so that the runs after it get their turn, with the process as it was. */
const RUN_HERE_MS = 100_000;

async function runHere(args: string[], root: string, env: Record<string, string>): Promise<CliResult> {
  const { run } = await import("../../src/cli/main.js");
  const saved = { ...process.env };
  const cwd = process.cwd();
  const { stdout: out, stderr: err } = process;
  const writes = { out: out.write, err: err.write };
  const printed = { out: "", err: "" };
  const capture =
    (to: "out" | "err") =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      printed[to] += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      const done = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      if (done) queueMicrotask(done);
      return true;
    };
  let timer: NodeJS.Timeout | undefined;
  try {
    Object.assign(process.env, { GITHUB_ACTIONS: "", PRESSWORK_ROOT: "", PRESSWORK_SEND_HEAP_MB: "0", ...env });
    process.chdir(root);
    process.exitCode = undefined;
    out.write = capture("out") as typeof out.write;
    err.write = capture("err") as typeof err.write;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`presswork ${args.join(" ")} did not end within ${RUN_HERE_MS / 1000} s (printed so far: ${printed.err || printed.out})`)), RUN_HERE_MS);
    });
    await Promise.race([run(args), late]);
    const code = typeof process.exitCode === "number" ? process.exitCode : Number(process.exitCode ?? 0);
    return { code, stdout: printed.out, stderr: printed.err };
  } finally {
    clearTimeout(timer);
    out.write = writes.out;
    err.write = writes.err;
    process.exitCode = undefined;
    process.chdir(cwd);
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

/** Runs the CLI without blocking this process, so a server the test runs in process can answer it. */
export function runCliAsync(args: string[], root: string, env: Record<string, string> = {}): Promise<CliResult> {
  return startCli(args, root, env).done;
}

/** Starts the CLI without waiting for it: its process, for a test to signal, and how it ended. */
export function startCli(args: string[], root: string, env: Record<string, string> = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [join(REPO, "bin/presswork.js"), ...args], {
    cwd: root,
    env: { ...process.env, GITHUB_ACTIONS: "", PRESSWORK_ROOT: "", ...env },
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}
