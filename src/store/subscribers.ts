import { randomBytes } from "node:crypto";
import { sql, type Kysely } from "kysely";
import type { Address } from "../audience/address.js";
import { mailboxKey } from "../audience/mailbox.js";
import { addressKey } from "../issues/message.js";
import { CONFIRM_DAYS } from "../issues/tokens.js";
import type { Store } from "./database.js";
import type { Dialect } from "./migrations.js";
import { GroupCommit } from "./group-commit.js";
import { prepare } from "./prepared.js";
import { dropUnsent, enqueue } from "./queue.js";
import type { BounceKind, Database, EventType, SubscriberStatus } from "./schema.js";
import { PressworkError } from "../errors/error.js";

/** Where a subscription came from, kept as proof of consent. */
export interface Consent {
  /** The form (`form:footer`), `cli`, `import:mailchimp`… */
  source: string;
  /** The version of the sign-up wording the person saw. */
  wording?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
}

/** What a subscribe request did; the service answers the same whatever it is. */
export type SubscribeOutcome = "new" | "refreshed" | "already-active" | "resubscribed";

/** A subscribe request waiting for its batch. */
interface Subscribe {
  address: Address;
  name: string | undefined;
  consent: Consent;
  now: Date;
}

/** What an unsubscribe did: stopped mail, found it stopped already, or suppressed an address the list does not hold. */
export type UnsubscribeOutcome = "unsubscribed" | "already" | "unknown";

/** An unsubscribe waiting for its batch: the address's keyed hash, where it came from, and when. */
interface Unsubscribe {
  key: string;
  source: string;
  at: string;
}

/** What a confirmation link did. */
export type ConfirmOutcome = "confirmed" | "already" | "used";

/** An event that stops mail to an address, as reported by the send, the mailbox or a provider. */
export interface StopEvent {
  /** The reporter's id for it: the same id again is recorded once. */
  id: string;
  type: "unsubscribed" | "bounced" | "complained";
  bounce?: BounceKind | undefined;
  /** The address's keyed hash (what the ledger holds). */
  key: string;
  at: Date;
  source: string;
  issue?: number | undefined;
  detail?: string | undefined;
}

/** An earlier event of an address, as the rule of `recordFeedback` sees it. */
export interface PastRow {
  eventKey: string;
  type: EventType;
  bounce: BounceKind | null;
  at: string;
  issue: number | null;
}

/** A bounce, complaint, unsubscribe request or delivery reported by the mailbox or a provider. */
export interface FeedbackRecord {
  /** The reporter's id for it: with `source`, the same report again is recorded once. */
  id: string;
  /** `mailbox`, `webhook:ses`, `webhook:postmark`, `webhook:mailgun`. */
  source: string;
  /** The address's keyed hash. */
  key: string;
  type: "bounced" | "complained" | "unsubscribed" | "delivered";
  bounce?: BounceKind | undefined;
  at: Date;
  issue?: number | undefined;
  detail?: string | undefined;
}

/** What the rules make of a reported event, given the address's earlier events. */
export interface FeedbackVerdict {
  /** Keep the event (false for one that changes nothing worth keeping, such as a delivery with no soft bounce to reset). */
  record: boolean;
  /** Stop mail to the address (a soft bounce does only once enough of them came). */
  stop: boolean;
  /** The event's detail as recorded, in place of the report's. */
  detail?: string;
}

/** What recording a reported event did. */
export interface FeedbackRecorded<V extends FeedbackVerdict> {
  /** The event is new (false: recorded before, or not worth keeping). */
  inserted: boolean;
  /** Mail to the address stopped: a subscriber's status changed, or an address the list does not hold went on the suppression list. */
  changed: boolean;
  /** Undefined for an event recorded before. */
  verdict?: V;
}

/** A subscriber as the list and the exports see them. */
export interface SubscriberRecord {
  id: number;
  email: string;
  name: string | null;
  status: SubscriberStatus;
  fields: Record<string, string>;
  createdAt: string;
  /** When the consent under which it is on the list was given (its latest), where the read asked for it (see listRows). */
  subscribedAt?: string;
  statusAt: string;
}

/** An address's whole story: why it does (or no longer does) get mail. */
export interface History {
  subscriber?: SubscriberRecord;
  consents: Array<{ subscribedAt: string; confirmedAt: string | null; source: string; wording: string | null }>;
  events: Array<{ type: EventType; bounce: BounceKind | null; at: string; source: string; issue: number | null; detail: string | null }>;
  suppression?: { reason: string; at: string };
}

/** One row of an import, validated. */
export interface ImportRow {
  line: number;
  address: Address;
  name?: string | undefined;
  status: "active" | "unsubscribed" | "bounced" | "complained";
  subscribedAt?: Date | undefined;
  confirmedAt?: Date | undefined;
  /** When it stopped, for an inactive row. */
  stoppedAt?: Date | undefined;
  /** Where the person signed up from, when the export says. */
  ip?: string | undefined;
  fields: Record<string, string>;
}

/** What an import did. */
export interface ImportCounts {
  added: number;
  /** Known addresses the file says opted out or bounced: now stopped here too. */
  stopped: number;
  unchanged: number;
  /** Addresses forgotten here before: never brought back by an import. */
  suppressed: number;
}

