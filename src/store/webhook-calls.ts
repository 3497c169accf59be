import type { Store } from "./database.js";

/** How long a provider's id for a call is kept: longer than any provider retries or signs for. */
export const WEBHOOK_CALLS_KEPT_DAYS = 7;

/** Whether a provider's call with this id (an SNS MessageId, a Mailgun token…) was recorded before. */
export async function webhookCallSeen(store: Store, id: string): Promise<boolean> {
  return (await store.db.selectFrom("webhook_calls").select("id").where("id", "=", id).executeTakeFirst()) !== undefined;
}

/**
 * Remembers a call once what it reported is recorded (never before: a call
 * whose recording failed is answered 5xx, and its retry must get through),
 * and forgets calls older than WEBHOOK_CALLS_KEPT_DAYS.
 */
export async function rememberWebhookCall(store: Store, id: string, now: Date): Promise<void> {
  const before = new Date(now.getTime() - WEBHOOK_CALLS_KEPT_DAYS * 86_400_000).toISOString();
  await store.transaction(async (trx) => {
    await trx.insertInto("webhook_calls").values({ id, at: now.toISOString() }).onConflict((oc) => oc.column("id").doNothing()).execute();
    await trx.deleteFrom("webhook_calls").where("at", "<", before).execute();
  });
}
