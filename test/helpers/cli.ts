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