/** The queries of the hot paths (subscribe, one-click unsubscribe, every event), compiled once per store (see prepare). */
function hotQueries(db: Kysely<Database>, dialect: Dialect) {
  return {
    // Locked on PostgreSQL, where a request at once for the same address (a double submit, another replica) would
    // otherwise read the same status and act on it twice: it waits for this transaction, then reads what it did.
    // SQLite runs one write transaction at a time.
    findByIdentity: prepare<"list" | "identity", { id: number; status: SubscriberStatus; confirm_nonce: string | null; status_at: string }>(db, (p) =>
      db
        .selectFrom("subscribers")
        .select(["id", "status", "confirm_nonce", "status_at"])
        .where("list", "=", p("list"))
        .where("identity", "=", p("identity"))
        .$if(dialect === "postgres", (q) => q.forUpdate()),
    ),
    findByKey: prepare<"list" | "key", { id: number }>(db, (p) => db.selectFrom("subscribers").select("id").where("list", "=", p("list")).where("address_key", "=", p("key"))),
    insertPending: prepare<"list" | "email" | "identity" | "key" | "name" | "nonce" | "at", { id: number }>(db, (p) =>
      db
        .insertInto("subscribers")
        .values({ list: p("list"), email: p("email"), identity: p("identity"), address_key: p("key"), name: p("name"), status: "pending", fields: "{}", confirm_nonce: p("nonce"), created_at: p("at"), updated_at: p("at"), status_at: p("at") })
        .returning("id"),
    ),
    insertConsent: prepare<"subscriber" | "subscribedAt" | "confirmedAt" | "source" | "wording" | "ip" | "userAgent", { id: number }>(db, (p) =>
      db
        .insertInto("consents")
        .values({ subscriber_id: p("subscriber"), subscribed_at: p("subscribedAt"), confirmed_at: p("confirmedAt"), source: p("source"), wording: p("wording"), ip: p("ip"), user_agent: p("userAgent") })
        .returning("id"),
    ),
    enqueueConfirm: prepare<"subscriber" | "at", never>(db, (p) => db.insertInto("mail_queue").values({ subscriber_id: p("subscriber"), kind: "confirm", created_at: p("at"), due_at: p("at"), attempts: 0 })),
    insertEvent: prepare<"list" | "eventKey" | "key" | "type" | "bounce" | "at" | "source" | "issue" | "detail" | "recordedAt", never>(db, (p) =>
      db
        .insertInto("events")
        .values({ list: p("list"), event_key: p("eventKey"), address_key: p("key"), type: p("type"), bounce: p("bounce"), at: p("at"), source: p("source"), issue: p("issue"), detail: p("detail"), recorded_at: p("recordedAt") })
        .onConflict((oc) => oc.column("event_key").doNothing()),
    ),
    unsubscribe: prepare<"list" | "key" | "at", { id: number }>(db, (p) =>
      db
        .updateTable("subscribers")
        .set({ status: "unsubscribed", confirm_nonce: null, status_at: p("at"), updated_at: p("at") })
        .where("list", "=", p("list"))
        .where("address_key", "=", p("key"))
        .where("status", "in", RECEIVING)
        .returning("id"),
    ),
    dropUnsent: prepare<"subscriber", never>(db, (p) => db.deleteFrom("mail_queue").where("subscriber_id", "=", p("subscriber")).where("sent_at", "is", null)),
    // PostgreSQL only: a batch of subscribe requests for addresses the list does not hold (distinct identities), each
    // with its consent record, its event and its confirmation mail, in one statement. Those it holds already are not
    // inserted (on conflict) and not returned: they go one by one.
    subscribeNew: prepare<"list" | "emails" | "identities" | "keys" | "names" | "nonces" | "ats" | "sources" | "wordings" | "ips" | "agents" | "recordedAt", { identity: string }>(
      db,
      (p) => ({
        compile: () =>
          sql<{ identity: string }>`with asked as (
          select * from unnest(${p("emails")}::text[], ${p("identities")}::text[], ${p("keys")}::text[], ${p("names")}::text[], ${p("nonces")}::text[],
            ${p("ats")}::text[], ${p("sources")}::text[], ${p("wordings")}::text[], ${p("ips")}::text[], ${p("agents")}::text[])
            with ordinality as a(email, identity, key, name, nonce, at, source, wording, ip, user_agent, n)),
        added as (
          insert into subscribers (list, email, identity, address_key, name, status, fields, confirm_nonce, created_at, updated_at, status_at)
          select ${p("list")}::text, email, identity, key, name, 'pending', '{}', nonce, at, at, at from asked order by n
          on conflict (list, identity) do nothing
          returning id, identity),
        fresh as (select added.id, a.* from added join asked a on a.identity = added.identity),
        consented as (
          insert into consents (subscriber_id, subscribed_at, confirmed_at, source, wording, ip, user_agent)
          select id, at, null, source, wording, ip, user_agent from fresh
          returning id, subscriber_id),
        recorded as (
          insert into events (list, event_key, address_key, type, bounce, at, source, issue, detail, recorded_at)
          select ${p("list")}::text, 'consent:' || c.id || ':subscribed', f.key, 'subscribed', null, f.at, f.source, null, null, ${p("recordedAt")}::text
          from consented c join fresh f on f.id = c.subscriber_id
          on conflict (event_key) do nothing),
        queued as (
          insert into mail_queue (subscriber_id, kind, created_at, due_at, attempts)
          select id, 'confirm', at, at, 0 from fresh)
        select identity from added`.compile(db),
      }),
    ),
    // PostgreSQL only (SQLite has no UPDATE in WITH): a batch of one-click unsubscribes (distinct keys, each with its own time,
    // event key and source), their events and their unsent mail in one statement, so one round trip and one commit; it
    // names the keys it stopped and those of subscribers stopped already (a second click), so only unknown keys are left. Each
    // key is looked up on its own (lateral) so the plan uses the key's index whatever the table's statistics say: a list
    // imported a moment ago has none yet, and a join on the keys then scanned every subscriber. The lookup locks each row
    // in the order of the keys given, before the update: in whatever order the plan updates them, no other batch can be
    // holding one of them while it waits for another this one holds.
    unsubscribeReceiving: prepare<"list" | "keys" | "ats" | "eventKeys" | "sources" | "recordedAt", { address_key: string; stopped: boolean }>(
      db,
      (p) => ({
        compile: () =>
          sql<{ address_key: string; stopped: boolean }>`with asked as (
          select * from unnest(${p("keys")}::text[], ${p("ats")}::text[], ${p("eventKeys")}::text[], ${p("sources")}::text[]) as a(key, at, event_key, source)),
        found as (
          select a.key, a.at, f.id from asked a
          cross join lateral (select id from subscribers where list = ${p("list")} and address_key = a.key for update) f),
        stopped as (
          update subscribers s set status = 'unsubscribed', confirm_nonce = null, status_at = found.at, updated_at = found.at
          from found
          where s.id = found.id and s.status in ('pending', 'active')
          returning s.id, s.address_key),
        recorded as (
          insert into events (list, event_key, address_key, type, bounce, at, source, issue, detail, recorded_at)
          select ${p("list")}::text, a.event_key, a.key, 'unsubscribed', null, a.at, a.source, null, null, ${p("recordedAt")}::text
          from asked a join stopped on stopped.address_key = a.key
          on conflict (event_key) do nothing),
        dropped as (delete from mail_queue where subscriber_id in (select id from stopped) and sent_at is null)
        select address_key, true as stopped from stopped
        union all
        select key, false from found where id not in (select id from stopped)`.compile(db),
      }),
    ),
  };
}


