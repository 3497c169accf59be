import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** The thread's code: its own connection to the file, a passive checkpoint every interval, closed when told. */
const THREAD = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: 0 });
db.pragma("synchronous = NORMAL");
let reported;
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
    reported = undefined;
  } catch (error) {
    // Busy or locked: the next turn tries again, and the writer's own checkpoints stay as a backstop.
    const code = error.code ?? error.message;
    if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED" || code === reported) return;
    reported = code;
    parentPort.postMessage(code);
  }
}, workerData.intervalMs);
parentPort.once("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** A thread that checkpoints a SQLite database's WAL. */
export interface Checkpointer {
  /** Stops after the checkpoint in hand, closing the thread's connection. */
  stop(): Promise<void>;
}

/**
 * Copies the pages a SQLite database's WAL holds back into the database
 * file from a thread of its own, every `intervalMs`. A checkpoint syncs the
 * WAL and the database file to disk (synchronous=NORMAL): run by the
 * connection that writes, as SQLite does after a commit that takes the
 * WAL past 1,000 pages, it blocks the event loop for tens of milliseconds
 * on a busy disk. A passive checkpoint never waits for the writer or the
 * readers, and a commit still reaches the WAL (and survives the process
 * being killed) before it is answered. A failure other than a busy
 * database goes to `onError`, once until a checkpoint succeeds again.
 */
export function startCheckpointer(path: string, intervalMs: number, onError: (message: string) => void = () => {}): Checkpointer {
  const worker = new Worker(THREAD, { eval: true, workerData: { path, intervalMs, driver: createRequire(import.meta.url).resolve("better-sqlite3") } });
  worker.unref();
  // A thread that fails leaves the writer's own checkpoints to do the work; the failure is told, once a kind.
  worker.on("message", (code: string) => onError(`the WAL checkpoint of ${path} failed (${code}); the writer checkpoints itself meanwhile`));
  worker.on("error", (error) => onError(`the WAL checkpoint thread of ${path} stopped (${error.message}); the writer checkpoints itself from now on`));
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  return {
    stop: async () => {
      // Held until it has closed: with nothing else left to do, the process would otherwise end while waiting for it.
      worker.ref();
      worker.postMessage("stop");
      await exited;
    },
  };
}
