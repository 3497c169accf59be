import { createHash } from "node:crypto";
import { sql, type Kysely } from "kysely";
import { isUnavailable, openStore as openDatabase, type Store } from "../store/database.js";
import type { Database } from "../store/schema.js";
import { type FrozenIssue, type IssueState, type LedgerPart, type LockRecord, type Migration, type SendCounts, type SendDone, type StateChange, type StateStore, type StateSummary, type SuppressionPart } from "./store.js";
import { isPressworkError, PressworkError } from "../errors/error.js";

/** Where the database store finds its database, and whose state it keeps there. */
export interface DatabaseStoreOptions {
  /** DATABASE_URL; unset: data/presswork.sqlite under `root`. */
  url: string | undefined;
  root: string;
  /** The newsletter's list id: one database may hold the state of several newsletters, each apart. */
  list: string;
}

/** Tries of a write that found the database busy or out of reach, before the send is told it cannot save. */
const WRITE_TRIES = 4;
/** A query that takes longer has met a dead connection: it fails rather than hang a checkpoint. */
const QUERY_TIMEOUT_MS = 30_000;

/**
 * The send's state in the database of DATABASE_URL (SQLite or PostgreSQL),
 * in the tables of migration 0002-send-state: one row per record an attempt
 * writes, as the branch has one file, so the rules of StateStore hold the
 * same way. A write is one transaction that first takes the state's write
 * lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory
 * lock per list), reads the summary and applies the changes: two processes
 * racing for one issue's lock are served one after the other, and the
 * second sees the first's lock. A busy or unreachable database is retried
 * briefly, then reported as a StateSaveError.
 */
export class DatabaseStore implements StateStore {
  readonly description: string;
  readonly notices: string[] = [];
  /** A save is one small transaction: a running send saves every few seconds, not every minute. */
  readonly checkpointMs = 5000;
  /** Frozen issues never change once written: read each once. */
  private readonly frozen = new Map<string, FrozenIssue>();
  private readonly lockKey: number;

  private constructor(
    private readonly store: Store,
    private readonly list: string,
  ) {
    this.description = `the database (${store.description})`;
    this.lockKey = createHash("sha256").update(`presswork-state\0${list}`).digest().readInt32BE(0);
  }

  /** Opens the database, applying the migrations it lacks; an unreachable one is a StateSaveError. */
  static async open(options: DatabaseStoreOptions): Promise<DatabaseStore> {
    try {
      return new DatabaseStore(await openDatabase({ url: options.url, root: options.root, poolSize: 3, queryTimeoutMs: QUERY_TIMEOUT_MS }), options.list);
    } catch (error) {
      throw new PressworkError("state-save", `cannot open the send's state in the database: ${reason(error)}`);
    }
  }

  async refresh(): Promise<void> {
    const gone = this.store.gone();
    if (gone) throw new PressworkError("state-save", `cannot read the state: ${gone}`);
  }

  summary(): Promise<StateSummary> {
    return this.reading(() => this.summaryOf(this.store.db));
  }

  async *ledger(issue: number): AsyncGenerator<LedgerPart> {
    const keys = await this.reading(() => this.store.db.selectFrom("state_ledger").select(["attempt", "offset"]).where("list", "=", this.list).where("issue", "=", issue).execute());
    // One part at a time: parts are up to 25 MB, and a ledger of a million recipients is many of them.
    for (const key of sortParts(keys)) {
      const row = await this.reading(() =>
        this.store.db.selectFrom("state_ledger").select("text").where("list", "=", this.list).where("issue", "=", issue).where("attempt", "=", key.attempt).where("offset", "=", key.offset).executeTakeFirst(),
      );
      if (row) yield { issue, attempt: key.attempt, offset: key.offset, text: row.text };
    }
  }

  async *suppressions(): AsyncGenerator<SuppressionPart> {
    const keys = await this.reading(() => this.store.db.selectFrom("state_suppressions").select(["attempt", "offset"]).where("list", "=", this.list).execute());
    for (const key of sortParts(keys)) {
      const row = await this.reading(() =>
        this.store.db.selectFrom("state_suppressions").select("text").where("list", "=", this.list).where("attempt", "=", key.attempt).where("offset", "=", key.offset).executeTakeFirst(),
      );
      if (row) yield { attempt: key.attempt, offset: key.offset, text: row.text };
    }
  }