/** Statuses that mean "mailed": a stop event changes only these. */
const RECEIVING: readonly SubscriberStatus[] = ["pending", "active"];

/** Statuses that mean "never mail again" (until the owner subscribes again). */
const STOPPED: readonly SubscriberStatus[] = ["unsubscribed", "bounced", "complained"];

/** Rows an import writes with one statement per table: under PostgreSQL's 65,535 parameters. */
const IMPORT_BATCH = 500;

/**
 * Batches of one kind a PostgreSQL pool (10 connections by default) runs at
 * once: two keep one batch filling while the other commits; four made the
 * batches so small at 3,000 one-clicks a second that PostgreSQL's CPU per
 * commit and its WAL syncs took the p99 from 27 to 80 ms (bench/serve.js).
 */
const BATCHES_AT_ONCE = 2;

/** Minutes before a new subscribe request for a pending address mails another confirmation. */
const CONFIRM_RESEND_MINUTES = 15;

/** Confirmation mails an address gets at most in the days its link works, however often it is asked for: the form is anyone's. */
const CONFIRM_MAILS_MAX = 3;

/**
 * Whether a subscriber waits for the confirmation its nonce names: a new
 * one (pending), or one that stopped (unsubscribed, bounced, complained)
 * and has asked to come back. A stopped one stays stopped until the link
 * is used: anyone can type anyone's address into the form.
 */
export function awaitsConfirmation(status: SubscriberStatus, nonce: string | null): boolean {
  return nonce !== null && (status === "pending" || STOPPED.includes(status));
}

/**
 * One newsletter's subscribers in the database: subscribe, confirm, stop,
 * add, forget, import, read. Every change and the event that records it
 * happen in one transaction; events are idempotent by their key.
 */
export class SubscriberList {
  private hot: ReturnType<typeof hotQueries> | undefined;
  /** One-click unsubscribes, committed together (see GroupCommit). */
  readonly unsubscribes: GroupCommit<Unsubscribe, UnsubscribeOutcome>;
  /** Subscribe requests, committed together, each with its queued confirmation. */
  readonly subscribes: GroupCommit<Subscribe, SubscribeOutcome>;

  constructor(
    readonly store: Store,
    readonly list: string,
    private readonly secret: string,
  ) {
    // SQLite has one connection: one batch at a time. PostgreSQL runs a few side by side on its pool.
    const concurrency = store.dialect === "postgres" ? BATCHES_AT_ONCE : 1;
    this.unsubscribes = new GroupCommit((items) => this.unsubscribeBatch(items), { concurrency });
    this.subscribes = new GroupCommit((items) => this.subscribeBatch(items), { concurrency });
  }

  private get q(): ReturnType<typeof hotQueries> {
    return (this.hot ??= hotQueries(this.store.db, this.store.dialect));
  }

  /** The keyed hash of an address (its identity, lower-cased), as the ledger and the tokens name it. */
  keyOf(identity: string): string {
    return addressKey(identity, this.secret);
  }

  /**
   * Creates or refreshes a subscriber waiting for its confirmation and
   * queues a confirmation mail: a new address becomes pending; one that had
   * stopped keeps its status and name until the link is used (see
   * awaitsConfirmation), and gets a nonce; one waiting already keeps its
   * nonce (earlier links still work). Another mail goes at most every 15
   * minutes, and at most CONFIRM_MAILS_MAX in the days a link works; an
   * active one is left alone. Requests
   * made at once are committed together (see GroupCommit); each resolves
   * once its subscriber and its queued mail are committed.
   */
  subscribe(address: Address, name: string | undefined, consent: Consent, now: Date): Promise<SubscribeOutcome> {
    return this.subscribes.submit({ address, name, consent, now });
  }

  /**
   * Subscribes a batch in one transaction. PostgreSQL adds the addresses
   * the list does not hold in one statement first; the rest (known
   * addresses, the same address twice) go one by one.
   */
  private async subscribeBatch(items: readonly Subscribe[]): Promise<SubscribeOutcome[]> {
    const outcomes: Array<SubscribeOutcome | undefined> = items.map(() => undefined);
    if (this.store.dialect === "postgres") {
      const first = firstOf(items, (item) => item.address.identity);
      // Inserted in address order (the statement keeps it), as the rows below are taken: see inKeyOrder.
      const asked = [...first.values()].map((i) => items[i] as Subscribe).sort(inKeyOrder((s) => s.address.identity));
      const values = {
        list: this.list,
        emails: asked.map((a) => a.address.address),
        identities: asked.map((a) => a.address.identity),
        keys: asked.map((a) => this.keyOf(a.address.identity)),
        names: asked.map((a) => text(a.name)),
        nonces: asked.map(() => randomBytes(16).toString("base64url")),
        ats: asked.map((a) => a.now.toISOString()),
        sources: asked.map((a) => text(a.consent.source) ?? ""),
        wordings: asked.map((a) => text(a.consent.wording)),
        ips: asked.map((a) => text(a.consent.ip, 64)),
        agents: asked.map((a) => text(a.consent.userAgent, 300)),
        recordedAt: new Date().toISOString(),
      };
      for (const row of (await this.q.subscribeNew(this.store.db, values)).rows) outcomes[first.get(row.identity) as number] = "new";
      if (outcomes.every((o) => o !== undefined)) return outcomes as SubscribeOutcome[];
    }
    // In address order, stable: the same address twice keeps its order.
    const order = [...items.keys()].sort(inKeyOrder((i) => (items[i] as Subscribe).address.identity));
    return this.store.transaction(async (trx) => {
      for (const i of order) outcomes[i] ??= await this.subscribeIn(trx, items[i] as Subscribe);
      return outcomes as SubscribeOutcome[];
    });
  }

