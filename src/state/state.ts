import { hostname } from "node:os";
import { VFile } from "vfile";
import type { Config } from "../config/schema.js";
import { GitBranchStore } from "./git-store.js";
import { running } from "./process.js";
import { Journal } from "./journal.js";
import { legacyChanges, readLegacy, type LegacyState } from "./legacy.js";
import { StateSaveError, type Attempt, type IssueState, type LockRecord, type Migration, type Shard, type StateChange, type StateStore, type StateSummary } from "./store.js";

/** The default name of the state's branch. */
export const STATE_BRANCH = "presswork-state";

/** Where the state lives: the branch, and the remote it is shared through. */
export interface StateSettings {
  branch: string;
  remote?: string;
  /** For an https remote: GitHub's token, from the environment only. */
  token?: string;
}

/**
 * The state's settings: `state.branch` and `state.remote` in the config,
 * overridden by PRESSWORK_STATE_BRANCH and PRESSWORK_STATE_REMOTE; the
 * token from PRESSWORK_STATE_TOKEN only.
 */
export function stateSettings(config: Pick<Config, "state"> | undefined, env: NodeJS.ProcessEnv): StateSettings {
  const branch = env["PRESSWORK_STATE_BRANCH"] || config?.state.branch || STATE_BRANCH;
  const remote = env["PRESSWORK_STATE_REMOTE"] || config?.state.remote;
  const token = env["PRESSWORK_STATE_TOKEN"];
  return { branch, ...(remote ? { remote } : {}), ...(token ? { token } : {}) };
}

/** Opens the store of the repository holding `root`; undefined when it is not in a git repository. */
export function openStore(root: string, settings: StateSettings, env: NodeJS.ProcessEnv): Promise<GitBranchStore | undefined> {
  return GitBranchStore.open({ root, ...settings, env });
}

/** The state as a build sees it: the store's, and the files of earlier versions until they are carried over. */
export interface StateView {
  summary: StateSummary;
  /** Files of earlier versions not carried over yet; their issues are in `summary`. */
  legacy?: LegacyState;
  /** Problems found reading it (a malformed newsletter/sent.json), with their lines. */
  files: VFile[];
  description: string;
}

/**
 * Reads the state without touching the network: the local branch and the
 * last fetched copy of the shared one (`presswork state fetch` brings it),
 * their union when they differ. Until a send has carried them over, the
 * files of earlier versions count too. Outside a git repository, only those.
 */
export async function readStateView(root: string, config: Pick<Config, "state"> | undefined, env: NodeJS.ProcessEnv): Promise<StateView> {
  const store = await openStore(root, stateSettings(config, env), env);
  const summary: StateSummary = store ? await store.summary() : { issues: [], locks: [] };
  const files: VFile[] = [];
  if (summary.migration) return { summary, files, description: store?.description ?? "" };
  const legacy = readLegacy(root);
  if (!legacy) return { summary, files, description: store?.description ?? "no state yet" };
  files.push(legacy.file);
  const known = new Set(summary.issues.map((i) => i.issue.number));
  const issues = [...summary.issues, ...legacy.issues.filter((i) => !known.has(i.issue.number))].sort((a, b) => a.issue.number - b.issue.number);
  return { summary: { ...summary, issues }, legacy, files, description: store?.description ?? "the files in newsletter/" };
}

/** The issues of a summary that a send started, numbered 1, 2, 3…; a gap is reported on `file`. */
export function startedIssues(summary: StateSummary, file: VFile): IssueState[] {
  const out: IssueState[] = [];
  for (const state of summary.issues) {
    if (state.issue.number !== out.length + 1) {
      file.message(`the state has issue #${state.issue.number} but no issue #${out.length + 1}: numbers are never reused, so the state was damaged. Restore it from the history of its branch`, { ruleId: "state-order", source: "state" }).fatal = true;
      break;
    }
    out.push(state);
  }
  return out;
}

/** Another send holds the lock this one needs. */
export class LockedError extends Error {}

/** A lock is taken over once its holder has been silent this long (checkpoints renew it every minute). */
export const LOCK_STALE_MS = 5 * 60_000;

/** Who started this attempt, for its records and its lock. */
export function newAttempt(clock: Date, env: NodeJS.ProcessEnv, shard?: Shard): Attempt {
  const stamp = clock.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const github = env["GITHUB_ACTIONS"] === "true" && env["GITHUB_RUN_ID"] ? { runId: env["GITHUB_RUN_ID"], runAttempt: Number(env["GITHUB_RUN_ATTEMPT"] || 1), job: env["GITHUB_JOB"] || "job" } : undefined;
  const host = hostname();
  const who = github ? `gh-${github.runId}-${github.runAttempt}-${github.job}` : `local-${host.slice(0, 24)}-${process.pid}`;
  const name = `${stamp}.${who}${shard ? `-s${shard.index}of${shard.count}` : ""}`.replace(/[^A-Za-z0-9.-]/g, "-");
  return { name, started: clock.toISOString(), host, pid: process.pid, ...(github ? { github } : {}) };
}

/** Whether two sends of one issue may run at once: only different shards of the same split. */
function compatible(a: Shard | undefined, b: Shard | undefined): boolean {
  return a !== undefined && b !== undefined && a.count === b.count && a.index !== b.index;
}

