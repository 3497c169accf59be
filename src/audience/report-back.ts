import type { SubscriberSource } from "./source.js";
import { PressworkError } from "../errors/error.js";

/** A hard bounce the send met (a 5xx about the mailbox at RCPT TO), or one on its suppression list. */
export interface BounceReport {
  /** The address's keyed hash, as the ledger and the subscriber database name it. */
  key: string;
  issue: number;
  at: Date;
  /** The server's reply, addresses masked. */
  detail?: string;
}

/**
 * Reports the hard bounces a send meets back to where its list came from,
 * as subscriber events: the database (`--subscribers db`) or the service
 * (`--subscribers https://…/api/subscribers`, POST /api/events). Each
 * bounce is one event per issue and address (its id names both), so
 * reporting one again changes nothing. Reports go out in batches while the
 * send runs; one that fails is kept for the next try, and the send goes on:
 * its own suppression list keeps the address out meanwhile.
 */
export interface ListReporter {
  /** Where reports go, for messages. */
  readonly description: string;
  /** Queues a bounce; sent with the next batch. */
  add(bounce: BounceReport): void;
  /** Sends what is queued. Returns why it could not, leaving it queued; never throws. */
  flush(): Promise<string | undefined>;
  /** How many bounces are queued and not yet reported. */
  readonly pending: number;
  /** Flushes and lets go of connections; returns why the last flush failed, if it did. */
  close(): Promise<string | undefined>;
}

/** What a reporter needs besides its source. */
export interface ReporterOptions {
  /** PRESSWORK_SECRET, which keys the database's hashes. */
  secret: string;
  /** The newsletter's list id: part of each event's id. */
  list: string;
  /** Send a batch once this many are queued (default 100), and every `everyMs` (default 5 s). */
  batch?: number;
  everyMs?: number;
}

/** The events endpoint takes at most this many a request. */
const API_BATCH = 1000;

/** A reporter for a list read from the database or a service; undefined for a file, which has nowhere to report to. */
export function listReporter(source: SubscriberSource, options: ReporterOptions): ListReporter | undefined {
  if ("database" in source) return new Reporter("the subscriber database", databaseSink(source, options), options);
  if ("url" in source) {
    const events = new URL("events", new URL(".", source.url));
    return new Reporter(`${events.origin}${events.pathname}`, serviceSink(events.href, source.token, options.list), options);
  }
  return undefined;
}

/** Records a batch; resolves once it is recorded, throws when it is not. */
type Sink = { record: (bounces: readonly BounceReport[]) => Promise<void>; close: () => Promise<void> };

class Reporter implements ListReporter {
  private queue: BounceReport[] = [];
  private running: Promise<string | undefined> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failure: string | undefined;
  private closed: Promise<string | undefined> | undefined;

  constructor(
    readonly description: string,
    private readonly sink: Sink,
    private readonly options: ReporterOptions,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  add(bounce: BounceReport): void {
    this.queue.push(bounce);
    if (this.queue.length >= (this.options.batch ?? 100)) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.options.everyMs ?? 5000);
      this.timer.unref();
    }
  }

  flush(): Promise<string | undefined> {
    // One batch at a time, in order; a flush asked for meanwhile runs after.
    const run = (this.running ?? Promise.resolve(undefined)).then(async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, API_BATCH);
        try {
          await this.sink.record(batch);
        } catch (error) {
          return (this.failure = (error as Error).message);
        }
        this.queue = this.queue.slice(batch.length);
      }
      return (this.failure = undefined);
    });
    this.running = run;
    return run;
  }

  close(): Promise<string | undefined> {
    return (this.closed ??= this.closeNow());
  }

  private async closeNow(): Promise<string | undefined> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    await this.sink.close().catch(() => {});
    return this.failure;
  }
}

/** The event's id: one per list, issue and address, whichever way it is reported. */
const eventId = (list: string, bounce: BounceReport) => `${list}/issue-${bounce.issue}/${bounce.key}`;

function databaseSink(source: { database: string | undefined; root: string; list: string }, options: ReporterOptions): Sink {
  let opened: Promise<{ list: import("../store/subscribers.js").SubscriberList; close: () => Promise<void> }> | undefined;
  const open = () =>
    (opened ??= (async () => {
      const [{ openStore }, { SubscriberList }] = await Promise.all([import("../store/database.js"), import("../store/subscribers.js")]);
      const store = await openStore({ url: source.database, root: source.root, poolSize: 2 });
      return { list: new SubscriberList(store, source.list, options.secret), close: () => store.close() };
    })().catch((error: unknown) => {
      opened = undefined;
      throw error;
    }));
  return {
    async record(bounces) {
      const { list } = await open();
      await list.recordAll(bounces.map((b) => ({ id: eventId(options.list, b), type: "bounced", bounce: "hard", key: b.key, at: b.at, source: "send", issue: b.issue, detail: b.detail })));
    },
    async close() {
      if (opened) await (await opened).close();
    },
  };
}

function serviceSink(url: string, token: string, list: string): Sink {
  return {
    async record(bounces) {
      const events = bounces.map((b) => ({ id: eventId(list, b), type: "bounced", bounce: "hard", key: b.key, at: b.at.toISOString(), source: "send", issue: b.issue, ...(b.detail ? { detail: b.detail.slice(0, 500) } : {}) }));
      let response: Response;
      try {
        response = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ events }), signal: AbortSignal.timeout(30_000) });
      } catch (error) {
        throw new PressworkError("feedback-report", `cannot reach ${url} (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message})`);
      }
      if (!response.ok) throw new PressworkError("feedback-report", `${url} answered ${response.status}${response.status === 401 ? ": it refused PRESSWORK_API_TOKEN" : ` ${(await response.text().catch(() => "")).slice(0, 200)}`}`);
      await response.arrayBuffer().catch(() => undefined);
    },
    close: async () => {},
  };
}