  /** A subscribe request in the caller's transaction (see subscribe). */
  private async subscribeIn(trx: Kysely<Database>, { address, name, consent, now }: Subscribe): Promise<SubscribeOutcome> {
    const at = now.toISOString();
    const key = this.keyOf(address.identity);
    const row = (await this.q.findByIdentity(trx, { list: this.list, identity: address.identity })).rows[0];
    if (row?.status === "active") return "already-active";
    if (row && awaitsConfirmation(row.status, row.confirm_nonce)) {
      await trx
        .updateTable("consents")
        .set({ source: text(consent.source) ?? "", wording: text(consent.wording), ip: text(consent.ip, 64), user_agent: text(consent.userAgent, 300) })
        .where("subscriber_id", "=", row.id)
        .where("confirmed_at", "is", null)
        .execute();
      await this.confirmAgain(trx, row.id, now, { spaced: true, since: row.status_at });
      return "refreshed";
    }
    const nonce = randomBytes(16).toString("base64url");
    let id: number;
    if (row) {
      // Stopped: it stays so, with its name, until the owner confirms. Only the nonce is new.
      await trx.updateTable("subscribers").set({ confirm_nonce: nonce, updated_at: at }).where("id", "=", row.id).execute();
      id = row.id;
    } else {
      const inserted = (await this.q.insertPending(trx, { list: this.list, email: address.address, identity: address.identity, key, name: text(name), nonce, at })).rows[0];
      if (!inserted) throw new PressworkError("internal", "the new subscriber's id did not come back");
      id = inserted.id;
    }
    const consentId = await this.addConsent(trx, id, consent, now);
    await this.addEvent(trx, { event_key: `consent:${consentId}:subscribed`, address_key: key, type: "subscribed", at, source: consent.source });
    // The links mailed before it stopped no longer work: no wait for this one, only the cap.
    if (row) await this.confirmAgain(trx, id, now, { spaced: false, since: row.status_at });
    else await this.q.enqueueConfirm(trx, { subscriber: id, at });
    return row ? "resubscribed" : "new";
  }

  /**
   * Queues another confirmation mail for a subscriber asked for again,
   * unless CONFIRM_MAILS_MAX went in the days a link works since its status
   * last changed (`since`: mails before were for a subscription since
   * ended) or, `spaced`, one went in the last 15 minutes (its link still
   * works).
   */
  private async confirmAgain(trx: Kysely<Database>, id: number, now: Date, asked: { spaced: boolean; since: string }): Promise<void> {
    if (await this.mayConfirmAgain(trx, id, now, asked)) await enqueue(trx, id, "confirm", now);
  }

  /** Whether confirmAgain would queue a mail (see there). */
  private async mayConfirmAgain(db: Kysely<Database>, id: number, now: Date, { spaced, since }: { spaced: boolean; since: string }): Promise<boolean> {
    const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
    const window = ago(CONFIRM_DAYS * 86_400_000);
    const sent = await db
      .selectFrom("mail_queue")
      .select("created_at")
      .where("subscriber_id", "=", id)
      .where("kind", "=", "confirm")
      .where("created_at", ">=", window > since ? window : since)
      .execute();
    const recent = ago(CONFIRM_RESEND_MINUTES * 60_000);
    return sent.length < CONFIRM_MAILS_MAX && !(spaced && sent.some((mail) => mail.created_at > recent));
  }

  /**
   * Whether a subscribe request for `address` now would mail it a
   * confirmation, changing nothing: not for an active subscriber, nor for
   * one whose last confirmation went minutes ago (its link still works) or
   * who was sent as many as a week allows. As subscribe decides.
   */
  async wouldMail(address: Address, now: Date): Promise<boolean> {
    const row = (await this.q.findByIdentity(this.store.db, { list: this.list, identity: address.identity })).rows[0];
    if (!row) return true;
    if (row.status === "active") return false;
    return this.mayConfirmAgain(this.store.db, row.id, now, { spaced: awaitsConfirmation(row.status, row.confirm_nonce), since: row.status_at });
  }

  /** What confirming with this nonce would do now, changing nothing: "pending" confirms it; "already" and "used" as in confirm. */
  async confirmState(nonce: string): Promise<"pending" | Exclude<ConfirmOutcome, "confirmed">> {
    const row = await this.store.db.selectFrom("subscribers").select(["status", "confirm_nonce"]).where("list", "=", this.list).where("confirm_nonce", "=", nonce).executeTakeFirst();
    return row && awaitsConfirmation(row.status, row.confirm_nonce) ? "pending" : row?.status === "active" ? "already" : "used";
  }

  /**
   * Confirms the subscription a nonce belongs to (see awaitsConfirmation): the subscriber
   * becomes active, the consent gets its confirmation time, a suppression of
   * the address is lifted (they asked again, twice), and a welcome mail is
   * queued. The same link again answers "already"; a link whose nonce was
   * replaced or cleared (unsubscribed since, forgotten) answers "used".
   */
  async confirm(nonce: string, now: Date): Promise<ConfirmOutcome> {
    const at = now.toISOString();
    return this.store.transaction(async (trx) => {
      // Locked, as in subscribeIn: of a scanner's and a person's request at once, only one confirms and queues the welcome.
      const row = await trx
        .selectFrom("subscribers")
        .select(["id", "status", "address_key", "confirm_nonce"])
        .where("list", "=", this.list)
        .where("confirm_nonce", "=", nonce)
        .$if(this.store.dialect === "postgres", (q) => q.forUpdate())
        .executeTakeFirst();
      if (!row) return "used";
      if (row.status === "active") return "already";
      if (!awaitsConfirmation(row.status, row.confirm_nonce)) return "used";
      await trx.updateTable("subscribers").set({ status: "active", status_at: at, updated_at: at }).where("id", "=", row.id).execute();
      const consent = await trx.selectFrom("consents").select("id").where("subscriber_id", "=", row.id).where("confirmed_at", "is", null).orderBy("id", "desc").executeTakeFirst();
      if (consent) await trx.updateTable("consents").set({ confirmed_at: at }).where("id", "=", consent.id).execute();
      await trx.deleteFrom("suppressions").where("list", "=", this.list).where("address_key", "=", row.address_key).execute();
      await this.addEvent(trx, { event_key: `consent:${consent?.id ?? `s${row.id}`}:confirmed`, address_key: row.address_key, type: "confirmed", at, source: "link" });
      await enqueue(trx, row.id, "welcome", now);
      return "confirmed";
    });
  }

  /**
   * Unsubscribes the address with this keyed hash at once (one-click, the
   * unsubscribe page, the command line). Idempotent: an address already
   * stopped answers "already"; one the list does not hold (mailed from a
   * file) goes on the suppression list and answers "unknown". Requests
   * made at once are committed together (see GroupCommit); each resolves
   * once its change is committed.
   */
  unsubscribe(key: string, source: string, now: Date): Promise<UnsubscribeOutcome> {
    return this.unsubscribes.submit({ key, source, at: now.toISOString() });
  }