/** Why a lock no longer counts, or undefined while its holder may be sending. */
function staleness(lock: LockRecord, mine: Attempt, now: Date): string | undefined {
  const silent = now.getTime() - Date.parse(lock.heartbeat);
  if (silent > LOCK_STALE_MS) return `silent for ${Math.round(silent / 60_000)} minutes`;
  const other = lock.attempt;
  if (other.host === mine.host && !other.github && !mine.github && other.pid !== mine.pid && !running(other.pid)) return `process ${other.pid} is gone`;
  if (other.github && mine.github && other.github.runId === mine.github.runId && other.github.job === mine.github.job && other.github.runAttempt < mine.github.runAttempt) {
    return `a re-run of GitHub run ${other.github.runId} (its attempt ${other.github.runAttempt} has ended)`;
  }
  return undefined;
}


/** How a lock's holder is named in messages. */
export function holderOf(lock: LockRecord): string {
  const who = lock.attempt.github ? `GitHub run ${lock.attempt.github.runId} (attempt ${lock.attempt.github.runAttempt}, job ${lock.attempt.github.job})` : `process ${lock.attempt.pid} on ${lock.attempt.host}`;
  return `${lock.shard ? `shard ${lock.shard.index}/${lock.shard.count}` : "an unsharded send"} by ${who}, since ${lock.since}, last heard of ${lock.heartbeat}`;
}

/**
 * Takes the lock of one issue for this attempt: one lock per issue covers
 * every shard and the unsharded send together, so only different shards of
 * the same split run at once. Stale locks (a holder silent for 5 minutes,
 * a process gone from this machine, an earlier attempt of the same GitHub
 * run) are taken over and removed. Written to the store before anything is
 * mailed: a store that cannot be written stops the send here.
 */
export async function takeLock(store: StateStore, lock: LockRecord, now: () => Date): Promise<void> {
  await store.write((summary) => {
    const stale: StateChange[] = [];
    for (const other of summary.locks.filter((l) => l.issue === lock.issue && l.attempt.name !== lock.attempt.name)) {
      if (staleness(other, lock.attempt, now())) stale.push({ kind: "unlock", issue: other.issue, attempt: other.attempt.name });
      else if (!compatible(lock.shard, other.shard)) throw new LockedError(`issue #${lock.issue} is being sent by ${holderOf(other)}: wait for it to finish. A lock is taken over once its holder has been silent for ${LOCK_STALE_MS / 60_000} minutes`);
    }
    return [{ kind: "lock", lock }, ...stale];
  }, `Lock issue #${lock.issue} for ${lock.attempt.name}`);
}

/**
 * Saves every journal on this machine that has records the store lacks,
 * releases the locks of those whose process is gone, and removes the
 * journals of finished attempts once the store has all of them.
 */
export async function saveJournals(store: StateStore, root: string, journals: Journal[] = Journal.all(root)): Promise<{ saved: number; released: number }> {
  let saved = 0;
  let released = 0;
  if (journals.length === 0) return { saved, released };
  const held = new Set((await store.summary()).locks.map((l) => `${l.issue} ${l.attempt.name}`));
  for (const journal of journals) {
    if (!journal.over) continue;
    const { changes, saved: marks } = journal.pending();
    const locked = held.has(`${journal.info.issue} ${journal.info.attempt.name}`);
    if (changes.length > 0 || locked) {
      const unlock: StateChange[] = locked ? [{ kind: "unlock", issue: journal.info.issue, attempt: journal.info.attempt.name }] : [];
      await store.write([...changes, ...unlock], `Save the state of ${journal.info.attempt.name}`);
      journal.markSaved(marks);
      if (changes.length) saved++;
      if (locked) released++;
    }
    journal.remove();
  }
  return { saved, released };
}

/**
 * Carries the files of earlier versions (newsletter/ledger/, sent.json,
 * suppressed.jsonl) over to the store, once: afterwards they are no longer
 * read. Returns what was carried, or undefined when it was done before.
 */
export async function migrate(store: StateStore, root: string, now: Date): Promise<Migration | undefined> {
  if ((await store.summary()).migration) return undefined;
  const legacy = readLegacy(root);
  if (legacy?.file.messages.some((m) => m.fatal)) {
    throw new StateSaveError(`${legacy.file.path} cannot be carried over to the state branch: ${legacy.file.messages.map((m) => `line ${m.line ?? 1}: ${m.reason}`).join("; ")}`);
  }
  const changes = legacy ? legacyChanges(root, legacy, now) : [{ kind: "migrated" as const, migration: { at: now.toISOString(), issues: 0, ledgers: 0, suppressions: 0 } }];
  let done = false;
  await store.write((summary) => {
    done = summary.migration !== undefined;
    return done ? [] : changes;
  }, "Carry newsletter/ledger, sent.json and suppressed.jsonl over to the state branch");
  return done ? undefined : (changes.find((c) => c.kind === "migrated") as { migration: Migration }).migration;
}

/** The keys on the suppression list: every attempt's, and those carried over. */
export async function readSuppressed(store: StateStore): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const part of store.suppressions()) {
    for (const line of part.text.split("\n")) {
      const key = line.slice(0, line.indexOf(" "));
      if (/^[0-9a-f]{24}$/.test(key)) keys.add(key);
    }
  }
  return keys;
}
