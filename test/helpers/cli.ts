import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { REPO } from "./project.js";

/** What a CLI run printed and how it ended. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled `presswork` CLI in a project folder, as an editor would. */
export function runCli(args: string[], root: string, env: Record<string, string> = {}): CliResult {
  const result = spawnSync(process.execPath, [join(REPO, "bin/presswork.js"), ...args], {
    cwd: root,
    env: { ...process.env, GITHUB_ACTIONS: "", PRESSWORK_ROOT: "", ...env },
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
