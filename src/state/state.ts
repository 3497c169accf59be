import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { VFile } from "vfile";
import type { Config, NewsletterConfig } from "../config/schema.js";
import { DEFAULT_DATABASE } from "../store/url.js";
import { GitBranchStore, STATE_BRANCH } from "./git-store.js";
import { running } from "./process.js";
import { earlierAttempt, githubAttempt } from "./github-attempt.js";
import { Journal } from "./journal.js";
import { legacyChanges, readLegacy, type LegacyState } from "./legacy.js";
import { type Attempt, type IssueState, type LockRecord, type Migration, type Shard, type StateChange, type StateStore, type StateSummary } from "./store.js";
import { isPressworkError, PressworkError } from "../errors/error.js";
import { fileError, fileWarning } from "../errors/rules.js";

/** Where the state lives: a git branch of the repository, or the database of DATABASE_URL. */
export type StateBackend = "branch" | "database";

/** Where the state lives: the backend; the branch and the remote it is shared through; the database. */
export interface StateSettings {
  backend: StateBackend;
  branch: string;
  remote?: string;
  /** For an https remote: GitHub's token, from the environment only. */
  token?: string;
  /** DATABASE_URL, for the database; unset, data/presswork.sqlite, which must exist. */
  databaseUrl?: string;
  /** The newsletter's list id: the database keeps each newsletter's state apart. */
  list?: string;
}

/** The part of the config the state's settings come from; the newsletter names the list a database keeps the state of. */
export type StateConfig = Pick<Config, "state"> & { newsletter?: Pick<NewsletterConfig, "listId"> | undefined };

/**
 * The state's settings: `state.store`, `state.branch` and `state.remote` in
 * the config, overridden by PRESSWORK_STATE_STORE, PRESSWORK_STATE_BRANCH
 * and PRESSWORK_STATE_REMOTE; the token from PRESSWORK_STATE_TOKEN and the
 * database from DATABASE_URL, from the environment only.
 */
export function stateSettings(config: StateConfig | undefined, env: NodeJS.ProcessEnv): StateSettings {
  const backend = env["PRESSWORK_STATE_STORE"] || config?.state.store || "branch";
  if (backend !== "branch" && backend !== "database") throw new PressworkError("state-setup", `PRESSWORK_STATE_STORE is "${backend}": use branch (the state on a git branch) or database (in the database of DATABASE_URL)`);
  const branch = env["PRESSWORK_STATE_BRANCH"] || config?.state.branch || STATE_BRANCH;
  const remote = env["PRESSWORK_STATE_REMOTE"] || config?.state.remote;
  const token = env["PRESSWORK_STATE_TOKEN"];
  const databaseUrl = env["DATABASE_URL"];
  const list = config?.newsletter?.listId;
  return { backend, branch, ...(remote ? { remote } : {}), ...(token ? { token } : {}), ...(databaseUrl ? { databaseUrl } : {}), ...(list ? { list } : {}) };
}

/**
 * Opens the state's store. On the branch: the store of the repository
 * holding `root`, undefined when it is not in a git repository. In the
 * database: DATABASE_URL's, or data/presswork.sqlite when it exists (a file
 * made anew would be an empty state, and the send would start over at
 * issue #1).
 */
export async function openStore(root: string, settings: StateSettings, env: NodeJS.ProcessEnv): Promise<StateStore | undefined> {
  if (settings.backend === "branch") return openBranch(root, settings, env);
  if (!settings.list) throw new PressworkError("state-setup", "the send's state in a database is kept per newsletter: configure the newsletter (its listId) first");
  if (!settings.databaseUrl && !existsSync(join(root, DEFAULT_DATABASE))) {
    // Under GitHub Actions a secret of the newsletter environment reaches the send job alone; the build reads the sent issues too.
    const actions = env["GITHUB_ACTIONS"] === "true" ? ". Under GitHub Actions, make it a repository secret as well as the environment's: an environment's secret reaches only the jobs that name the environment, and the build job reads the sent issues from the database too" : "";
    throw new PressworkError("state-setup", `the send's state is in the database (state.store: database), but DATABASE_URL is not set and ${DEFAULT_DATABASE} does not exist: set DATABASE_URL to the database that holds it${actions}`);
  }
  // Loaded only here: a build on the branch needs no database driver.
  const { DatabaseStore } = await import("./db-store.js");
  return DatabaseStore.open({ url: settings.databaseUrl, root, list: settings.list });
}

