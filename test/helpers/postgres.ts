import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "../../scripts/free-port.js";

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

function binDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], "bin") : undefined;
}

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
 * port, its socket in that directory. initdb and postgres refuse to run as
 * root, so as root they run as the `postgres` user (runuser). Durability
 * settings are off: the tests kill the service, never this server, except
 * through `kill`, after which the server recovers from its WAL.
 */
export async function startPostgres(): Promise<TestPostgres | Unavailable> {
  const bin = binDir();
  if (!bin) return { reason: "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; .ci/run installs Debian's postgresql)" };
  const root = userInfo().uid === 0;
  if (root && spawnSync("id", ["-u", "postgres"]).status !== 0) return { reason: "running as root and there is no postgres user to run the server as" };
  const dir = mkdtempSync(join(tmpdir(), "presswork-pg-"));
  const as = (command: string, args: string[]) => (root ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args]) as [string, string[]];
  if (root) {
    const uid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim());
    const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, "data");
  const init = spawnSync(...as(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"]), { encoding: "utf8" });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { reason: `initdb failed: ${(init.stderr || init.stdout || String(init.error)).trim().split("\n").slice(-2).join(" ")}` };
  }
  const port = await freePort();
  let server: ChildProcess | undefined;
  let log = "";
  const start = async () => {
    log = "";
    server = spawn(...as(join(bin, "postgres"), ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"]), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stderr?.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" });
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await client.end().catch(() => {});
        if (server.exitCode !== null || Date.now() > deadline) throw new Error(`PostgreSQL did not start: ${log.trim().split("\n").slice(-3).join(" ")}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  /** Shuts the server down (SIGINT: fast shutdown), signalling postgres itself by the pid it wrote, not runuser. */
  const halt = async () => {
    const child = server;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    let pid = 0;
    try {
      pid = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
    } catch {
      // Not written yet: the server never got as far as starting.
    }
    if (pid > 0) process.kill(pid, "SIGINT");
    else child.kill("SIGINT");
    await exited;
  };
  try {
    await start();
  } catch (error) {
    await halt().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    return { reason: (error as Error).message };
  }
  return {
    port,
    database: databaseMaker(port),
    pause: halt,
    start,
    stop: async () => {
      await halt();
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
