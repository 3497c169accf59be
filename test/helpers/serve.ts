import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { freePort } from "./postgres.js";
import { REPO } from "./project.js";

/** `presswork serve` running as a child process. */
export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** What it printed so far, stdout and stderr together. */
  output: () => string;
  /** Resolves with the exit code (or the signal's name) when it ends. */
  exited: Promise<number | string>;
}

/** Starts `presswork serve` from the compiled command line in `root` on `port` (default: a free one), and waits until it listens. */
export async function spawnServe(root: string, env: Record<string, string>, port?: number): Promise<ServeProcess> {
  port ??= await freePort();
  const child = spawn(process.execPath, [join(REPO, "bin/presswork.js"), "serve", "--port", String(port)], {
    cwd: root,
    env: { ...process.env, GITHUB_ACTIONS: "", PRESSWORK_ROOT: "", PRESSWORK_PUBLIC_URL: `http://127.0.0.1:${port}/`, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  const deadline = Date.now() + 60_000;
  while (!output.includes("presswork serve: listening on")) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`presswork serve exited before listening:\n${output}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`presswork serve did not listen within a minute:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: `http://127.0.0.1:${port}`, output: () => output, exited };
}