/** The state branch of the repository holding `root`, whatever the backend; undefined outside a git repository. */
export function openBranch(root: string, settings: StateSettings, env: NodeJS.ProcessEnv): Promise<GitBranchStore | undefined> {
  return GitBranchStore.open({ root, branch: settings.branch, ...(settings.remote ? { remote: settings.remote } : {}), ...(settings.token ? { token: settings.token } : {}), env });
}

/** Why a state branch may not be used any more, or undefined: its state was carried into a database. */
export function movedMessage(summary: StateSummary, description: string): string | undefined {
  const moved = summary.moved;
  if (!moved) return undefined;
  return `the send's state moved from ${description} to ${moved.to} on ${moved.at.slice(0, 10)}, and the branch is out of date since: set state.store: database in presswork.config.yaml (or PRESSWORK_STATE_STORE=database) and DATABASE_URL`;
}

/** What carrying a branch's state into the database did. */
export interface CarriedOver {
  issues: number;
  ledgerParts: number;
  suppressionParts: number;
  /** Set when the branch could not be marked as moved (it stays readable, and out of date). */
  unmarked?: string;
}

/**
 * Carries the state of the repository's branch into a database store that
 * has none yet, once: every ledger and suppression part (written first,
 * each alone: saving one again changes nothing), then the issues and the
 * branch's record of what it carried over from earlier versions, in one
 * write that happens only while the database still has no such record.
 * The branch is then marked as moved, so a send or a build that still
 * reads it refuses instead of starting over from an old state. Returns
 * undefined when there was nothing to carry (the branch has never been
 * written by a send) or it was done before.
 */
export async function carryBranchOver(store: StateStore, root: string, settings: StateSettings, env: NodeJS.ProcessEnv, now: Date): Promise<CarriedOver | undefined> {
  if ((await store.summary()).migration) return undefined;
  const branch = await openBranch(root, settings, env);
  if (!branch) return undefined;
  try {
    await branch.refresh();
    const summary = await branch.summary();
    if (!summary.migration) return undefined;
    const carried: CarriedOver = { issues: summary.issues.length, ledgerParts: 0, suppressionParts: 0 };
    for (const issue of await branch.ledgerIssues()) {
      for await (const part of branch.ledger(issue)) {
        await store.write([{ kind: "ledger", part }], "Carry a ledger part over");
        carried.ledgerParts++;
      }
    }
    for await (const part of branch.suppressions()) {
      await store.write([{ kind: "suppressions", part }], "Carry a suppression part over");
      carried.suppressionParts++;
    }
    const records: StateChange[] = [];
    for (const state of summary.issues) {
      records.push({ kind: "started", issue: state.issue, attempt: state.startedBy });
      if (state.complete) records.push({ kind: "complete", issue: state.issue.number, ...state.complete });
      for (const [name, done] of state.shardsDone) {
        const [index, count] = name.split("/").map(Number) as [number, number];
        records.push({ kind: "shard-done", issue: state.issue.number, shard: { index, count }, ...done });
      }
    }
    let already = false;
    await store.write((current) => {
      already = current.migration !== undefined;
      return already ? [] : [...records, { kind: "migrated", migration: summary.migration as Migration }];
    }, "Carry the state branch over");
    if (already) return undefined;
    try {
      await branch.write([{ kind: "moved", moved: { at: now.toISOString(), to: store.description } }], `The send's state moved to ${store.description}`);
    } catch (error) {
      carried.unmarked = (error as Error).message;
    }
    return carried;
  } finally {
    await branch.close();
  }
}

/** Where the state is read from: the config and environment, or a send's state as it opened it. */
export type StateSource = {
  config: StateConfig | undefined;
  env: NodeJS.ProcessEnv;
  /** Go on without the state when its database is not given (`check` in CI): a warning, not an error. */
  optional?: boolean;
} | OpenState;

