import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** What the thread tells the writer. */
type Report = { failed: string } | { caughtUp: true };

/**
 * The thread's code: its own connection to the file, a passive checkpoint
 * every interval, one more whenever the writer asks (`catch-up`), closed
 * when told (`stop`). It raises `due[0]` when the WAL has grown past
 * `restartFrames`: shared memory, which the writer reads between two
 * transactions whether or not its event loop has turned since.
 */
const THREAD = `
const { parentPort, workerData } = require("node:worker_threads");
const { fdatasyncSync, openSync } = require("node:fs");
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: 0 });
db.pragma("synchronous = NORMAL");
const file = openSync(workerData.path, "r+");
let reported;
// The WAL's length at the last catch-up: still that long (no commit since), the writer has not had its turn to start it over.
let caughtUpAt = -1;
const due = workerData.due;
const checkpoint = () => {
  try {
    const [result] = db.pragma("wal_checkpoint(PASSIVE)");
    reported = undefined;
    return result;
  } catch (error) {
    // Busy or locked: the next turn tries again, and the writer's own checkpoints stay as a backstop.
    const code = error.code ?? error.message;
    if (code !== "SQLITE_BUSY" && code !== "SQLITE_LOCKED" && code !== reported) {
      reported = code;
      parentPort.postMessage({ failed: code });
    }
    return undefined;
  }
};
const timer = setInterval(() => {
  // Asked for a catch-up: free for it the moment it comes.
  if (Atomics.load(due, 0) === 1) return;
  const result = checkpoint();
  if (!result) return;
  // SQLite syncs the database file only when a checkpoint empties the WAL, all that was copied since at once:
  // synced here a little at a time, the catch-up the writer waits for has only its own pages left to sync.
  if (result.checkpointed > 0) fdatasyncSync(file);
  if (result.log >= workerData.restartFrames && result.log !== caughtUpAt) {
    Atomics.store(due, 0, 1);
  }
}, workerData.intervalMs);
parentPort.on("message", (message) => {
  if (message === "catch-up") {
    caughtUpAt = checkpoint()?.log ?? -1;
    Atomics.store(due, 0, 0);
    parentPort.postMessage({ caughtUp: true });
    return;
  }
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** How the checkpoint thread works, and what it tells. */
export interface CheckpointerOptions {
  /** How often the thread checkpoints. */
  intervalMs: number;
  /** WAL pages past which the writer should let the thread catch up (see Checkpointer.catchUp). */
  restartFrames: number;
  /** A failure other than a busy database, once until a checkpoint succeeds again. */
  onError: (message: string) => void;
  /** The thread has ended (stopped, or failed): the writer checkpoints itself from then on. */
  onEnd: () => void;
}

/** A thread that checkpoints a SQLite database's WAL. */
export interface Checkpointer {
  /** The WAL has grown long: the writer should hold back once while the thread catches up (see catchUp). */
  readonly restartDue: boolean;
  /**
   * Checkpoints everything committed so far from the thread, and resolves
   * when done: with no commit meanwhile, the writer's next transaction
   * starts the WAL over from its beginning. The event loop stays free.
   */
  catchUp(): Promise<void>;
  /** Stops after the checkpoint in hand, closing the thread's connection. */
  stop(): Promise<void>;
}

/**
 * Copies the pages a SQLite database's WAL holds back into the database
 * file from a thread of its own, every `intervalMs`. Run by the connection
 * that writes, as SQLite does after a commit that takes the WAL past 1,000
 * pages, a checkpoint (and the sync of the database file that ends one that
 * empties the WAL) blocks the event loop for tens of milliseconds on a busy
 * disk. A passive checkpoint never waits for the writer or the readers, and
 * a commit still reaches the WAL (and survives the process being killed)
 * before it is answered.
 *
 * SQLite starts the WAL over only when a write begins with every frame
 * copied back; under a steady stream of commits that moment never comes,
 * and the WAL would grow until the writer's own checkpoint stops it. So past
 * `restartFrames` the thread says so (`restartDue`) and the writer, before
 * its next transaction, waits for one catch-up checkpoint (`catchUp`): the
 * pages copied since the thread's last turn, a few milliseconds.
 */
export function startCheckpointer(path: string, options: CheckpointerOptions): Checkpointer {
  const due = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(THREAD, { eval: true, workerData: { path, intervalMs: options.intervalMs, restartFrames: options.restartFrames, due, driver: createRequire(import.meta.url).resolve("better-sqlite3") } });
  worker.unref();
  let running = true;
  let caughtUp: (() => void) | undefined;
  let catchingUp: Promise<void> | undefined;
  worker.on("message", (report: Report) => {
    if ("caughtUp" in report) caughtUp?.();
    else options.onError(`the WAL checkpoint of ${path} failed (${report.failed}); the writer checkpoints itself meanwhile`);
  });
  worker.on("error", (error) => options.onError(`the WAL checkpoint thread of ${path} stopped (${error.message}); the writer checkpoints itself from now on`));
  const exited = new Promise<void>((resolve) =>
    worker.once("exit", () => {
      running = false;
      caughtUp?.();
      options.onEnd();
      resolve();
    }),
  );
  return {
    get restartDue() {
      return running && Atomics.load(due, 0) === 1;
    },
    catchUp: () => {
      catchingUp ??= new Promise<void>((resolve) => {
        caughtUp = resolve;
        if (running) worker.postMessage("catch-up");
        else resolve();
      }).then(() => {
        caughtUp = undefined;
        catchingUp = undefined;
      });
      return catchingUp;
    },
    stop: async () => {
      running = false;
      // Held until it has closed: with nothing else left to do, the process would otherwise end while waiting for it.
      worker.ref();
      worker.postMessage("stop");
      await exited;
    },
  };
}
