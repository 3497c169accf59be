import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, inject } from "vitest";
import { databaseMaker, postgresOrSkip, skipOrThrow, type PostgresDatabases, type TestPostgres } from "./postgres.js";

/** A database a test can open: a name for the test title and a way to get a fresh DATABASE_URL. */
export interface Backend {
  name: "SQLite" | "PostgreSQL";
  /** A DATABASE_URL for a new, empty database. */
  fresh: (label: string) => Promise<string>;
  /** The PostgreSQL cluster behind it, to stop and start: only with `ownCluster`. */
  postgres?: TestPostgres;
}

/** How a test file uses PostgreSQL. */
export interface BackendOptions {
  /**
   * A cluster of the file's own, for tests that stop the server: other files
   * share the run's cluster (test/setup/postgres.ts), where stopping it would
   * take their databases away.
   */
  ownCluster?: boolean;
}

/**
 * The run's shared cluster (test/setup/postgres.ts starts it once for every
 * test file), for tests that need databases of their own in it and never
 * stop the server; undefined after printing why it could not start.
 */
export function sharedPostgresOrSkip(what: string): PostgresDatabases | undefined {
  const shared = inject("postgres");
  return "reason" in shared ? skipOrThrow(what, shared.reason) : { port: shared.port, database: databaseMaker(shared.port) };
}

/**
 * The databases a test file runs against: a SQLite file in a temporary
 * folder, and PostgreSQL when a cluster could be started (see
 * postgresOrSkip), each test's database a new one. The SQLite files, and a
 * cluster of the file's own, are removed after the file's tests.
 */
export async function backends(what: string, options: BackendOptions = {}): Promise<Backend[]> {
  // Made with the first SQLite database: a run that selects none of the file's tests (and so runs no afterAll) leaves nothing.
  let dir: string | undefined;
  let files = 0;
  const own = options.ownCluster ? await postgresOrSkip(what) : undefined;
  const postgres = own ?? (options.ownCluster ? undefined : sharedPostgresOrSkip(what));
  afterAll(async () => {
    try {
      await own?.stop();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });
  const folder = () => (dir ??= mkdtempSync(join(tmpdir(), "presswork-db-")));
  const sqlite: Backend = { name: "SQLite", fresh: async (label) => `sqlite:${join(folder(), `${label.replace(/\W+/g, "-")}-${++files}.sqlite`)}` };
  return postgres ? [sqlite, { name: "PostgreSQL", fresh: (label) => postgres.database(label), ...(own ? { postgres: own } : {}) }] : [sqlite];
}