/** A send's state as it opened it, for its build to read. */
export interface OpenState {
  /** The store of `settings.backend`; undefined for a branch outside a git repository. */
  store: StateStore | undefined;
  settings: StateSettings;
  env: NodeJS.ProcessEnv;
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
 * Read `from` the config and environment, or from a send's state as the
 * send opened it: with its settings and environment, not opened again.
 */
export async function readStateView(root: string, from: StateSource): Promise<StateView> {
  const open = "settings" in from ? from : undefined;
  const env = from.env;
  let settings: StateSettings;
  try {
    settings = "settings" in from ? from.settings : stateSettings(from.config, env);
    if (settings.backend === "database") {
      const store = open ? open.store : await openStore(root, settings, env);
      try {
        const summary = (await store?.summary()) ?? { issues: [], locks: [] };
        if (summary.migration) return { summary, files: [], description: store?.description ?? "" };
      } finally {
        if (!open) await store?.close();
      }
      // Nothing carried into the database yet: the branch (or the files of earlier versions) until a send does.
    }
  } catch (error) {
    if (!(isPressworkError(error, "state-save", "state-setup", "state-damaged"))) throw error;
    const file = new VFile({ path: "state" });
    if (!open && "optional" in from && from.optional && isPressworkError(error, "state-setup")) {
      fileWarning(file, "state-unreadable", `cannot read the record of sent issues, so what they link to and show is not checked: ${error.message}`);
    } else fileError(file, "state-unreadable", `cannot read the record of sent issues: ${error.message}`);
    return { summary: { issues: [], locks: [] }, files: [file], description: "" };
  }
  const store = open && settings.backend === "branch" ? open.store : await openBranch(root, settings, env);
  const summary: StateSummary = store ? await store.summary() : { issues: [], locks: [] };
  const files: VFile[] = [];
  const moved = store && settings.backend === "branch" ? movedMessage(summary, store.description) : undefined;
  if (moved) {
    const file = new VFile({ path: "state" });
    fileError(file, "state-moved", moved);
    files.push(file);
  }
  if (summary.migration) return { summary, files, description: store?.description ?? "" };
  const legacy = await readLegacy(root);
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
      fileError(file, "state-order", `the state has issue #${state.issue.number} but no issue #${out.length + 1}: numbers are never reused, so the state was damaged. Restore it from the history of its branch`);
      break;
    }
    out.push(state);
  }
  return out;
}

/** A lock is taken over once its holder has been silent this long (checkpoints renew it every minute). */
export const LOCK_STALE_MS = 5 * 60_000;

/**
 * Who started this attempt, for its records and its lock. Its name begins
 * with the moment it started, to the millisecond: two sends of one GitHub
 * job, or of one process, within a second are two attempts, each with its
 * own ledger part, named in the order they started.
 */
export function newAttempt(clock: Date, env: NodeJS.ProcessEnv, shard?: Shard): Attempt {
  const stamp = clock.toISOString().replace(/[-:]/g, "");
  const github = githubAttempt(env);
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
  if (other.github && earlierAttempt(other.github, mine.github)) return `a re-run of GitHub run ${other.github.runId} (its attempt ${other.github.runAttempt} has ended)`;
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
      else if (!compatible(lock.shard, other.shard)) throw new PressworkError("locked", `issue #${lock.issue} is being sent by ${holderOf(other)}: wait for it to finish. A lock is taken over once its holder has been silent for ${LOCK_STALE_MS / 60_000} minutes`);
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
  const legacy = await readLegacy(root);
  if (legacy?.file.messages.some((m) => m.fatal)) {
    throw new PressworkError("state-damaged", `${legacy.file.path} cannot be carried over to the state branch: ${legacy.file.messages.map((m) => `line ${m.line ?? 1}: ${m.reason}`).join("; ")}`);
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
  return new Set((await readSuppressions(store)).keys());
}

/** A suppression as an attempt recorded it: the reply's code, the issue it bounced on, the day. */
export interface Suppression {
  code: number;
  issue: number;
  at: string;
}

/** Every suppression of every attempt, by key; the first record of a key wins. */
export async function readSuppressions(store: StateStore): Promise<Map<string, Suppression>> {
  const records = new Map<string, Suppression>();
  for await (const part of store.suppressions()) {
    for (const line of part.text.split("\n")) {
      const [key, code, issue, at] = line.split(" ");
      if (!key || !/^[0-9a-f]{24}$/.test(key) || records.has(key)) continue;
      records.set(key, { code: Number(code) || 0, issue: Number(issue) || 0, at: at ?? "" });
    }
  }
  return records;
}
