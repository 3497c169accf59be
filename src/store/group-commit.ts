import { isUnavailable } from "./database.js";
import { PressworkError } from "../errors/error.js";

type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

/** How many batches a group commit ran and how many requests they held. */
export interface GroupCommitStats {
  batches: number;
  requests: number;
  /** The most requests one batch held. */
  largest: number;
}

/**
 * Group commit: the requests that arrive while a batch is being committed
 * (or in the same turn of the event loop) are applied together, in one
 * transaction of `run`, and each caller is answered only once that
 * transaction has committed, with its own outcome. Up to `concurrency`
 * batches run at once (one on SQLite's single connection); at low load a
 * batch is a single request and waits for nothing.
 *
 * `run` gets the requests in arrival order and returns their outcomes in
 * the same order, once committed. When it fails (an error in one request
 * rolled the transaction back), each request is run again as a batch of
 * its own, so one request's error is its answer alone. A
 * database that cannot be reached fails every request of the batch at
 * once: each would wait out the same timeout.
 */
export class GroupCommit<I, O> {
  private waiting: Array<{ item: I; resolve: (value: O) => void; reject: (error: unknown) => void }> = [];
  private running = 0;
  private scheduled = false;
  private readonly max: number;
  private readonly concurrency: number;
  readonly stats: GroupCommitStats = { batches: 0, requests: 0, largest: 0 };

  constructor(
    private readonly run: (items: readonly I[]) => Promise<readonly O[]>,
    options: { concurrency?: number; max?: number } = {},
  ) {
    this.concurrency = options.concurrency ?? 1;
    this.max = options.max ?? 256;
  }

  /** Queues a request for the next batch; resolves once the batch that holds it has committed. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Runs the next batch after the requests of this turn of the event loop have come in. */
  private schedule(): void {
    if (this.running >= this.concurrency || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.running >= this.concurrency || this.waiting.length === 0) return;
    this.running++;
    const batch = this.waiting.splice(0, this.max);
    this.stats.batches++;
    this.stats.requests += batch.length;
    this.stats.largest = Math.max(this.stats.largest, batch.length);
    try {
      let settled: ReadonlyArray<Settled<O>>;
      try {
        settled = (await this.run(batch.map((b) => b.item))).map((value) => ({ ok: true, value }));
      } catch (error) {
        if (batch.length === 1 || isUnavailable(error)) settled = batch.map(() => ({ ok: false, error }));
        else settled = await Promise.all(batch.map(async (b) => this.alone(b.item)));
      }
      batch.forEach((b, i) => {
        const outcome = settled[i] ?? { ok: false, error: new PressworkError("internal", "the batch gave no outcome for this request") };
        if (outcome.ok) b.resolve(outcome.value);
        else b.reject(outcome.error);
      });
    } finally {
      this.running--;
      if (this.waiting.length > 0) this.schedule();
    }
  }

  /** One request in a transaction of its own: after a batch failed, its error is its own. */
  private async alone(item: I): Promise<Settled<O>> {
    try {
      const [value] = await this.run([item]);
      return value === undefined ? { ok: false, error: new PressworkError("internal", "the batch gave no outcome for this request") } : { ok: true, value };
    } catch (error) {
      return { ok: false, error };
    }
  }
}
