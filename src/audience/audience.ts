import { parseAddress } from "./address.js";
import { readSubscribers, type SubscriberSource } from "./source.js";

/** A subscriber to mail: validated address, optional name, and its keyed hash. */
export interface Recipient {
  address: string;
  name?: string;
  /** HMAC of the address: the only form the ledger, the suppression list and the shard split see. */
  key: string;
  fields: Record<string, string>;
  /** Where the subscriber is in the list, for messages about it. */
  line: number;
}

/** Counts of what the list held, for the report. */
export interface AudienceCounts {
  rows: number;
  invalid: number;
  duplicates: number;
  suppressed: number;
  otherShards: number;
}

/** A row skipped as invalid: its line and why, never the address. */
export interface InvalidRow {
  line: number;
  reason: string;
}

/** Statuses that mean "do not mail". */
const INACTIVE = new Set(["unsubscribed", "bounced", "complained"]);
const STATUSES = new Set(["active", ...INACTIVE]);

/** Options for turning a list into recipients. */
export interface AudienceOptions {
  source: SubscriberSource;
  /** HMAC of an address. */
  keyOf: (address: string) => string;
  /** Keys on the suppression list. */
  suppressed: ReadonlySet<string>;
  /** Only this shard: recipients whose key falls in shard `index` (1-based) of `count`. */
  shard?: { index: number; count: number };
  onInvalid: (row: InvalidRow) => void;
  /** True the first time a key comes by, false for a duplicate (the ledger keeps track: see Ledger.firstSight). */
  firstSight: (key: string) => boolean;
  /** A duplicate row: reported with its line, never with the address. */
  onDuplicate?: (row: InvalidRow) => void;
  /** A row the list gives as active whose key is on the suppression list (the list has not heard of its bounce). */
  onSuppressed?: (key: string) => void;
}

/** Characters a name may not hold: line breaks (they would inject mail headers) and other control characters. */
const CONTROL = /[\u0000-\u001f\u007f\u0085\u2028\u2029]/;

/** Why a subscriber's name cannot be used (a line break or another control character), or undefined when it can. */
export function nameProblem(name: string): string | undefined {
  return CONTROL.test(name) ? "the name has a line break or another control character, which would break the message's headers" : undefined;
}

/** Which shard (1-based) of `count` a key falls in. */
export function shardOf(key: string, count: number): number {
  return (Number.parseInt(key.slice(0, 8), 16) % count) + 1;
}

/**
 * The keys a list stops in one of its rows (unsubscribed, bounced or
 * complained), read through before anyone is mailed: a list holding an
 * address twice, active and then stopped, means it stopped. Only a file or
 * text list can hold an address twice; the database and a service name
 * each subscriber once.
 */
export async function stoppedInList(source: SubscriberSource, keyOf: (address: string) => string): Promise<Set<string>> {
  const stopped = new Set<string>();
  if ("database" in source || "url" in source) return stopped;
  for await (const row of readSubscribers(source)) {
    if ("reason" in row || !row.status || !INACTIVE.has(row.status)) continue;
    const parsed = parseAddress(row.email);
    if (!("reason" in parsed)) stopped.add(keyOf(parsed.identity));
  }
  return stopped;
}

/**
 * Streams the recipients of a list: invalid rows (a malformed address, an
 * unknown status, a name with a line break or another control character)
 * reported by line and skipped; duplicates dropped and reported by line,
 * the address compared case-insensitively and in Unicode NFC, so the
 * composed and decomposed forms of one address are one subscriber; inactive
 * statuses and suppressed keys left out; other shards skipped. `counts` is
 * filled as the stream is read.
 */
export async function* recipients(options: AudienceOptions, counts: AudienceCounts): AsyncGenerator<Recipient> {
  for await (const row of readSubscribers(options.source)) {
    counts.rows++;
    if ("reason" in row) {
      counts.invalid++;
      options.onInvalid(row);
      continue;
    }
    const parsed = parseAddress(row.email);
    if ("reason" in parsed) {
      counts.invalid++;
      options.onInvalid({ line: row.line, reason: parsed.reason });
      continue;
    }
    if (row.status !== undefined && !STATUSES.has(row.status)) {
      counts.invalid++;
      options.onInvalid({ line: row.line, reason: `status "${row.status}" is not one of active, unsubscribed, bounced, complained` });
      continue;
    }
    const nameRefused = row.name === undefined ? undefined : nameProblem(row.name);
    if (nameRefused) {
      counts.invalid++;
      options.onInvalid({ line: row.line, reason: nameRefused });
      continue;
    }
    const key = options.keyOf(parsed.identity);
    if (!options.firstSight(key)) {
      counts.duplicates++;
      options.onDuplicate?.({ line: row.line, reason: "the address is already on the list (compared without case and in Unicode NFC): this row is skipped" });
      continue;
    }
    if ((row.status && INACTIVE.has(row.status)) || options.suppressed.has(key)) {
      counts.suppressed++;
      if (!(row.status && INACTIVE.has(row.status))) options.onSuppressed?.(key);
      continue;
    }
    if (options.shard && shardOf(key, options.shard.count) !== options.shard.index) {
      counts.otherShards++;
      continue;
    }
    yield { address: parsed.address, key, fields: row.fields, line: row.line, ...(row.name ? { name: row.name.normalize("NFC") } : {}) };
  }
}