  /**
   * Unsubscribes a batch in one transaction. PostgreSQL stops every
   * subscriber still receiving, and names those stopped already, in one
   * statement first; the rest (unknown keys, the same link twice in one
   * batch) go one by one.
   */
  private async unsubscribeBatch(items: readonly Unsubscribe[]): Promise<UnsubscribeOutcome[]> {
    const outcomes: Array<UnsubscribeOutcome | undefined> = items.map(() => undefined);
    if (this.store.dialect === "postgres") {
      const first = firstOf(items, (item) => item.key);
      // Taken in key order (the statement locks them in the order given), as every batch takes its rows: see inKeyOrder.
      const asked = [...first.values()].map((i) => items[i] as Unsubscribe).sort(inKeyOrder((a) => a.key));
      const values = {
        list: this.list,
        keys: asked.map((a) => a.key),
        ats: asked.map((a) => a.at),
        eventKeys: asked.map((a) => `unsubscribed:${this.list}:${a.key}:${a.at}`),
        sources: asked.map((a) => a.source),
        recordedAt: new Date().toISOString(),
      };
      for (const row of (await this.q.unsubscribeReceiving(this.store.db, values)).rows) outcomes[first.get(row.address_key) as number] = row.stopped ? "unsubscribed" : "already";
      if (outcomes.every((o) => o !== undefined)) return outcomes as UnsubscribeOutcome[];
    }
    return this.store.transaction(async (trx) => {
      for (const i of [...items.keys()].sort(inKeyOrder((i) => (items[i] as Unsubscribe).key))) outcomes[i] ??= await this.unsubscribeIn(trx, items[i] as Unsubscribe);
      return outcomes as UnsubscribeOutcome[];
    });
  }

  /** One unsubscribe in the caller's transaction (see unsubscribe). */
  private async unsubscribeIn(trx: Kysely<Database>, { key, source, at }: Unsubscribe): Promise<UnsubscribeOutcome> {
    // The change first: of two clicks at once only one finds the subscriber still receiving, so one event is recorded.
    const updated = (await this.q.unsubscribe(trx, { list: this.list, key, at })).rows[0];
    if (updated) {
      await this.addEvent(trx, { event_key: `unsubscribed:${this.list}:${key}:${at}`, address_key: key, type: "unsubscribed", at, source });
      await this.q.dropUnsent(trx, { subscriber: updated.id });
      return "unsubscribed";
    }
    if ((await this.q.findByKey(trx, { list: this.list, key })).rows[0]) return "already";
    await this.applyStop(trx, key, "unsubscribed", new Date(at), `unsubscribed:${this.list}:${key}:unlisted`, { source });
    return "unknown";
  }

  /**
   * Records an event reported from outside (a bounce, a complaint, an
   * unsubscribe) once per source and id, and stops mail to the address when
   * it says so and is not older than the subscriber's last change. Soft
   * bounces are recorded and change nothing. Returns whether the event was new.
   */
  async record(event: StopEvent): Promise<boolean> {
    return this.store.transaction(async (trx) => (await this.applyStop(trx, event.key, event.type, event.at, `${event.source}:${event.id}`, event)).inserted);
  }

  /**
   * Records many events (see record), a few hundred a transaction; those
   * whose id is known already are passed over with one query per batch, so
   * reporting a long list again costs little. Returns how many were new.
   */
  async recordAll(events: readonly StopEvent[]): Promise<number> {
    let recorded = 0;
    for (let start = 0; start < events.length; start += IMPORT_BATCH) {
      const batch = events.slice(start, start + IMPORT_BATCH);
      recorded += await this.store.transaction(async (trx) => {
        const keys = batch.map((e) => `${e.source}:${e.id}`);
        const known = new Set((await trx.selectFrom("events").select("event_key").where("event_key", "in", keys).execute()).map((r) => r.event_key));
        let fresh = 0;
        for (const [i, event] of batch.entries()) {
          const eventKey = keys[i] as string;
          if (known.has(eventKey)) continue;
          known.add(eventKey);
          if ((await this.applyStop(trx, event.key, event.type, event.at, eventKey, event)).inserted) fresh++;
        }
        return fresh;
      });
    }
    return recorded;
  }

  /**
   * Records a bounce, complaint, unsubscribe request or delivery from the
   * mailbox or a provider, in one transaction with what it does: `rule` is
   * given the address's earlier events (oldest first) and says whether to
   * keep the event and whether it stops mail. A stop changes a subscriber
   * still receiving whose last change is not newer than the event, or puts
   * an address the list does not hold on the suppression list. The same
   * report again (same source and id) changes nothing.
   */
  async recordFeedback<V extends FeedbackVerdict>(event: FeedbackRecord, rule: (history: readonly PastRow[]) => V): Promise<FeedbackRecorded<V>> {
    const eventKey = `${event.source}:${event.id}`;
    return this.store.transaction(async (trx) => {
      // Two reports about one address at once (replicas on PostgreSQL) are decided one after the other.
      if (this.store.dialect === "postgres") await sql`select pg_advisory_xact_lock(hashtext(${`${this.list} ${event.key}`}))`.execute(trx);
      const rows = await trx.selectFrom("events").select(["event_key", "type", "bounce", "at", "issue"]).where("list", "=", this.list).where("address_key", "=", event.key).orderBy("at").orderBy("id").execute();
      if (rows.some((row) => row.event_key === eventKey)) return { inserted: false, changed: false };
      const verdict = rule(rows.map((row) => ({ eventKey: row.event_key, type: row.type, bounce: row.bounce, at: row.at, issue: row.issue })));
      if (!verdict.record) return { inserted: false, changed: false, verdict };
      const detail = verdict.detail ?? event.detail;
      if (event.type === "delivered" || (event.type === "bounced" && event.bounce === "soft" && !verdict.stop)) {
        const inserted = await this.addEvent(trx, { event_key: eventKey, address_key: event.key, type: event.type, bounce: event.bounce ?? null, at: event.at.toISOString(), source: text(event.source, 100) ?? "", issue: event.issue ?? null, detail: text(detail, 300) });
        return { inserted, changed: false, verdict };
      }
      const applied = await this.applyStop(trx, event.key, event.type, event.at, eventKey, { source: event.source, bounce: event.bounce, issue: event.issue, detail, stops: true });
      return { ...applied, verdict };
    });
  }

