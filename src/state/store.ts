/**
 * The send's state: the ledger of every attempt, the record of sent issues
 * (with each issue's frozen content), the suppression list and the send
 * locks. Everything a send learns lands here; a build reads the record from
 * here too.
 *
 * A backend implements StateStore. The rules every backend keeps:
 * - **Appends per attempt.** An attempt (one run of `presswork send`) only
 *   ever adds records of its own: ledger parts, suppressions, its frozen
 *   issue, completions, and its own lock. Two attempts never write the same
 *   record, so writes cannot conflict.
 * - **Readers take the union.** The state is every record any attempt wrote;
 *   nothing is read from "the latest file". A record that went missing
 *   (a ledger part deleted by hand) takes only its own events with it.
 * - **write() is atomic and checked.** Given a function, it calls it with
 *   the newest summary inside the same transaction (git: after fetching the
 *   tip, before the push that fails if the tip moved; a database: in a
 *   serialisable transaction) and writes the changes it returns; it throws
 *   to abort. Locks rely on it.
 * - **No addresses.** Recipients are keyed hashes (see addressKey).
 *
 * Backends: the git branch (git-store.ts), and the database (db-store.ts,
 * Kysely over SQLite or PostgreSQL), which maps each StateChange to a row:
 * ledger parts to rows of (issue, attempt, offset, text), locks to rows it
 * updates under the guard's check.
 */

/** One run of `presswork send` (or `--finalize`): names every record it writes. */
export interface Attempt {
  /** Unique and sortable: the start time (compact ISO) and who ran it, e.g. `20261130T071705.120Z.gh-812-2-send`. */
  name: string;
  /** When it started, ISO 8601. */
  started: string;
  /** A GitHub Actions run, when it ran there: a re-run of the same run takes over its lock at once. */
  github?: { runId: string; runAttempt: number; job: string };
  /** Where it ran, to tell a process that is gone on this machine. */
  host: string;
  pid: number;
}

/** Which part of the list a send covers: shard `index` of `count`, or the whole list. */
export interface Shard {
  index: number;
  count: number;
}

/** An issue as it was sent: written once, when its first attempt starts, and never re-rendered. */
export interface FrozenIssue {
  number: number;
  /** The issue's date (its first attempt's clock), ISO 8601. */
  date: string;
  subject: string;
  /** Permanent ids of its articles, in order. */
  articles: string[];
  /** Ids of the articles it was planned with and left out to fit Gmail's size; absent in an issue sent by an earlier version, which did not say. */
  leftOut?: string[];
  /**
   * What subscribers got, with personalisation tokens (%%name%%,
   * %%unsubscribe_url%%) still in it. Absent for issues carried over from a
   * record that had no content.
   */
  content?: { html: string; text: string; preheader: string; webUrl: string };
  /**
   * What the issue's page on the site shows, as it was when the send
   * started. Absent for issues frozen before pages were (their pages are
   * built from the articles as they are now); a reader that does not know
   * its `version` does the same.
   */
  page?: FrozenPage;
}

/** An issue's web page as frozen with the issue: plain data, versioned. */
export interface FrozenPage {
  version: 1;
  /** The issue carried its articles in full, and the page shows their bodies. */
  full: boolean;
  /** The editor's note as web HTML, or "". */
  noteHtml: string;
  articles: FrozenArticle[];
}

/** An article as an issue's page shows it, as it was when the send started. */
export interface FrozenArticle {
  /** Its permanent id. */
  id: string;
  title: string;
  /** The dek, or "". */
  subtitle: string;
  /** Site path of the article's page, e.g. "articles/x/": the page's address follows the site's. */
  path: string;
  /** Its first tag's name, or "". */
  tag: string;
  /** Its authors' names. */
  authors: string[];
  /** Publication date, ISO 8601. */
  published: string;
  readingMinutes: number;
  keyPoints: string[];
  /** The same points as the site shows them, as inline HTML; absent in an issue frozen before points kept their links. */
  keyPointsHtml?: string[];
  summary: string;
  /** Its picture: the site path of the image, its alt text and caption. */
  image?: { path: string; alt: string; caption: string };
  /** The body as web HTML, in an issue sent in full. */
  body?: string;
}

/** The counts of a finished send. */
export interface SendCounts {
  sent: number;
  failed: number;
  suppressed: number;
}

