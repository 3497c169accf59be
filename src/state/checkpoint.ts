import type { Journal } from "./journal.js";
import { type LockRecord, type StateChange, type StateStore } from "./store.js";
import { PressworkError } from "../errors/error.js";

/** At most this long between two saves of a running send's state. */
export const CHECKPOINT_MS = 60_000;

/**
 * Saves a running attempt's journal to the store at least every `everyMs`
 * and renews its lock with it. A save that fails (after the store's own
 * retries) calls `onFailure` once: the send must stop mailing, since what
 * it mails next could not be recorded. Saves never overlap.
 */
export class Checkpoints {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private busy = false;
  private failed = false;

  constructor(
    private readonly store: StateStore,
    private readonly journal: Journal,
    private readonly lock: LockRecord,
    private readonly clock: () => Date,
    private readonly onFailure: (error: Error) => void,
    private readonly everyMs = CHECKPOINT_MS,
  ) {}

  start(): void {
    // A save still running when the next is due is not doubled: the next one saves everything since.
    this.timer = setInterval(() => {
      if (!this.busy) void this.save().catch(() => {});
    }, this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Saves what the journal has that the store lacks, the lock's heartbeat
   * (or its release) and `extra` records, in one write. Refuses when the
   * lock was taken over by another send meanwhile.
   */
  save(extra: readonly StateChange[] = [], release = false): Promise<void> {
    this.busy = true;
    const run = this.running.then(async () => {
      this.journal.sync();
      const { changes, saved } = this.journal.pending();
      const mine = this.lock.attempt.name;
      const lockChange: StateChange = release ? { kind: "unlock", issue: this.lock.issue, attempt: mine } : { kind: "lock", lock: { ...this.lock, heartbeat: this.clock().toISOString() } };
      try {
        await this.store.write((summary) => {
          if (!summary.locks.some((l) => l.issue === this.lock.issue && l.attempt.name === mine)) {
            throw new PressworkError("state-save", `the lock of issue #${this.lock.issue} was taken over by another send while this one was silent: stopping`);
          }
          return [...changes, ...extra, lockChange];
        }, `${release ? "Finish" : "Checkpoint"} the send of issue #${this.lock.issue} by ${mine}`);
      } catch (error) {
        if (!this.failed) {
          this.failed = true;
          this.stop();
          this.onFailure(error as Error);
        }
        throw error;
      }
      this.journal.markSaved(saved);
    });
    this.running = run.catch(() => {}).finally(() => (this.busy = false));
    return run;
  }
}