  /**
   * The keyed hashes never to mail, a batch at a time: stopped subscribers
   * (unsubscribed, bounced, complained) and the suppression list. What a
   * send leaves out whatever list it reads.
   */
  async *stoppedKeys(batch = 5000): AsyncGenerator<string> {
    let after = 0;
    for (;;) {
      const rows = await this.store.db.selectFrom("subscribers").select(["id", "address_key"]).where("list", "=", this.list).where("status", "in", STOPPED).where("id", ">", after).orderBy("id").limit(batch).execute();
      for (const row of rows) yield row.address_key;
      if (rows.length < batch) break;
      after = rows[rows.length - 1]?.id ?? after;
    }
    let last = "";
    for (;;) {
      const rows = await this.store.db.selectFrom("suppressions").select("address_key").where("list", "=", this.list).where("address_key", ">", last).orderBy("address_key").limit(batch).execute();
      for (const row of rows) yield row.address_key;
      if (rows.length < batch) break;
      last = rows[rows.length - 1]?.address_key ?? last;
    }
  }

  /** The bounces and complaints recorded for these issues: one row per issue, kind and address. */
  async issueEvents(issues: readonly number[]): Promise<Array<{ issue: number; type: "bounced" | "complained"; bounce: BounceKind | null; key: string }>> {
    if (issues.length === 0) return [];
    const rows = await this.store.db
      .selectFrom("events")
      .select(["issue", "type", "bounce", "address_key"])
      .distinct()
      .where("list", "=", this.list)
      .where("issue", "in", [...issues])
      .where("type", "in", ["bounced", "complained"])
      .execute();
    return rows.map((row) => ({ issue: row.issue as number, type: row.type as "bounced" | "complained", bounce: row.bounce, key: row.address_key }));
  }

  /** Adds an address as active on the operator's word (consent source `cli`), or activates a pending one. */
  async add(address: Address, name: string | undefined, now: Date): Promise<"added" | "activated" | "exists"> {
    const at = now.toISOString();
    const key = this.keyOf(address.identity);
    return this.store.transaction(async (trx) => {
      const suppressed = await trx.selectFrom("suppressions").select(["reason", "at"]).where("list", "=", this.list).where("address_key", "=", key).executeTakeFirst();
      if (suppressed) throw new PressworkError("subscriber-refused", `this address is on the suppression list (${suppressed.reason} on ${suppressed.at.slice(0, 10)}): only its owner can subscribe it again, through the subscribe form`);
      const row = await trx.selectFrom("subscribers").select(["id", "status", "status_at"]).where("list", "=", this.list).where("identity", "=", address.identity).executeTakeFirst();
      if (row?.status === "active") return "exists";
      if (row && row.status !== "pending") throw new PressworkError("subscriber-refused", `this address ${row.status} on ${row.status_at.slice(0, 10)}: only its owner can subscribe it again, through the subscribe form`);
      let id: number;
      if (row) {
        await trx.updateTable("subscribers").set({ status: "active", status_at: at, updated_at: at, ...(name ? { name: text(name) } : {}) }).where("id", "=", row.id).execute();
        id = row.id;
      } else {
        const inserted = await trx
          .insertInto("subscribers")
          .values({ list: this.list, email: address.address, identity: address.identity, address_key: key, name: text(name), status: "active", fields: "{}", confirm_nonce: null, created_at: at, updated_at: at, status_at: at })
          .returning("id")
          .executeTakeFirstOrThrow();
        id = inserted.id;
      }
      const consentId = await this.addConsent(trx, id, { source: "cli" }, now, now);
      await this.addEvent(trx, { event_key: `consent:${consentId}:subscribed`, address_key: key, type: "subscribed", at, source: "cli" });
      return row ? "activated" : "added";
    });
  }

  /**
   * Erases an address (GDPR): its subscriber row, consent records, queued
   * mail and events go; its keyed hash stays on the suppression list, so no
   * import or send mails it again. Returns whether the list knew it.
   */
  async forget(identity: string, now: Date): Promise<boolean> {
    const key = this.keyOf(identity);
    return this.store.transaction(async (trx) => {
      const deleted = await trx.deleteFrom("subscribers").where("list", "=", this.list).where("identity", "=", identity).executeTakeFirst();
      const events = await trx.deleteFrom("events").where("list", "=", this.list).where("address_key", "=", key).executeTakeFirst();
      // Its mailbox's subscribe requests, dated, go too (other spellings of the mailbox with them: the count only holds back mail).
      await trx.deleteFrom("subscribe_requests").where("list", "=", this.list).where("mailbox_key", "=", mailboxKey(identity, this.secret)).execute();
      await trx
        .insertInto("suppressions")
        .values({ list: this.list, address_key: key, reason: "forgotten", at: now.toISOString() })
        .onConflict((oc) => oc.columns(["list", "address_key"]).doUpdateSet({ reason: "forgotten", at: now.toISOString() }))
        .execute();
      return Number(deleted.numDeletedRows) > 0 || Number(events.numDeletedRows) > 0;
    });
  }

  /** How many subscribers have each status, and how many keys are suppressed. */
  async counts(): Promise<Record<SubscriberStatus | "suppressed", number>> {
    const out: Record<SubscriberStatus | "suppressed", number> = { pending: 0, active: 0, unsubscribed: 0, bounced: 0, complained: 0, suppressed: 0 };
    const rows = await this.store.db.selectFrom("subscribers").select((eb) => ["status", eb.fn.countAll<string | number>().as("n")]).where("list", "=", this.list).groupBy("status").execute();
    for (const row of rows) out[row.status] = Number(row.n);
    const suppressed = await this.store.db.selectFrom("suppressions").select((eb) => eb.fn.countAll<string | number>().as("n")).where("list", "=", this.list).executeTakeFirst();
    out.suppressed = Number(suppressed?.n ?? 0);
    return out;
  }

  /** Everything the list knows about an address: subscriber, consents, events (oldest first), suppression. */
  async history(identity: string): Promise<History> {
    const key = this.keyOf(identity);
    const db = this.store.db;
    const row = await db.selectFrom("subscribers").selectAll().where("list", "=", this.list).where("identity", "=", identity).executeTakeFirst();
    const consents = row
      ? await db.selectFrom("consents").select(["subscribed_at", "confirmed_at", "source", "wording"]).where("subscriber_id", "=", row.id).orderBy("id").execute()
      : [];
    const events = await db.selectFrom("events").select(["type", "bounce", "at", "source", "issue", "detail"]).where("list", "=", this.list).where("address_key", "=", key).orderBy("at").orderBy("id").execute();
    const suppression = await db.selectFrom("suppressions").select(["reason", "at"]).where("list", "=", this.list).where("address_key", "=", key).executeTakeFirst();
    return {
      ...(row ? { subscriber: toRecord(row) } : {}),
      consents: consents.map((c) => ({ subscribedAt: c.subscribed_at, confirmedAt: c.confirmed_at, source: c.source, wording: c.wording })),
      events,
      ...(suppression ? { suppression } : {}),
    };
  }

