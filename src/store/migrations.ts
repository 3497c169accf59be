import { Migrator, sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from "kysely";
import { PressworkError } from "../errors/error.js";

/** Which SQL the database speaks. */
export type Dialect = "sqlite" | "postgres";

/**
 * The schema's versions, applied in name order at start and recorded in the
 * database (Kysely's kysely_migration table, locked while they run, so
 * replicas starting together apply each once). Never edit one that has
 * shipped: add the next.
 */
export function migrations(dialect: Dialect): Record<string, Migration> {
  // An id that never comes back after its row is deleted (forgotten addresses).
  const idType = dialect === "postgres" ? "serial" : "integer";
  const primary = (c: ColumnDefinitionBuilder) => (dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement());
  return {
    "0001-subscribers": {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable("subscribers")
          .addColumn("id", idType, primary)
          .addColumn("list", "text", (c) => c.notNull())
          .addColumn("email", "text", (c) => c.notNull())
          .addColumn("identity", "text", (c) => c.notNull())
          .addColumn("address_key", "text", (c) => c.notNull())
          .addColumn("name", "text")
          .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('pending', 'active', 'unsubscribed', 'bounced', 'complained')`))
          .addColumn("fields", "text", (c) => c.notNull().defaultTo("{}"))
          .addColumn("confirm_nonce", "text")
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .addColumn("status_at", "text", (c) => c.notNull())
          .addUniqueConstraint("subscribers_list_identity", ["list", "identity"])
          .execute();
        await db.schema.createIndex("subscribers_key").on("subscribers").columns(["list", "address_key"]).unique().execute();
        await db.schema.createIndex("subscribers_status").on("subscribers").columns(["list", "status", "id"]).execute();
        await db.schema.createIndex("subscribers_nonce").on("subscribers").column("confirm_nonce").unique().where(sql.ref("confirm_nonce"), "is not", null).execute();

        await db.schema
          .createTable("consents")
          .addColumn("id", idType, primary)
          .addColumn("subscriber_id", "integer", (c) => c.notNull().references("subscribers.id").onDelete("cascade"))
          .addColumn("subscribed_at", "text", (c) => c.notNull())
          .addColumn("confirmed_at", "text")
          .addColumn("source", "text", (c) => c.notNull())
          .addColumn("wording", "text")
          .addColumn("ip", "text")
          .addColumn("user_agent", "text")
          .execute();
        await db.schema.createIndex("consents_subscriber").on("consents").columns(["subscriber_id", "id"]).execute();

        await db.schema
          .createTable("events")
          .addColumn("id", idType, primary)
          .addColumn("event_key", "text", (c) => c.notNull().unique())
          .addColumn("list", "text", (c) => c.notNull())
          .addColumn("address_key", "text", (c) => c.notNull())
          .addColumn("type", "text", (c) => c.notNull().check(sql`type in ('subscribed', 'confirmed', 'unsubscribed', 'bounced', 'complained')`))
          .addColumn("bounce", "text", (c) => c.check(sql`bounce is null or bounce in ('hard', 'soft')`))
          .addColumn("at", "text", (c) => c.notNull())
          .addColumn("source", "text", (c) => c.notNull())
          .addColumn("issue", "integer")
          .addColumn("detail", "text")
          .addColumn("recorded_at", "text", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("events_address").on("events").columns(["list", "address_key", "at"]).execute();

        await db.schema
          .createTable("suppressions")
          .addColumn("list", "text", (c) => c.notNull())
          .addColumn("address_key", "text", (c) => c.notNull())
          .addColumn("reason", "text", (c) => c.notNull())
          .addColumn("at", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("suppressions_pk", ["list", "address_key"])
          .execute();

        await db.schema
          .createTable("mail_queue")
          .addColumn("id", idType, primary)
          .addColumn("subscriber_id", "integer", (c) => c.notNull().references("subscribers.id").onDelete("cascade"))
          .addColumn("kind", "text", (c) => c.notNull().check(sql`kind in ('confirm', 'welcome')`))
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("due_at", "text", (c) => c.notNull())
          .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("locked_until", "text")
          .addColumn("sent_at", "text")
          .addColumn("failed_at", "text")
          .addColumn("last_error", "text")
          .execute();
        await db.schema.createIndex("mail_queue_due").on("mail_queue").column("due_at").where(sql.ref("sent_at"), "is", null).execute();
        await db.schema.createIndex("mail_queue_subscriber").on("mail_queue").column("subscriber_id").execute();
      },
    },
    "0002-send-state": {
      async up(db: Kysely<any>) {
        // Offsets are byte offsets in a journal, which can pass 2 GB on a list of tens of millions.
        await db.schema
          .createTable("state_ledger")
          .addColumn("list", "text", (c) => c.notNull())
          .addColumn("issue", "integer", (c) => c.notNull())
          .addColumn("attempt", "text", (c) => c.notNull())
          .addColumn("offset", "bigint", (c) => c.notNull())
          .addColumn("text", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("state_ledger_pk", ["list", "issue", "attempt", "offset"])
          .execute();
        await db.schema
          .createTable("state_suppressions")
          .addColumn("list", "text", (c) => c.notNull())
          .addColumn("attempt", "text", (c) => c.notNull())
          .addColumn("offset", "bigint", (c) => c.notNull())
          .addColumn("text", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("state_suppressions_pk", ["list", "attempt", "offset"])
          .execute();
        await db.schema
          .createTable("state_issues")
          .addColumn("list", "text", (c) => c.notNull())
          .addColumn("number", "integer", (c) => c.notNull())
          .addColumn("attempt", "text", (c) => c.notNull())
          .addColumn("issue", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("state_issues_pk", ["list", "number", "attempt"])
          .execute();
        await db.schema
          .createTable("state_done")
          .addColumn("list", "text", (c) => c.notNull())
          .addColumn("issue", "integer", (c) => c.notNull())
          .addColumn("attempt", "text", (c) => c.notNull())
          .addColumn("shard_index", "integer", (c) => c.notNull())
          .addColumn("shard_count", "integer", (c) => c.notNull())
          .addColumn("at", "text", (c) => c.notNull())
          .addColumn("counts", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("state_done_pk", ["list", "issue", "attempt", "shard_index", "shard_count"])
          .execute();
        await db.schema
          .createTable("state_locks")
          .addColumn("list", "text", (c) => c.notNull())
          .addColumn("issue", "integer", (c) => c.notNull())
          .addColumn("attempt", "text", (c) => c.notNull())
          .addColumn("lock", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("state_locks_pk", ["list", "issue", "attempt"])
          .execute();
        await db.schema
          .createTable("state_migrations")
          .addColumn("list", "text", (c) => c.primaryKey())
          .addColumn("migration", "text", (c) => c.notNull())
          .execute();
      },
    },
    "0003-mail-queue-claims": {
      async up(db: Kysely<any>) {
        await db.schema.alterTable("mail_queue").addColumn("claimed_by", "text").execute();
      },
    },
    "0004-feedback": {
      async up(db: Kysely<any>) {
        // Deliveries join the events (a delivery after soft bounces resets their count).
        const types = sql`type in ('subscribed', 'confirmed', 'unsubscribed', 'bounced', 'complained', 'delivered')`;
        if (dialect === "postgres") {
          await sql`alter table events drop constraint if exists events_type_check`.execute(db);
          await sql`alter table events add constraint events_type_check check (${types})`.execute(db);
        } else {
          // SQLite cannot change a check constraint: the table is rebuilt, in one transaction.
          await db.transaction().execute(async (trx) => {
            await trx.schema
              .createTable("events_next")
              .addColumn("id", idType, primary)
              .addColumn("event_key", "text", (c) => c.notNull().unique())
              .addColumn("list", "text", (c) => c.notNull())
              .addColumn("address_key", "text", (c) => c.notNull())
              .addColumn("type", "text", (c) => c.notNull().check(types))
              .addColumn("bounce", "text", (c) => c.check(sql`bounce is null or bounce in ('hard', 'soft')`))
              .addColumn("at", "text", (c) => c.notNull())
              .addColumn("source", "text", (c) => c.notNull())
              .addColumn("issue", "integer")
              .addColumn("detail", "text")
              .addColumn("recorded_at", "text", (c) => c.notNull())
              .execute();
            await sql`insert into events_next select id, event_key, list, address_key, type, bounce, at, source, issue, detail, recorded_at from events`.execute(trx);
            await trx.schema.dropTable("events").execute();
            await trx.schema.alterTable("events_next").renameTo("events").execute();
            await trx.schema.createIndex("events_address").on("events").columns(["list", "address_key", "at"]).execute();
          });
        }
        // The complaint and bounce rates of an issue count its events.
        await db.schema.createIndex("events_issue").on("events").columns(["list", "issue", "type"]).where(sql.ref("issue"), "is not", null).execute();
        // Provider webhook calls already recorded: a replayed one is refused (Mailgun signs its token, not its body).
        await db.schema
          .createTable("webhook_calls")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("at", "text", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("webhook_calls_at").on("webhook_calls").column("at").execute();
      },
    },
    "0005-subscribers-by-id": {
      async up(db: Kysely<any>) {
        // An index holding the status was rewritten by every unsubscribe and every confirmation (and kept
        // PostgreSQL from updating the row in place); the lists read by status walk a list's rows in id order.
        await db.schema.createIndex("subscribers_list_id").on("subscribers").columns(["list", "id"]).execute();
        await db.schema.dropIndex("subscribers_status").execute();
      },
    },
    "0006-subscribe-requests": {
      async up(db: Kysely<any>) {
        // Subscribe requests by mailbox (a keyed hash of it), for the limit every replica and every restart shares.
        await db.schema
          .createTable("subscribe_requests")
          .addColumn("list", "text", (c) => c.notNull())
          .addColumn("mailbox_key", "text", (c) => c.notNull())
          .addColumn("at", "text", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("subscribe_requests_mailbox").on("subscribe_requests").columns(["list", "mailbox_key", "at"]).execute();
        await db.schema.createIndex("subscribe_requests_at").on("subscribe_requests").column("at").execute();
      },
    },
  };
}

/** Applies every migration not yet applied; throws with the name of one that failed. */
export async function migrate(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations(dialect) } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName;
    throw new PressworkError("database-migration", `the database schema could not be brought up to date${failed ? ` (migration ${failed})` : ""}: ${(error as Error).message ?? String(error)}`);
  }
}
