import { Worker } from "node:worker_threads";
import { compiledPath } from "../pipeline/compiled.js";
import { PressworkError } from "../errors/error.js";
import type { WatchReply } from "./watch-worker.js";

/** The project's inputs, watched. */
export interface InputWatch {
  /** The folders watched once watching began, relative to the project root ("" for the root itself). */
  watched: () => string[];
  close: () => Promise<void>;
}

/**
 * Watches the project's inputs under `root` (see watch-worker.ts) in a
 * worker thread, calling `changed` on each change. chokidar reads a whole
 * folder again, with an lstat for each entry, on every change in it (5,000
 * of them for 5,000 articles): its work there goes on beside a rebuild
 * instead of inside it. Resolves once the inputs are watched, and rejects
 * with chokidar's error if they cannot be (a `system` one, with its code,
 * when the system refused); errors after that, and a thread that stops, go
 * to `log`.
 * `thread` is the worker's module (tests give their own).
 */
export async function watchInputs(root: string, changed: () => void, log: (line: string) => void, thread = compiledPath(import.meta.url, "watch-worker.js")): Promise<InputWatch> {
  const worker = new Worker(thread, { workerData: { root } });
  let watched: string[] = [];
  let ready = false;
  let closing = false;
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error) => {
      if (ready) log(`watching the inputs: ${error.message}`);
      else reject(error);
    };
    worker.on("message", (reply: WatchReply) => {
      if (closing) return;
      if (reply.type === "error") return failed(Object.assign(new PressworkError(reply.system ? "system" : "internal", reply.message), reply.system));
      if (reply.type === "change") return changed();
      watched = reply.watched;
      ready = true;
      resolve();
    });
    worker.on("error", failed);
    worker.on("exit", (code) => {
      if (!closing) failed(new PressworkError("internal", `the watcher stopped (exit code ${code}): restart the preview to see changes`));
    });
  }).catch(async (error: unknown) => {
    closing = true;
    await worker.terminate();
    throw error;
  });
  return {
    watched: () => watched,
    close: async () => {
      closing = true;
      await worker.terminate();
    },
  };
}