  /** Streams subscribers with the given statuses in id order (see listRows). */
  rows(statuses: readonly SubscriberStatus[], batch = 1000, consent = false): AsyncGenerator<SubscriberRecord> {
    return listRows(this.store, this.list, statuses, batch, consent);
  }

  /**
   * Imports rows in one transaction: new addresses are added with their
   * status and consent (from the export's opt-in times when it has them,
   * confirmed only when it says when: a single opt-in is not a confirmation);
   * a known address the file says stopped is stopped here too, but a file
   * never reactivates anyone; forgotten addresses are skipped.
   */
  async importRows(rows: readonly ImportRow[], source: string, now: Date): Promise<ImportCounts> {
    const counts: ImportCounts = { added: 0, stopped: 0, unchanged: 0, suppressed: 0 };
    const at = now.toISOString();
    await this.store.transaction(async (trx) => {
      // Set-based: a few queries per batch instead of five per row (an import of a million rows is minutes, not hours).
      for (let start = 0; start < rows.length; start += IMPORT_BATCH) {
        const batch = rows.slice(start, start + IMPORT_BATCH).map((row) => ({ row, key: this.keyOf(row.address.identity) }));
        const suppressed = new Map(
          (await trx.selectFrom("suppressions").select(["address_key", "reason"]).where("list", "=", this.list).where("address_key", "in", batch.map((b) => b.key)).execute()).map((r) => [r.address_key, r.reason]),
        );
        const existing = new Map(
          (await trx.selectFrom("subscribers").select(["id", "status", "name", "identity"]).where("list", "=", this.list).where("identity", "in", batch.map((b) => b.row.address.identity)).execute()).map((r) => [r.identity, r]),
        );
        const fresh: typeof batch = [];
        const seen = new Map<string, number>();
        for (const item of batch) {
          const { row, key } = item;
          if (suppressed.get(key) === "forgotten") {
            counts.suppressed++;
            continue;
          }
          const known = existing.get(row.address.identity);
          if (!known) {
            const first = seen.get(row.address.identity);
            if (first === undefined) {
              seen.set(row.address.identity, fresh.length);
              fresh.push(item);
              continue;
            }
            // The address again in this batch: a stop wins over active, as it does when the rows are batches apart.
            const earlier = fresh[first] as (typeof fresh)[number];
            if (row.status !== "active" && earlier.row.status === "active") earlier.row = { ...earlier.row, status: row.status, stoppedAt: row.stoppedAt };
            counts.unchanged++;
            continue;
          }
          let changed = false;
          if (row.status !== "active" && RECEIVING.includes(known.status)) {
            changed = (await this.applyStop(trx, key, row.status, row.stoppedAt ?? now, `${source}:${key}:${row.status}`, { source, force: true })).changed;
            if (changed) counts.stopped++;
          }
          if (!known.name && row.name) await trx.updateTable("subscribers").set({ name: text(row.name), updated_at: at }).where("id", "=", known.id).execute();
          if (!changed) counts.unchanged++;
        }
        if (fresh.length === 0) continue;
        const plans = fresh.map(({ row, key }) => {
          // An address that unsubscribed or bounced here while the list did not hold it stays stopped.
          const reason = suppressed.get(key);
          const status = reason && row.status === "active" ? (reason as ImportRow["status"]) : row.status;
          const subscribedAt = row.subscribedAt ?? now;
          const stoppedAt = row.stoppedAt ?? now;
          return { row, key, status, subscribedAt, stoppedAt };
        });
        const ids = new Map(
          (
            await trx
              .insertInto("subscribers")
              .values(
                plans.map((p) => ({
                  list: this.list,
                  email: p.row.address.address,
                  identity: p.row.address.identity,
                  address_key: p.key,
                  name: text(p.row.name),
                  status: p.status,
                  fields: JSON.stringify(p.row.fields),
                  confirm_nonce: null,
                  created_at: at,
                  updated_at: at,
                  status_at: (p.status === "active" ? p.subscribedAt : p.stoppedAt).toISOString(),
                })),
              )
              .returning(["id", "address_key"])
              .execute()
          ).map((r) => [r.address_key, r.id]),
        );
        const consents = new Map(
          (
            await trx
              .insertInto("consents")
              .values(
                plans.map((p) => ({
                  subscriber_id: ids.get(p.key) as number,
                  subscribed_at: p.subscribedAt.toISOString(),
                  confirmed_at: p.row.confirmedAt?.toISOString() ?? null,
                  source,
                  wording: null,
                  ip: text(p.row.ip, 64),
                  user_agent: null,
                })),
              )
              .returning(["id", "subscriber_id"])
              .execute()
          ).map((r) => [r.subscriber_id, r.id]),
        );
        const recorded = new Date().toISOString();
        const events = plans.flatMap((p) => [
          { list: this.list, event_key: `consent:${consents.get(ids.get(p.key) as number)}:subscribed`, address_key: p.key, type: "subscribed" as const, bounce: null, at: p.subscribedAt.toISOString(), source, issue: null, detail: null, recorded_at: recorded },
          ...(p.status === "active"
            ? []
            : [{ list: this.list, event_key: `${source}:${p.key}:${p.status}`, address_key: p.key, type: p.status, bounce: p.status === "bounced" ? ("hard" as const) : null, at: p.stoppedAt.toISOString(), source, issue: null, detail: null, recorded_at: recorded }]),
        ]);
        await trx.insertInto("events").values(events).onConflict((oc) => oc.column("event_key").doNothing()).execute();
        counts.added += plans.length;
      }
    });
    return counts;
  }

