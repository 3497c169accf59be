import { tallyIssues, type IssueFeedback } from "../feedback/rules.js";
import type { IssueState } from "../state/store.js";
import { databaseInUse } from "../store/url.js";

/** What the subscriber database says before a send. */
export interface ListFeedback {
  /** Keys never to mail: stopped subscribers and the database's suppression list. */
  stopped: Set<string>;
  /** The last issues sent before this one (oldest first), with the bounces and complaints recorded for them. */
  recent: IssueFeedback[];
  /** Where it was read, for messages: never a password. */
  description: string;
}

/** What reading the database's feedback needs. */
export interface ListFeedbackOptions {
  root: string;
  /** DATABASE_URL. */
  url: string | undefined;
  list: string;
  secret: string;
  /** The issues the state records, for their sent counts. */
  issues: readonly IssueState[];
  /** The issue about to be sent: `recent` holds those before it. */
  before: number;
  /** How many issues `recent` holds at most. */
  last?: number;
}

/** Messages an issue's send had accepted by the relay: its completion's count, or its shards' together. */
export function sentCount(state: IssueState): number {
  if (state.complete) return state.complete.counts.sent;
  let sent = 0;
  for (const done of state.shardsDone.values()) sent += done.counts.sent;
  return sent;
}

/**
 * Reads the subscriber database, when one is in use (DATABASE_URL, or the
 * default file): the keys it says never to mail, and the bounces and
 * complaints of the last issues sent. Undefined without a database. Throws
 * when the database is configured but cannot be read: a send must not mail
 * addresses it cannot check.
 */
export async function readListFeedback(options: ListFeedbackOptions): Promise<ListFeedback | undefined> {
  if (!databaseInUse(options.url, options.root)) return undefined;
  const [{ openStore }, { SubscriberList }] = await Promise.all([import("../store/database.js"), import("../store/subscribers.js")]);
  const store = await openStore({ url: options.url, root: options.root, poolSize: 2 });
  try {
    const list = new SubscriberList(store, options.list, options.secret);
    const stopped = new Set<string>();
    for await (const key of list.stoppedKeys()) stopped.add(key);
    const sent = options.issues.filter((s) => s.issue.number < options.before && sentCount(s) > 0).slice(-(options.last ?? 5));
    const events = await list.issueEvents(sent.map((s) => s.issue.number));
    const tallies = tallyIssues(
      events.map((e) => ({ kind: e.type === "complained" ? "complaint" : e.bounce === "soft" ? "soft-bounce" : "hard-bounce", issue: e.issue, key: e.key })),
      new Map(sent.map((s) => [s.issue.number, sentCount(s)])),
    );
    return { stopped, recent: tallies, description: store.description };
  } finally {
    await store.close();
  }
}