  async write(decide: readonly StateChange[] | ((summary: StateSummary) => readonly StateChange[]), _message: string): Promise<void> {
    for (let tries = 1; ; tries++) {
      let refusal: { error: unknown } | undefined;
      try {
        const gone = this.store.gone();
        if (gone) throw new PressworkError("state-save", `cannot save the state in ${this.description}: ${gone}`);
        await this.store.transaction(async (trx) => {
          if (this.store.dialect === "postgres") await sql`select pg_advisory_xact_lock(${this.lockKey})`.execute(trx);
          let changes: readonly StateChange[];
          if (typeof decide === "function") {
            const summary = await this.summaryOf(trx);
            try {
              changes = decide(summary);
            } catch (error) {
              refusal = { error };
              throw error;
            }
          } else changes = decide;
          for (const change of changes) await this.apply(trx, change);
        });
        return;
      } catch (error) {
        if (refusal) throw refusal.error;
        if (isPressworkError(error, "state-save")) throw error;
        if (isUnavailable(error) && tries < WRITE_TRIES) {
          await sleep(200 * 2 ** tries);
          continue;
        }
        throw new PressworkError("state-save", `cannot save the state in ${this.description}: ${reason(error)}`);
      }
    }
  }

  watch(onLost: (reason: string) => void): Promise<() => Promise<void>> {
    return this.reading(() => this.store.watch(onLost));
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** Runs a read; a database out of reach is a StateSaveError that says so, not a driver's stack trace. */
  private async reading<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (isPressworkError(error, "state-save") || !isUnavailable(error)) throw error;
      throw new PressworkError("state-save", `cannot read the state from ${this.description}: ${reason(error)}`);
    }
  }

  private async apply(trx: Kysely<Database>, change: StateChange): Promise<void> {
    const list = this.list;
    switch (change.kind) {
      case "ledger": {
        const { issue, attempt, offset, text } = change.part;
        // The same part again (a save whose mark was lost) holds the same lines and perhaps more after them.
        await trx
          .insertInto("state_ledger")
          .values({ list, issue, attempt, offset, text: storable(text) })
          .onConflict((oc) => oc.columns(["list", "issue", "attempt", "offset"]).doUpdateSet((eb) => ({ text: eb.ref("excluded.text") })))
          .execute();
        return;
      }
      case "suppressions": {
        const { attempt, offset, text } = change.part;
        await trx
          .insertInto("state_suppressions")
          .values({ list, attempt, offset, text: storable(text) })
          .onConflict((oc) => oc.columns(["list", "attempt", "offset"]).doUpdateSet((eb) => ({ text: eb.ref("excluded.text") })))
          .execute();
        return;
      }
      case "started":
        await trx
          .insertInto("state_issues")
          .values({ list, number: change.issue.number, attempt: change.attempt, issue: storable(JSON.stringify(change.issue)) })
          .onConflict((oc) => oc.columns(["list", "number", "attempt"]).doNothing())
          .execute();
        return;
      case "complete":
      case "shard-done": {
        const shard = change.kind === "shard-done" ? change.shard : { index: 0, count: 0 };
        await trx
          .insertInto("state_done")
          .values({ list, issue: change.issue, attempt: change.attempt, shard_index: shard.index, shard_count: shard.count, at: change.at, counts: JSON.stringify(change.counts) })
          .onConflict((oc) => oc.columns(["list", "issue", "attempt", "shard_index", "shard_count"]).doUpdateSet((eb) => ({ at: eb.ref("excluded.at"), counts: eb.ref("excluded.counts") })))
          .execute();
        return;
      }
      case "lock":
        await trx
          .insertInto("state_locks")
          .values({ list, issue: change.lock.issue, attempt: change.lock.attempt.name, lock: JSON.stringify(change.lock) })
          .onConflict((oc) => oc.columns(["list", "issue", "attempt"]).doUpdateSet((eb) => ({ lock: eb.ref("excluded.lock") })))
          .execute();
        return;
      case "unlock":
        await trx.deleteFrom("state_locks").where("list", "=", list).where("issue", "=", change.issue).where("attempt", "=", change.attempt).execute();
        return;
      case "migrated":
        await trx
          .insertInto("state_migrations")
          .values({ list, migration: JSON.stringify(change.migration) })
          .onConflict((oc) => oc.column("list").doUpdateSet((eb) => ({ migration: eb.ref("excluded.migration") })))
          .execute();
        return;
      case "moved":
        throw new PressworkError("internal", "a database store is not moved anywhere: only a state branch is marked as moved");
    }
  }

  /** The summary, read with `db` (inside a write's transaction, or not), with the same rules as the branch's. */
  private async summaryOf(db: Kysely<Database>): Promise<StateSummary> {
    const list = this.list;
    const started = await db.selectFrom("state_issues").select(["number", "attempt"]).where("list", "=", list).execute();
    const done = await db.selectFrom("state_done").select(["issue", "attempt", "shard_index", "shard_count", "at", "counts"]).where("list", "=", list).execute();
    const lockRows = await db.selectFrom("state_locks").select(["issue", "attempt", "lock"]).where("list", "=", list).execute();
    const migrationRow = await db.selectFrom("state_migrations").select("migration").where("list", "=", list).executeTakeFirst();

    // An issue is the one its earliest attempt froze, as on the branch (where attempt names sort by their start).
    const first = new Map<number, string>();
    for (const row of started) {
      const known = first.get(row.number);
      if (known === undefined || `${row.attempt}/` < `${known}/`) first.set(row.number, row.attempt);
    }
    const issues: IssueState[] = [];
    for (const [number, attempt] of [...first].sort(([a], [b]) => a - b)) {
      const cacheKey = `${number} ${attempt}`;
      let issue = this.frozen.get(cacheKey);
      if (!issue) {
        const row = await db.selectFrom("state_issues").select("issue").where("list", "=", list).where("number", "=", number).where("attempt", "=", attempt).executeTakeFirst();
        if (!row) continue;
        issue = parse<FrozenIssue>(row.issue, `issue #${number} as frozen by ${attempt}`);
        this.frozen.set(cacheKey, issue);
      }
      const mine = done.filter((d) => d.issue === number).sort((a, b) => (`${a.attempt}/` < `${b.attempt}/` ? -1 : `${a.attempt}/` > `${b.attempt}/` ? 1 : 0));
      const complete = mine
        .filter((d) => d.shard_count === 0)
        .map((d) => ({ at: d.at, attempt: d.attempt, counts: parse<SendCounts>(d.counts, `the counts of issue #${number}`) }))
        .sort((a, b) => a.at.localeCompare(b.at) || a.attempt.localeCompare(b.attempt))
        .at(-1);
      const shardsDone = new Map<string, SendDone>();
      for (const d of mine.filter((d) => d.shard_count > 0)) shardsDone.set(`${d.shard_index}/${d.shard_count}`, { at: d.at, attempt: d.attempt, counts: parse<SendCounts>(d.counts, `the counts of a shard of issue #${number}`) });
      issues.push({ issue, startedBy: attempt, shardsDone, ...(complete ? { complete } : {}) });
    }
    const locks = lockRows.sort((a, b) => a.issue - b.issue || (a.attempt < b.attempt ? -1 : 1)).map((row) => parse<LockRecord>(row.lock, `the lock of issue #${row.issue}`));
    const migration = migrationRow ? parse<Migration>(migrationRow.migration, "the record of what was carried over") : undefined;
    return { issues, locks, ...(migration ? { migration } : {}) };
  }
}

/** Parts in the order they were written, as the branch lists its files: by attempt (its start), then offset. */
function sortParts(keys: ReadonlyArray<{ attempt: string; offset: number | string }>): Array<{ attempt: string; offset: number }> {
  return keys
    .map((k) => ({ attempt: k.attempt, offset: Number(k.offset) }))
    .sort((a, b) => (a.attempt === b.attempt ? a.offset - b.offset : `${a.attempt}/` < `${b.attempt}/` ? -1 : 1));
}

/** Text as both databases can store it: PostgreSQL's text holds no NUL character (a server's reply could carry one). */
function storable(text: string): string {
  return text.includes("\u0000") ? text.replace(/\u0000/g, "\uFFFD") : text;
}

function parse<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new PressworkError("state-damaged", `${what} in the database is not valid JSON: it was edited by hand. Restore it from a backup`);
  }
}

/** A database error in a few words, without a password (drivers never print one). */
function reason(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return `${e.message ?? String(error)}${e.code && !(e.message ?? "").includes(e.code) ? ` (${e.code})` : ""}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
