import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from "kysely";

/** Marks a placeholder among a compiled query's parameters; never seen by the database. */
const MARK = "\u0000presswork-parameter:";

/** A query compiled once, run with the values of its named placeholders. */
export type Prepared<P extends string, R> = (executor: Kysely<any>, values: Record<P, unknown>) => Promise<QueryResult<R>>;

/**
 * Builds and compiles a Kysely query once, with named placeholders where
 * its values go, and returns a function that runs the same SQL with new
 * values bound as parameters. Building and compiling a query cost more than
 * SQLite running it; the hot paths (one-click unsubscribe, subscribe) run
 * prepared queries. The query keeps the builder's types; values still go
 * to the driver as bound parameters, never into the SQL.
 */
export function prepare<P extends string, R>(db: Kysely<any>, build: (param: (name: P) => any) => Compilable<R>): Prepared<P, R> {
  const compiled = build((name) => `${MARK}${name}`).compile();
  const slots = compiled.parameters.map((value) => (typeof value === "string" && value.startsWith(MARK) ? (value.slice(MARK.length) as P) : undefined));
  return (executor, values) => {
    const query = CompiledQuery.raw(
      compiled.sql,
      compiled.parameters.map((value, i) => {
        const slot = slots[i];
        return slot === undefined ? value : values[slot];
      }),
    );
    const runner = direct.get(executor);
    if (!runner) return executor.executeQuery<R>(query);
    try {
      return Promise.resolve(runner(query) as QueryResult<R> | Promise<QueryResult<R>>);
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/** Runs compiled SQL without Kysely's executor: at once on a connection its caller holds, or as a statement the server keeps prepared. */
export type DirectRunner = (query: CompiledQuery) => QueryResult<unknown> | Promise<QueryResult<unknown>>;

const direct = new WeakMap<Kysely<any>, DirectRunner>();

/**
 * Lets the prepared queries given `executor` run on `runner` instead of
 * through Kysely's executor. SQLite: at once, without Kysely's per-query
 * chain of promises (which cost more than SQLite's work on a hot path), only
 * for an executor bound to one held connection (a transaction's), so
 * nothing else runs on it meanwhile. PostgreSQL: as named statements,
 * planned once per connection instead of on every call.
 */
export function runDirectly(executor: Kysely<any>, runner: DirectRunner): void {
  direct.set(executor, runner);
}
