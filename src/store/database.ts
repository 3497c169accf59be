import { createHash } from "node:crypto";
import { accessSync, constants, mkdirSync, statSync, watch as watchFile } from "node:fs";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase } from "kysely";
import { startCheckpointer } from "./checkpointer.js";
import { migrate, type Dialect } from "./migrations.js";
import { runDirectly, type DirectRunner } from "./prepared.js";
import type { Database } from "./schema.js";
import { parseDatabaseUrl } from "./url.js";
import { PressworkError } from "../errors/error.js";

export { databaseInUse, DEFAULT_DATABASE, parseDatabaseUrl } from "./url.js";

/** An open database, its schema up to date. */
export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where it is, for messages: a SQLite file, or PostgreSQL's host and database (never a password). */
  description: string;
  /**
   * Runs `fn` in one transaction. On SQLite it takes the write lock at once
   * (BEGIN IMMEDIATE), so a transaction that reads and then writes never
   * fails half way because another process wrote meanwhile; the service
   * waits for that lock with its event loop free (see StoreOptions.service),
   * so its writes go through here.
   */
  transaction<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * Why the database is gone, or undefined while it is there. SQLite: its
   * file was removed or replaced since it was opened (writes would go on
   * into the removed file and be lost); PostgreSQL: always undefined, a
   * query says so.
   */
  gone(): string | undefined;
  /**
   * Calls `onLost` once when the database goes away while the caller
   * watches: PostgreSQL closes a connection kept open for the purpose (a
   * shutdown, a restart, a dropped network); SQLite's file is removed or
   * replaced. Resolves to a function that stops watching.
   */
  watch(onLost: (reason: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Where to find the database and what to report on the way. */
export interface StoreOptions {
  /** DATABASE_URL: `postgres://…`, `sqlite:path`, a file path; unset: data/presswork.sqlite under `root`. */
  url?: string | undefined;
  root: string;
  /** Connections PostgreSQL may have open at once (default 10). */
  poolSize?: number;
  /** A connection error PostgreSQL reported while idle: logged, never a crash. */
  onIdleError?: (error: Error) => void;
  /** PostgreSQL: a query that takes longer fails (a connection that hangs on a dead network), instead of waiting for ever. */
  queryTimeoutMs?: number;
  /**
   * SQLite, for a long-running process that writes all the time (the
   * service): checkpoint the WAL from a thread of its own (see
   * startCheckpointer), and wait for another process's write lock with the
   * event loop free (see LOCK_WAIT_MS) instead of blocking it.
   */
  service?: {
    onBackgroundError: (message: string) => void;
    /** WAL pages past which the writer lets the checkpoint thread catch up so the WAL starts over (default 20,000: 80 MB). */
    walRestartFrames?: number;
  };
}

/** Opens the database DATABASE_URL names and applies the migrations it lacks. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const target = parseDatabaseUrl(options.url, options.root);
  let store: Store;
  if (target.dialect === "sqlite") {
    store = await openSqlite(target.path, options.service);
  } else {
    store = await openPostgres(target.url, options);
  }
  try {
    // Whether the server answers at all, before any migration: a failure here is no migration's fault.
    await store.db.executeQuery(CompiledQuery.raw("select 1")).catch((error: unknown) => {
      // PostgreSQL's classes 28 (the login) and 3D (no such database): a setting to fix, not an outage to wait out.
      const code = (error as { code?: unknown }).code;
      if (typeof code === "string" && (code.startsWith("28") || code === "3D000")) {
        throw new PressworkError("database-refused", `the database server refused DATABASE_URL: ${(error as Error).message}. Check its user name, password and database name`, { cause: error });
      }
      throw new PressworkError("database-unavailable", `cannot connect to the database: ${(error as Error).message}`, { cause: error });
    });
    await migrate(store.db, store.dialect);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

async function openSqlite(path: string, service: StoreOptions["service"]): Promise<Store> {
  const { default: SQLite } = await import("better-sqlite3");
  mkdirSync(dirname(path), { recursive: true });
  refuseUnwritable(path);
  // better-sqlite3 waits for a lock by blocking the thread: the service blocks briefly and waits the rest out in transaction().
  const database = new SQLite(path, { timeout: service ? BLOCKING_WAIT_MS : LOCK_WAIT_MS });
  // WAL: readers never wait for the writer; NORMAL sync: a commit survives the process being killed (not a power cut before the next checkpoint).
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = NORMAL");
  database.pragma("foreign_keys = ON");
  // A WAL that a long write (an import beside the service's sign-ups) grew is cut back when it next starts over,
  // rather than keeping its largest size on disk for good.
  database.pragma(`journal_size_limit = ${WAL_KEPT_BYTES}`);
  // Each commit that split B-tree pages walks the whole page cache (SQLite's pcache1Truncate after balance_nonroot
  // renumbered pages): under the service's stream of small commits that walk cost more than the reads a larger cache saves.
  if (service) database.pragma(`cache_size = -${SERVICE_CACHE_KIB}`);
  // The writer checkpoints only when the thread has fallen far behind, so the WAL is bounded whatever happens to the thread.
  const checkpointer = service
    ? startCheckpointer(path, {
        intervalMs: CHECKPOINT_EVERY_MS,
        restartFrames: service.walRestartFrames ?? RESTART_FRAMES,
        onError: service.onBackgroundError,
        // Without the thread, the writer checkpoints as SQLite does by default.
        onEnd: () => database.open && database.pragma("wal_autocheckpoint = 1000"),
      })
    : undefined;
  if (checkpointer) database.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  const statements = withStatementCache(database);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }) });
  // What Kysely's SQLite connection does for one query, without its chain of promises around it.
  const runNow: DirectRunner = ({ sql, parameters }) => {
    const statement = statements.prepare(sql);
    if (statement.reader) return { rows: statement.all(parameters) };
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  };
  const opened = statSync(path);
  const gone = () => {
    try {
      const now = statSync(path);
      return now.ino === opened.ino && now.dev === opened.dev ? undefined : `the database file ${path} was replaced since it was opened`;
    } catch {
      return `the database file ${path} was removed since it was opened`;
    }
  };
  return {
    db,
    dialect: "sqlite",
    description: `SQLite ${path}`,
    gone,
    watch: async (onLost) => {
      let done = false;
      const watcher = watchFile(path, () => {
        const why = gone();
        if (why && !done) {
          done = true;
          onLost(why);
        }
      });
      watcher.on("error", () => {});
      return async () => {
        done = true;
        watcher.close();
      };
    },
    transaction: async (fn) => {
      // A long WAL is copied back before the transaction, which then starts it over (see startCheckpointer).
      if (checkpointer?.restartDue) await checkpointer.catchUp();
      const deadline = Date.now() + LOCK_WAIT_MS;
      for (let pause = 5; ; pause = Math.min(2 * pause, 100)) {
        let began = false;
        try {
          return await db.connection().execute(async (connection) => {
            runDirectly(connection, runNow);
            runNow(BEGIN_IMMEDIATE);
            began = true;
            try {
              const result = await fn(connection);
              runNow(COMMIT);
              return result;
            } catch (error) {
              if (database.inTransaction) runNow(ROLLBACK);
              throw error;
            }
          });
        } catch (error) {
          // Another process holds the write lock: try again later, the connection (and the event loop) free meanwhile.
          if (!service || began || (error as { code?: string }).code !== "SQLITE_BUSY" || Date.now() + pause > deadline) throw error;
          await sleep(pause);
        }
      }
    },
    close: async () => {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

/**
 * SQLite opens a file it may not write read-only, without a word: the
 * service would start, and answer every sign-up 503. The file, its WAL and
 * shared-memory files, and their folder (where SQLite makes those) must be
 * writable by this user.
 */
function refuseUnwritable(path: string): void {
  for (const [target, what] of [[dirname(path), "its folder"], [path, "the file"], [`${path}-wal`, "its WAL"], [`${path}-shm`, "its shared-memory file"]] as const) {
    try {
      accessSync(target, constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") continue;
      const owner = code === "EACCES" ? `; it belongs to user ${statSync(target).uid}, and this process runs as ${process.getuid?.() ?? "another"}: give it to this user (chown), as a command run with sudo may have left it` : "";
      throw new PressworkError("database-read-only", `the SQLite database ${path} cannot be written (${what}: ${code})${owner}`, { cause: error });
    }
  }
}

/** How long SQLite waits for another process's write lock before SQLITE_BUSY (the service answers 503 then). */
const LOCK_WAIT_MS = 5000;
/** The service's wait for a lock that blocks the event loop, per attempt. */
const BLOCKING_WAIT_MS = 20;

/** How often the checkpoint thread looks at the WAL. */
const CHECKPOINT_EVERY_MS = 50;
/**
 * WAL pages past which the writer lets the checkpoint thread catch up, so
 * that the WAL starts over: each time a pause of the writes of some
 * milliseconds (the event loop free), every few seconds under a steady
 * 3,000 one-click unsubscribes a second (`node bench/serve.js sqlite`).
 */
const RESTART_FRAMES = 20_000;
/**
 * The service's SQLite page cache, in KiB (better-sqlite3 builds SQLite with
 * 16,000). `node bench/unsubscribe-store.js`: 135–145 µs of CPU an
 * unsubscribe with 16,000, 133–138 with 4,000; on a list that had run a
 * while (more pages cached, a longer walk) 166–184 against 141–150.
 */
const SERVICE_CACHE_KIB = 4000;
/** The most a WAL file keeps on disk once it starts over: the service's WAL restarts long before it grows this far. */
const WAL_KEPT_BYTES = 128 * 1024 * 1024;
/** WAL pages past which the writer checkpoints itself (SQLite's default is 1,000), with a checkpoint thread. */
const BACKSTOP_PAGES = 40_000;

const BEGIN_IMMEDIATE = CompiledQuery.raw("begin immediate");
const COMMIT = CompiledQuery.raw("commit");
const ROLLBACK = CompiledQuery.raw("rollback");

/** Statements kept prepared: the queries are a few dozen shapes, and preparing one again cost as much as running it. */
const STATEMENTS = 500;

/** better-sqlite3 with its prepared statements reused by SQL text, the least recently used dropped past STATEMENTS. */
function withStatementCache(database: SqliteDatabase): SqliteDatabase {
  const statements = new Map<string, ReturnType<SqliteDatabase["prepare"]>>();
  return {
    prepare(text: string) {
      let statement = statements.get(text);
      if (statement) statements.delete(text);
      else {
        statement = database.prepare(text);
        if (statements.size >= STATEMENTS) statements.delete(statements.keys().next().value as string);
      }
      statements.set(text, statement);
      return statement;
    },
    close: () => database.close(),
  };
}

async function openPostgres(url: string, options: StoreOptions): Promise<Store> {
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000, ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}) });
  // A connection that breaks (a restart, a network drop) while no query runs on it emits an error: unheard, it
  // would crash the process. The pool hears its idle ones; each connection gets a listener for when it is lent out.
  pool.on("error", (error) => options.onIdleError?.(error));
  pool.on("connect", (client) => client.on("error", (error) => options.onIdleError?.(error)));
  const parsed = new URL(url);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // The hot queries run on the pool as named statements: each connection plans them once.
  const names = new Map<string, string>();
  runDirectly(db, async ({ sql, parameters }) => {
    let name = names.get(sql);
    if (!name) names.set(sql, (name = `presswork-${createHash("sha256").update(sql).digest("hex").slice(0, 24)}`));
    const result = await pool.query({ name, text: sql, values: [...parameters] });
    return { rows: result.rows, ...(result.command === "SELECT" ? {} : { numAffectedRows: BigInt(result.rowCount ?? 0) }) };
  });
  return {
    db,
    dialect: "postgres",
    description: `PostgreSQL ${parsed.hostname}${parsed.port ? `:${parsed.port}` : ""}${parsed.pathname}`,
    transaction: (fn) => db.transaction().execute(fn),
    gone: () => undefined,
    watch: async (onLost) => {
      const client = await pool.connect();
      let done = false;
      let broken = false;
      const lost = (why: string) => {
        broken = true;
        if (done) return;
        done = true;
        onLost(why);
      };
      const onError = (error: Error) => lost(error.message);
      const onEnd = () => lost("the server closed the connection");
      client.on("error", onError);
      client.on("end", onEnd);
      return async () => {
        done = true;
        client.off("error", onError);
        client.off("end", onEnd);
        client.release(broken);
      };
    },
    close: () => db.destroy(),
  };
}

const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EPIPE",
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_CANTOPEN",
  "SQLITE_IOERR",
  "SQLITE_FULL",
  "SQLITE_READONLY",
  "57P01",
  "57P02",
  "57P03",
  "53300",
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
]);

/** Whether an error says the database cannot be reached or used right now (a retry later may work), not that a query is wrong. */
export function isUnavailable(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.code && (UNAVAILABLE_CODES.has(e.code) || e.code.startsWith("SQLITE_IOERR"))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|driver has already been destroyed|database connection is not open/i.test(e.message ?? "");
}
