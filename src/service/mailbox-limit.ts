import { sql } from "kysely";
import type { Address } from "../audience/address.js";
import { mailboxKey } from "../audience/mailbox.js";
import type { Store } from "../store/database.js";
import { CONFIRM_DAYS } from "../issues/tokens.js";

/**
 * Subscribe requests that mail one mailbox a confirmation, in the days a
 * confirmation link works, however its address is spelled: over an hour, four spellings an
 * hour mailed one Gmail inbox 72 confirmations a day, for as long as
 * someone kept typing them.
 */
export const MAILBOX_LIMIT = 3;
const WINDOW_MS = CONFIRM_DAYS * 86_400_000;

/**
 * Counts subscribe requests by mailbox (see mailboxOf): those that would
 * mail it, as the caller asks the list first (see wouldMail), so that spelling one
 * mailbox many ways (`a.nn`, `an.n`, `ann+1` at Gmail) cannot mail it a
 * confirmation for each: the per-address limits in the store see each
 * spelling as its own address. Kept in the list's database, by a keyed hash
 * of the mailbox, so that a restart of the service or another replica on
 * the same database goes on counting.
 */
export class MailboxLimit {
  constructor(
    private readonly store: Store,
    private readonly list: string,
    private readonly secret: string,
  ) {}

  /** Whether `address` may be asked for now, counting this request if so; requests older than the window are forgotten. */
  async take(address: Address, now: number): Promise<boolean> {
    const key = mailboxKey(address.identity, this.secret);
    const since = new Date(now - WINDOW_MS).toISOString();
    return this.store.transaction(async (trx) => {
      // Two requests for one mailbox at once count one after the other (SQLite's transactions already do).
      if (this.store.dialect === "postgres") await sql`select pg_advisory_xact_lock(hashtextextended(${`${this.list}\n${key}`}, 0))`.execute(trx);
      await trx.deleteFrom("subscribe_requests").where("at", "<", since).execute();
      const asked = await trx.selectFrom("subscribe_requests").select((eb) => eb.fn.countAll<number>().as("n")).where("list", "=", this.list).where("mailbox_key", "=", key).executeTakeFirst();
      if (Number(asked?.n ?? 0) >= MAILBOX_LIMIT) return false;
      await trx.insertInto("subscribe_requests").values({ list: this.list, mailbox_key: key, at: new Date(now).toISOString() }).execute();
      return true;
    });
  }
}