  /**
   * Stops mail to an address in the caller's transaction and records why,
   * once per event key. A subscriber still receiving (pending or active)
   * whose last change is not newer than the event gets the event's status,
   * loses its confirmation nonce and its unsent mail; an address the list
   * does not hold goes on the suppression list (hard bounces, complaints
   * and unsubscribes; a soft bounce changes nothing). Returns whether the
   * event was new and whether it stopped mail (a status changed, or a new
   * suppression).
   */
  private async applyStop(
    trx: Kysely<Database>,
    key: string,
    type: StopEvent["type"],
    at: Date,
    eventKey: string,
    details: { source: string; bounce?: BounceKind | undefined; issue?: number | undefined; detail?: string | undefined; force?: boolean; stops?: boolean },
  ): Promise<{ inserted: boolean; changed: boolean }> {
    const when = at.toISOString();
    const inserted = await this.addEvent(trx, {
      event_key: eventKey,
      address_key: key,
      type,
      bounce: type === "bounced" ? (details.bounce ?? "hard") : null,
      at: when,
      source: text(details.source, 100) ?? "",
      issue: details.issue ?? null,
      detail: text(details.detail, 300),
    });
    if (!inserted || (type === "bounced" && details.bounce === "soft" && !details.stops)) return { inserted, changed: false };
    let update = trx
      .updateTable("subscribers")
      .set({ status: type, confirm_nonce: null, status_at: when, updated_at: new Date().toISOString() })
      .where("list", "=", this.list)
      .where("address_key", "=", key)
      .where("status", "in", RECEIVING);
    if (!details.force) update = update.where("status_at", "<=", when);
    const updated = await update.returning("id").executeTakeFirst();
    if (updated) {
      await dropUnsent(trx, updated.id);
      return { inserted, changed: true };
    }
    const known = await trx.selectFrom("subscribers").select("id").where("list", "=", this.list).where("address_key", "=", key).executeTakeFirst();
    if (known) {
      // A stopped address asked back for (see awaitsConfirmation): a stop now, such as a complaint about the
      // confirmation mail, ends the asking: its link and its queued mail.
      const asking = await trx
        .updateTable("subscribers")
        .set({ confirm_nonce: null, updated_at: new Date().toISOString() })
        .where("id", "=", known.id)
        .where("status", "in", STOPPED)
        .where("confirm_nonce", "is not", null)
        .returning("id")
        .executeTakeFirst();
      if (asking) await dropUnsent(trx, asking.id);
      return { inserted, changed: false };
    }
    const suppressed = await trx
      .insertInto("suppressions")
      .values({ list: this.list, address_key: key, reason: type, at: when })
      .onConflict((oc) => oc.columns(["list", "address_key"]).doNothing())
      .executeTakeFirst();
    // A new suppression stops mail too (to an address mailed from a file); one already there changes nothing.
    return { inserted, changed: Number(suppressed.numInsertedOrUpdatedRows ?? 0) > 0 };
  }

  private async addConsent(trx: Kysely<Database>, subscriberId: number, consent: Consent, subscribedAt: Date, confirmedAt?: Date): Promise<number> {
    const row = (
      await this.q.insertConsent(trx, {
        subscriber: subscriberId,
        subscribedAt: subscribedAt.toISOString(),
        confirmedAt: confirmedAt?.toISOString() ?? null,
        source: text(consent.source) ?? "",
        wording: text(consent.wording),
        ip: text(consent.ip, 64),
        userAgent: text(consent.userAgent, 300),
      })
    ).rows[0];
    if (!row) throw new PressworkError("internal", "the consent record's id did not come back");
    return row.id;
  }

  /** Inserts an event unless one with its key exists; returns whether it was new. */
  private async addEvent(
    trx: Kysely<Database>,
    event: { event_key: string; address_key: string; type: EventType; bounce?: BounceKind | null; at: string; source: string; issue?: number | null; detail?: string | null },
  ): Promise<boolean> {
    const result = await this.q.insertEvent(trx, {
      list: this.list,
      eventKey: event.event_key,
      key: event.address_key,
      type: event.type,
      bounce: event.bounce ?? null,
      at: event.at,
      source: event.source,
      issue: event.issue ?? null,
      detail: event.detail ?? null,
      recordedAt: new Date().toISOString(),
    });
    return Number(result.numAffectedRows ?? 0) > 0;
  }
}

/**
 * Streams a list's subscribers with the given statuses in id order, `batch`
 * rows a query: memory stays bounded for any list, and the database is free
 * between batches for other work. With `consent`, each with the time of its
 * latest consent (an export's subscribed_at), which the send does not read.
 */
export async function* listRows(store: Store, list: string, statuses: readonly SubscriberStatus[], batch = 1000, consent = false): AsyncGenerator<SubscriberRecord> {
  let after = 0;
  for (;;) {
    const rows = await store.db
      .selectFrom("subscribers")
      .select(["id", "email", "name", "status", "fields", "created_at", "status_at"])
      .$if(consent, (q) => q.select((eb) => eb.selectFrom("consents").select((c) => c.fn.max("consents.subscribed_at").as("at")).whereRef("consents.subscriber_id", "=", "subscribers.id").as("consented_at")))
      .where("list", "=", list)
      .where("status", "in", statuses)
      .where("id", ">", after)
      .orderBy("id")
      .limit(batch)
      .execute();
    for (const row of rows) yield toRecord(row);
    if (rows.length < batch) return;
    after = rows[rows.length - 1]?.id ?? after;
  }
}

/** Where each distinct key first occurs among the items: a statement over arrays takes each key once. */
function firstOf<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, number> {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const key = keyOf(item);
    if (!first.has(key)) first.set(key, i);
  });
  return first;
}

/** Free text as both databases can store it: PostgreSQL's text holds no NUL character. */
function text(value: string | null | undefined, max = 1000): string | null {
  return value === undefined || value === null ? null : value.replace(/\u0000/g, "").slice(0, max);
}

function toRecord(row: { id: number; email: string; name: string | null; status: SubscriberStatus; fields: string; created_at: string; status_at: string; consented_at?: string | null }): SubscriberRecord {
  let fields: Record<string, string> = {};
  try {
    fields = JSON.parse(row.fields) as Record<string, string>;
  } catch {
    fields = {};
  }
  return { id: row.id, email: row.email, name: row.name, status: row.status, fields, createdAt: row.created_at, ...(row.consented_at !== undefined ? { subscribedAt: row.consented_at ?? row.created_at } : {}), statusAt: row.status_at };
}

/**
 * Compares by `key`, for a batch to take its subscribers' rows in one order
 * (see findByIdentity): two batches at once on PostgreSQL (replicas) then
 * never each hold a row the other waits for. PostgreSQL's one-statement
 * unsubscribe locks its rows in the order of its keys before it updates them.
 */
function inKeyOrder<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const [x, y] = [key(a), key(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  };
}
