import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { postgresOrSkip, type TestPostgres } from "./postgres.js";

/** A database a test can open: a name for the test title and a way to get a fresh DATABASE_URL. */
export interface Backend {
  name: "SQLite" | "PostgreSQL";
  /** A DATABASE_URL for a new, empty database. */
  fresh: (label: string) => Promise<string>;
  /** The PostgreSQL cluster behind it, to stop and start. */
  postgres?: TestPostgres;
}

/**
 * The databases a test file runs against: a SQLite file in a temporary
 * folder, and a throwaway PostgreSQL cluster when one can be started (see
 * postgresOrSkip). Both are removed after the file's tests.
 */
export async function backends(what: string): Promise<Backend[]> {
  const dir = mkdtempSync(join(tmpdir(), "presswork-db-"));
  let files = 0;
  const postgres = await postgresOrSkip(what);
  afterAll(async () => {
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const sqlite: Backend = { name: "SQLite", fresh: async (label) => `sqlite:${join(dir, `${label.replace(/\W+/g, "-")}-${++files}.sqlite`)}` };
  return postgres ? [sqlite, { name: "PostgreSQL", fresh: (label) => postgres.database(label), postgres }] : [sqlite];
}
