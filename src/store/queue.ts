import type { Kysely } from "kysely";
import type { Store } from "./database.js";
import type { Database, MailQueueTable, SubscriberStatus } from "./schema.js";

/** A queued mail a worker has claimed, with what it needs to build it. */
export interface ClaimedMail {
  id: number;
  kind: MailQueueTable["kind"];
  attempts: number;
  subscriberId: number;
  email: string;
  name: string | null;
  addressKey: string;
  status: SubscriberStatus;
  nonce: string | null;
  createdAt: string;
}

/** Tries before a queued mail is given up (about a day with the backoff below). */
export const MAX_ATTEMPTS = 8;

/** Puts a mail in the queue, in the caller's transaction: it exists exactly when what caused it does. */
export async function enqueue(trx: Kysely<Database>, subscriberId: number, kind: MailQueueTable["kind"], now: Date): Promise<void> {
  const at = now.toISOString();
  await trx.insertInto("mail_queue").values({ subscriber_id: subscriberId, kind, created_at: at, due_at: at, attempts: 0 }).execute();
}

/** Drops the mails not sent yet to a subscriber (who just unsubscribed or bounced). */
export async function dropUnsent(trx: Kysely<Database>, subscriberId: number): Promise<void> {
  await trx.deleteFrom("mail_queue").where("subscriber_id", "=", subscriberId).where("sent_at", "is", null).execute();
}

/**
 * Claims up to `limit` due mails for `leaseMs` in the name of `claimant`
 * (see Claimant): no other worker (another replica, or this one after a
 * crash) takes them before the lease ends, unless reclaimStale finds the
 * claimant dead. On PostgreSQL rows another worker is claiming are
 * skipped, not waited for.
 */
export async function claimDue(store: Store, now: Date, limit: number, leaseMs: number, claimant: string | null = null): Promise<ClaimedMail[]> {
  const at = now.toISOString();
  const until = new Date(now.getTime() + leaseMs).toISOString();
  return store.transaction(async (trx) => {
    let due = trx
      .selectFrom("mail_queue")
      .select("id")
      .where("sent_at", "is", null)
      .where("failed_at", "is", null)
      .where("due_at", "<=", at)
      .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<", at)]))
      .orderBy("id")
      .limit(limit);
    if (store.dialect === "postgres") due = due.forUpdate().skipLocked();
    const ids = (await due.execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    await trx.updateTable("mail_queue").set((eb) => ({ locked_until: until, claimed_by: claimant, attempts: eb("attempts", "+", 1) })).where("id", "in", ids).execute();
    const rows = await trx
      .selectFrom("mail_queue as q")
      .innerJoin("subscribers as s", "s.id", "q.subscriber_id")
      .select(["q.id", "q.kind", "q.attempts", "q.created_at", "s.id as subscriber_id", "s.email", "s.name", "s.address_key", "s.status", "s.confirm_nonce"])
      .where("q.id", "in", ids)
      .orderBy("q.id")
      .execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      attempts: r.attempts,
      subscriberId: r.subscriber_id,
      email: r.email,
      name: r.name,
      addressKey: r.address_key,
      status: r.status,
      nonce: r.confirm_nonce,
      createdAt: r.created_at,
    }));
  });
}

/** Gives claimed mails back before their lease ends (the worker stopped or paused before sending them). */
export async function release(store: Store, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await store.transaction((trx) => trx.updateTable("mail_queue").set((eb) => ({ locked_until: null, claimed_by: null, attempts: eb("attempts", "-", 1) })).where("id", "in", ids).execute());
}

/**
 * Who holds a claim: `host pid instance`, the instance a random id of the
 * process's start. A worker on the same host can tell a claimant is dead:
 * its pid no longer runs, or its pid is the worker's own under another
 * instance (a container restarted, where the service is pid 1 again).
 */
export interface Claimant {
  host: string;
  pid: number;
  instance: string;
}

/** The claimant's text, as claimed_by holds it. */
export function claimantName(claimant: Claimant): string {
  return `${claimant.host} ${claimant.pid} ${claimant.instance}`;
}

/**
 * Takes back, at once, the unexpired claims of dead claimants of this
 * host (`isDead` decides from the pid), so a restarted worker resends the
 * mail it held when it was killed without waiting out the lease. Claims of
 * other hosts, and of live processes here, are left to their lease: a
 * replica elsewhere may be sending them. Returns how many it took back.
 */
export async function reclaimStale(store: Store, me: Claimant, now: Date, isRunning: (pid: number) => boolean): Promise<number> {
  const at = now.toISOString();
  const held = await store.db
    .selectFrom("mail_queue")
    .select("claimed_by")
    .distinct()
    .where("sent_at", "is", null)
    .where("failed_at", "is", null)
    .where("locked_until", ">=", at)
    .where("claimed_by", "like", `${me.host} %`)
    .execute();
  const dead = held
    .map((r) => r.claimed_by ?? "")
    .filter((name) => {
      const [host, pid, instance] = name.split(" ");
      if (host !== me.host || !pid || !instance || instance === me.instance) return false;
      return Number(pid) === me.pid || !isRunning(Number(pid));
    });
  if (dead.length === 0) return 0;
  const taken = await store.transaction((trx) =>
    trx.updateTable("mail_queue").set({ locked_until: null, claimed_by: null }).where("claimed_by", "in", dead).where("sent_at", "is", null).where("failed_at", "is", null).executeTakeFirst(),
  );
  return Number(taken.numUpdatedRows);
}

/** Records a mail as sent. */
export async function markSent(store: Store, id: number, now: Date): Promise<void> {
  await store.transaction((trx) => trx.updateTable("mail_queue").set({ sent_at: now.toISOString(), locked_until: null, last_error: null }).where("id", "=", id).execute());
}

/**
 * Records a failed try: due again after a backoff that grows with each try
 * (a minute, then 4, 16 … capped at 6 hours), or given up for good when
 * `final` or after MAX_ATTEMPTS.
 */
export async function markFailed(store: Store, mail: Pick<ClaimedMail, "id" | "attempts">, error: string, now: Date, final: boolean): Promise<"retry" | "failed"> {
  if (final || mail.attempts >= MAX_ATTEMPTS) {
    await store.transaction((trx) => trx.updateTable("mail_queue").set({ failed_at: now.toISOString(), locked_until: null, last_error: error.slice(0, 300) }).where("id", "=", mail.id).execute());
    return "failed";
  }
  const delay = Math.min(6 * 3600_000, 60_000 * 4 ** (mail.attempts - 1));
  await store.transaction((trx) =>
    trx
      .updateTable("mail_queue")
      .set({ due_at: new Date(now.getTime() + delay).toISOString(), locked_until: null, last_error: error.slice(0, 300) })
      .where("id", "=", mail.id)
      .execute(),
  );
  return "retry";
}

/** Mails waiting to be sent (due or not), and those given up. */
export async function queueCounts(store: Store): Promise<{ waiting: number; failed: number }> {
  const count = async (failed: boolean) => {
    const row = await store.db
      .selectFrom("mail_queue")
      .select((eb) => eb.fn.countAll<string | number>().as("n"))
      .where("sent_at", "is", null)
      .where("failed_at", failed ? "is not" : "is", null)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  };
  return { waiting: await count(false), failed: await count(true) };
}
