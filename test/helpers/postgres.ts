import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "../../scripts/free-port.js";
import { startCluster, type Cluster } from "../../scripts/postgres-cluster.js";

/** A PostgreSQL cluster on loopback that hands out databases. */
export interface PostgresDatabases {
  /** A URL to a new, empty database of its own. */
  database: (name: string) => Promise<string>;
  /** The cluster's port. */
  port: number;
}

/** A throwaway PostgreSQL cluster on loopback of one test file's own, which it may stop and start. */
export interface TestPostgres extends PostgresDatabases {
  /** Shuts the server down, keeping its data: the database is down until `start`. */
  pause: () => Promise<void>;
  start: () => Promise<void>;
  stop: () => Promise<void>;
}

/** Why PostgreSQL could not be started here; tests that need it skip, saying so, except under PRESSWORK_CI=1. */
export type Unavailable = { reason: string };

/** A free loopback port (one function for the tests, the benches and the scripts), for the servers tests start. */
export { freePort };

/**
 * Creates databases on the cluster at `port`, each named for its label and
 * unique across the test files sharing the cluster at once.
 */
export function databaseMaker(port: number): (name: string) => Promise<string> {
  const run = randomBytes(4).toString("hex");
  let databases = 0;
  return async (name) => {
    const db = `${name.replace(/[^a-z0-9_]/gi, "_").toLowerCase().slice(0, 40)}_${run}_${++databases}`;
    const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" });
    await client.connect();
    await client.query(`create database ${db}`);
    await client.end();
    return `postgres://postgres@127.0.0.1:${port}/${db}`;
  };
}

/**
 * Starts a PostgreSQL cluster in a temporary directory on a free loopback
 * port (see scripts/postgres-cluster.js). Durability settings are off: the
 * tests kill the service, never this server, except through `pause`, after
 * which the server recovers from its WAL.
 */
export async function startPostgres(): Promise<TestPostgres | Unavailable> {
  const dir = mkdtempSync(join(tmpdir(), "presswork-pg-"));
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster(dir, { fast: true, maxConnections: 200 });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return { reason: (error as Error).message };
  }
  if (!cluster) {
    rmSync(dir, { recursive: true, force: true });
    return { reason: "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; .ci/run installs Debian's postgresql)" };
  }
  const { port, stop, start } = cluster;
  return {
    port,
    database: databaseMaker(port),
    pause: stop,
    start,
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Under PRESSWORK_CI=1 (what .ci/run sets) a missing PostgreSQL throws, so CI never skips silently; elsewhere the test says why it skips. */
export function skipOrThrow(what: string, reason: string): undefined {
  if (process.env["PRESSWORK_CI"] === "1") throw new Error(`PostgreSQL is required under PRESSWORK_CI=1 but could not start: ${reason}`);
  process.stderr.write(`SKIPPED ${what} on PostgreSQL: ${reason}\n`);
  return undefined;
}

/**
 * A PostgreSQL cluster of this test file's own, to stop and start, or
 * undefined after printing why it could not start (see skipOrThrow).
 */
export async function postgresOrSkip(what: string): Promise<TestPostgres | undefined> {
  const started = await startPostgres();
  return "reason" in started ? skipOrThrow(what, started.reason) : started;
}
