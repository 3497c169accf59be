import type { Generated } from "kysely";

/** Where a subscriber stands: only `active` is mailed issues; `pending` waits for the confirmation link. */
export type SubscriberStatus = "pending" | "active" | "unsubscribed" | "bounced" | "complained";

/**
 * What happened to an address, as recorded in the events table. A delivery
 * is recorded only when it resets soft bounces that would otherwise count.
 */
export type EventType = "subscribed" | "confirmed" | "unsubscribed" | "bounced" | "complained" | "delivered";

/** A bounce that ends mail to the address (hard) or one that may pass (soft). */
export type BounceKind = "hard" | "soft";

/**
 * Times are ISO 8601 UTC strings with milliseconds (`2026-11-29T12:00:00.000Z`)
 * in both databases: they sort as text and read the same everywhere.
 */
export interface SubscribersTable {
  id: Generated<number>;
  list: string;
  /** The address to send to: local part as given, domain lower-cased in ASCII. */
  email: string;
  /** The address lower-cased: unique per list. */
  identity: string;
  /** HMAC of the identity under PRESSWORK_SECRET: what tokens, events, the ledger and the suppression list name. */
  address_key: string;
  name: string | null;
  status: SubscriberStatus;
  /** Other columns of an imported row, as a JSON object of strings. */
  fields: string;
  /** The nonce of the confirmation links mailed for the current subscription. */
  confirm_nonce: string | null;
  created_at: string;
  updated_at: string;
  /** When `status` last changed: events older than this no longer change it. */
  status_at: string;
}

/** Proof of consent: one row per subscription, kept until the address is forgotten. */
export interface ConsentsTable {
  id: Generated<number>;
  subscriber_id: number;
  subscribed_at: string;
  confirmed_at: string | null;
  /** Where the consent came from: a form's name (`form:footer`), `import:mailchimp`, `cli`. */
  source: string;
  /** Which version of the sign-up wording the person saw, as the form said. */
  wording: string | null;
  ip: string | null;
  user_agent: string | null;
}

/** Everything that happened to an address, keyed so a retried report is recorded once. */
export interface EventsTable {
  id: Generated<number>;
  /** Idempotency key: a second event with the same key is ignored. */
  event_key: string;
  list: string;
  address_key: string;
  type: EventType;
  bounce: BounceKind | null;
  /** When it happened (a bounce's time, not when it was reported). */
  at: string;
  /** Who reported it: `form`, `one-click`, `link`, `api`, `send`, `mailbox`, `webhook:mailgun`, `cli`, `import`. */
  source: string;
  issue: number | null;
  /** A short reason: an SMTP status, a diagnostic, with any address masked. */
  detail: string | null;
  recorded_at: string;
}

/** Keyed hashes never to mail: unsubscribed or bounced addresses the list does not hold, and forgotten ones. */
export interface SuppressionsTable {
  list: string;
  address_key: string;
  reason: string;
  at: string;
}

/** The service's own mail (confirmations, welcomes), written in the same transaction as what caused it. */
export interface MailQueueTable {
  id: Generated<number>;
  subscriber_id: number;
  kind: "confirm" | "welcome";
  created_at: string;
  /** Not to be tried before. */
  due_at: string;
  attempts: number;
  /** A worker holds the row until then. */
  locked_until: string | null;
  /** Which worker holds it: `host pid instance` (see worker.ts), so a restart takes back its own at once. */
  claimed_by: string | null;
  sent_at: string | null;
  failed_at: string | null;
  last_error: string | null;
}

/**
 * The send's state when it lives in the database (see src/state/db-store.ts):
 * one row per record an attempt writes, as the state branch has one file,
 * each scoped by the newsletter's list id so one database can hold several
 * newsletters' state.
 */
export interface StateLedgerTable {
  list: string;
  issue: number;
  attempt: string;
  /** Byte offset of the part's first line in its attempt's journal (PostgreSQL's bigint arrives as a string). */
  offset: number | string;
  /** The part as on the branch: a header line, then compact ledger lines (about 47 bytes a recipient). */
  text: string;
}

/** A part of one attempt's suppression list: "key code issue time" lines. */
export interface StateSuppressionsTable {
  list: string;
  attempt: string;
  offset: number | string;
  text: string;
}

/** An issue frozen by the attempt that started it (JSON of FrozenIssue): the first attempt's counts. */
export interface StateIssuesTable {
  list: string;
  number: number;
  attempt: string;
  issue: string;
}

/** An issue, or one shard of it, gone through the whole list; shard 0 of 0 is the unsharded send. */
export interface StateDoneTable {
  list: string;
  issue: number;
  attempt: string;
  shard_index: number;
  shard_count: number;
  at: string;
  /** JSON of SendCounts. */
  counts: string;
}

/** A send's lock on an issue (JSON of LockRecord), renewed at every checkpoint. */
export interface StateLocksTable {
  list: string;
  issue: number;
  attempt: string;
  lock: string;
}

/** What was carried over into the database (JSON of Migration): present once a send has run. */
export interface StateMigrationsTable {
  list: string;
  migration: string;
}

/** Provider webhook calls already recorded, by the provider's id for them: a replay is refused. */
export interface WebhookCallsTable {
  id: string;
  at: string;
}

/** One subscribe request, by the mailbox it asked for (see mailboxOf), kept for the days a confirmation link works. */
export interface SubscribeRequestsTable {
  list: string;
  /** A keyed hash of the mailbox: no address is kept for a request. */
  mailbox_key: string;
  at: string;
}

/** The database as Kysely types it. */
export interface Database {
  subscribers: SubscribersTable;
  consents: ConsentsTable;
  events: EventsTable;
  suppressions: SuppressionsTable;
  mail_queue: MailQueueTable;
  state_ledger: StateLedgerTable;
  state_suppressions: StateSuppressionsTable;
  state_issues: StateIssuesTable;
  state_done: StateDoneTable;
  state_locks: StateLocksTable;
  state_migrations: StateMigrationsTable;
  webhook_calls: WebhookCallsTable;
  subscribe_requests: SubscribeRequestsTable;
}