/** An issue in the state: started (frozen), and perhaps complete. */
export interface IssueState {
  issue: FrozenIssue;
  /** The attempt that froze it, and when. */
  startedBy: string;
  /** Set once an unsharded send went through the whole list, or `--finalize` found every shard done; the latest counts. */
  complete?: SendDone;
  /** Shards that went through their part of the list, by "i/N". */
  shardsDone: ReadonlyMap<string, SendDone>;
}

/** A send, or a shard of one, that went through its whole list: when, which attempt, and its counts. */
export interface SendDone {
  at: string;
  attempt: string;
  counts: SendCounts;
}

/** A held send lock: one per attempt and issue. */
export interface LockRecord {
  issue: number;
  attempt: Attempt;
  /** The part of the list the holder sends; undefined for the whole list (or `--finalize`). */
  shard?: Shard;
  since: string;
  /** Renewed at every checkpoint: a lock silent for long is stale. */
  heartbeat: string;
}

/** A part of one attempt's ledger: its header and event lines (see ledger.ts), at most 25 MB. */
export interface LedgerPart {
  issue: number;
  attempt: string;
  /** Byte offset of its first line in the attempt's journal: parts of one attempt sort by it. */
  offset: number;
  /** The part's text: header line, then event lines. */
  text: string;
}

/** A part of one attempt's suppressions: one "key code issue date" line each. */
export interface SuppressionPart {
  attempt: string;
  offset: number;
  text: string;
}

/** What was carried over from the files of earlier versions (newsletter/ledger/, sent.json, suppressed.jsonl). */
export interface Migration {
  at: string;
  issues: number;
  ledgers: number;
  suppressions: number;
}

/** Left on the state branch once its state was carried into a database: the branch is no longer the state. */
export interface Moved {
  at: string;
  /** Where it went, as the database store describes itself (never a password). */
  to: string;
}

/** One record an attempt adds (or, for its own lock, replaces or removes). */
export type StateChange =
  | { kind: "ledger"; part: LedgerPart }
  | { kind: "suppressions"; part: SuppressionPart }
  | { kind: "started"; issue: FrozenIssue; attempt: string }
  | { kind: "complete"; issue: number; attempt: string; at: string; counts: SendCounts }
  | { kind: "shard-done"; issue: number; shard: Shard; attempt: string; at: string; counts: SendCounts }
  | { kind: "lock"; lock: LockRecord }
  | { kind: "unlock"; issue: number; attempt: string }
  | { kind: "migrated"; migration: Migration }
  | { kind: "moved"; moved: Moved };

/** The small part of the state: issues, locks, migration. Cheap to read; what guards see. */
export interface StateSummary {
  /** Started issues by number, ascending. A store may hand the same objects to several readers: none changes them. */
  readonly issues: readonly Readonly<IssueState>[];
  readonly locks: readonly Readonly<LockRecord>[];
  readonly migration?: Migration;
  /** Set on a state branch whose state was carried into a database. */
  readonly moved?: Moved;
}

/** Where the state of a send lives. */
export interface StateStore {
  /** Where it is, for messages: never a token. */
  readonly description: string;
  /** Things a reader should know, gathered while reading (a ledger part deleted by hand whose events still count). */
  readonly notices: readonly string[];
  /** How often a running send saves to it, when cheaper than the default minute (a database). */
  readonly checkpointMs?: number;
  /** Brings the newest state from where it is shared (git: fetches the branch's tip). A no-op for a local store. */
  refresh(): Promise<void>;
  /** Issues, locks and migration, as of the last refresh. */
  summary(): Promise<StateSummary>;
  /** Every ledger part of an issue, every attempt's, in the order they were written (attempt start, then offset). */
  ledger(issue: number): AsyncIterable<LedgerPart>;
  /** Every suppression part. */
  suppressions(): AsyncIterable<SuppressionPart>;
  /**
   * Adds changes atomically on top of the newest state, retrying when
   * another writer got there first. `changes` may be a function of the
   * newest summary, run again on every retry, that throws to abort. Throws
   * StateSaveError when the state cannot be saved (no permission, a
   * protected branch, no network). `message` describes the change (git:
   * the commit message).
   */
  write(changes: readonly StateChange[] | ((summary: StateSummary) => readonly StateChange[]), message: string): Promise<void>;
  /**
   * Calls `onLost` once if the store goes away while a send runs (a
   * database server shut down, a database file removed), so the send can
   * stop before it mails anyone else. Resolves to a function that stops
   * watching. Absent where nothing can be watched (git: a push fails).
   */
  watch?(onLost: (reason: string) => void): Promise<() => Promise<void>>;
  /** Lets go of connections; the store is not used afterwards. */
  close(): Promise<void>;
}
