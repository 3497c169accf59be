import { execFileSync } from "node:child_process";

const IDENTITY = { GIT_AUTHOR_NAME: "Editor", GIT_AUTHOR_EMAIL: "editor@example.org", GIT_COMMITTER_NAME: "Editor", GIT_COMMITTER_EMAIL: "editor@example.org" };
/**
 * A test's repositories are new and small: without this, a commit (or a
 * fetch or merge) starts a git process to decide that they need no
 * maintenance. Added after any settings the environment already passes.
 */
const given = Number(process.env["GIT_CONFIG_COUNT"] ?? 0) || 0;
const NO_MAINTENANCE = { GIT_CONFIG_COUNT: String(given + 1), [`GIT_CONFIG_KEY_${given}`]: "maintenance.auto", [`GIT_CONFIG_VALUE_${given}`]: "false" };

/** Runs git in `cwd` as an editor would; returns its output, trimmed. */
export function git(cwd: string, ...args: string[]): string {
  return gitWith(cwd, {}, ...args);
}

/** Runs git as `git` does, with more environment (a temporary index, say). */
export function gitWith(cwd: string, env: Record<string, string>, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...IDENTITY, ...NO_MAINTENANCE, ...env } }).trim();
}

/** Makes `root` a git repository with everything in it committed on main. */
export function initRepo(root: string): void {
  git(root, "init", "--quiet", "--initial-branch=main");
  git(root, "add", ".");
  git(root, "commit", "--quiet", "--allow-empty", "-m", "Project");
}

/** A file on the state branch, or undefined. */
export function stateFile(root: string, path: string, branch = "presswork-state"): string | undefined {
  try {
    return git(root, "show", `${branch}:${path}`);
  } catch {
    return undefined;
  }
}

/** Paths on the state branch under `dir`. */
export function stateFiles(root: string, dir = "", branch = "presswork-state"): string[] {
  try {
    return git(root, "ls-tree", "-r", "--name-only", branch, ...(dir ? ["--", dir] : [])).split("\n").filter(Boolean);
  } catch {
    return [];
  }
}
