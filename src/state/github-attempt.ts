import type { Attempt } from "./store.js";

/** This process's GitHub Actions run, attempt and job, or undefined outside GitHub Actions. */
export function githubAttempt(env: NodeJS.ProcessEnv): Attempt["github"] {
  if (env["GITHUB_ACTIONS"] !== "true" || !env["GITHUB_RUN_ID"]) return undefined;
  return { runId: env["GITHUB_RUN_ID"], runAttempt: Number(env["GITHUB_RUN_ATTEMPT"] || 1), job: env["GITHUB_JOB"] || "job" };
}

/**
 * Whether `other` is an earlier attempt of the same GitHub run's job than
 * `mine`: it is over, since GitHub re-runs a job only once it has ended.
 */
export function earlierAttempt(other: Attempt["github"], mine: Attempt["github"]): boolean {
  return other !== undefined && mine !== undefined && other.runId === mine.runId && other.job === mine.job && other.runAttempt < mine.runAttempt;
}

/**
 * Whether `other` is an attempt of the same job in another GitHub run than
 * `mine`: its journal reached this runner in that run's artifact, uploaded
 * once its send had ended (a runner runs one job at a time, and a shard's
 * send restores only its own shard's artifacts, of which one send runs at a
 * time).
 */
export function otherRun(other: Attempt["github"], mine: Attempt["github"]): boolean {
  return other !== undefined && mine !== undefined && other.runId !== mine.runId && other.job === mine.job;
}
