import { loadConfig } from "../../src/config/load.js";
import { Ledger } from "../../src/state/ledger.js";
import { openStore, readSuppressed, stateSettings } from "../../src/state/state.js";
import type { StateSummary } from "../../src/state/store.js";
import { backends, type BackendOptions } from "./databases.js";
import type { TestPostgres } from "./postgres.js";

/** The state of a project as a send would read it: its branch, or the database its environment names. */
export async function readState(root: string, env: Record<string, string> = {}): Promise<{ summary: StateSummary; ledger: (issue: number) => Promise<Ledger>; suppressed: () => Promise<Set<string>> }> {
  const { config } = await loadConfig(root);
  const store = await openStore(root, stateSettings(config, env), { ...process.env, ...env });
  if (!store) throw new Error(`${root} is not a git repository`);
  return { summary: await store.summary(), ledger: (issue) => Ledger.read(issue, store.ledger(issue)), suppressed: () => readSuppressed(store) };
}

/** Where a test's send keeps its state: the git branch, or a database. */
export interface StateBackendCase {
  name: "the git branch" | "SQLite" | "PostgreSQL";
  /** The environment that puts a send's state there: a fresh, empty database each call. */
  env: (label: string) => Promise<Record<string, string>>;
  /** The cluster, for the PostgreSQL case with `ownCluster` (to stop it mid-send). */
  postgres?: TestPostgres;
}

/**
 * The state's backends a test file runs against: the git branch, a SQLite
 * file and PostgreSQL when a cluster can be started (see backends(), which
 * says why when it cannot, never skips under PRESSWORK_CI=1, and gives a
 * cluster of the file's own with `ownCluster`).
 */
export async function stateBackends(what: string, options: BackendOptions = {}): Promise<StateBackendCase[]> {
  const databases = await backends(what, options);
  return [
    { name: "the git branch", env: async () => ({}) },
    ...databases.map((db) => ({ name: db.name, env: async (label: string) => ({ PRESSWORK_STATE_STORE: "database", DATABASE_URL: await db.fresh(label) }), ...(db.postgres ? { postgres: db.postgres } : {}) })),
  ];
}
