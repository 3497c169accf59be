import { setFlagsFromString } from "node:v8";
import { Worker, type ResourceLimits } from "node:worker_threads";
import { PressworkError } from "../errors/error.js";
import { io } from "./io.js";

/**
 * Old-generation heap of a send, in MB. A million recipients are under
 * 100 MB of live data, but V8 left alone lets garbage grow the heap to twice
 * that before it collects. PRESSWORK_SEND_HEAP_MB raises it.
 */
export const SEND_HEAP_MB = 160;

/** Exit codes of a send stopped by a signal, as a shell reports a process killed by it. */
export const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Resource limits for a worker whose old generation stays under `heapMb`.
 * Under a small cap V8 also grows the heap by only 1.3x between full
 * collections, which ran 34 of them in a 10,000-message send and cost a third
 * of its speed; growing 4x, as V8 does for large heaps, runs 4, and the cap
 * still holds.
 */
export function boundedHeap(heapMb: number): ResourceLimits {
  setFlagsFromString("--heap-growing-percent=300");
  return { maxOldGenerationSizeMb: heapMb };
}

/**
 * Runs the command line in a worker thread whose heap is capped, so a send
 * over a million subscribers stays within 300 MB. A thread, not a child
 * process: a SIGKILL takes it down with the process, and no orphan keeps
 * sending. SIGINT and SIGTERM go to the worker, which stops gracefully; a
 * third one ends the process at once.
 */
export async function runBounded(argv: string[], heapMb: number): Promise<void> {
  const worker = new Worker(new URL("./worker.js", import.meta.url), {
    workerData: { argv, terminal: Boolean(process.stderr.isTTY) },
    resourceLimits: boundedHeap(heapMb),
  });
  let received = 0;
  const forward = (signal: NodeJS.Signals) => {
    if (++received >= 3) process.exit(SIGNAL_EXIT[signal] ?? 1);
    worker.postMessage({ signal });
  };
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      worker.once("error", reject);
      worker.once("exit", resolve);
    });
    if (code !== 0) io.fail(code);
  } catch (error) {
    if ((error as { code?: string }).code !== "ERR_WORKER_OUT_OF_MEMORY") throw error;
    throw new PressworkError("send-heap", `the ${argv[0]} command ran out of its ${heapMb} MB heap. A JSON array list is read whole: give large lists as CSV or JSON Lines, which stream, or raise the limit with PRESSWORK_SEND_HEAP_MB`);
  } finally {
    process.off("SIGINT", forward);
    process.off("SIGTERM", forward);
  }
}
