import { Worker } from "node:worker_threads";
import { VFile } from "vfile";
import { pageRenderer, type PageSpec } from "../site/pages.js";
import { type DateSetting, type TemplateSources } from "../templates/liquid.js";
import { compiledPath } from "./compiled.js";
import type { PageWorkerReply } from "./page-worker.js";
import { contentError } from "../errors/error.js";
import { fileError } from "../errors/rules.js";

/** Below this many pages a second thread costs more than it saves. */
const SHARE_FROM = 400;
/** Pages rendered at a time, here or in the thread: each batch is handed on as it is done, so no more are held. */
const BATCH = 48;
/** Batches the thread holds at once, so it never waits while this thread is busy rendering. */
const THREAD_AHEAD = 2;

/**
 * Renders the site's pages a batch at a time, handing each page to `done`
 * as it is made (in no particular order), so memory holds a few batches,
 * not the site. A large set is shared with a worker thread: Liquid takes a
 * third of a cold build of thousands of pages, and after the article bodies
 * the second core has nothing else to do. The pages are the same bytes
 * either way. `alongside` is other work for this thread (the feeds): done
 * first, one task at a time, handing the thread its next batch between
 * tasks; then this thread renders pages too. Returns how many pages the
 * thread rendered. A template error in either thread is thrown as a content
 * error, once this thread's current task or batch is done.
 */
export async function renderPagesShared(
  specs: readonly PageSpec[],
  sources: TemplateSources,
  site: DateSetting,
  done: (file: string, html: string) => void,
  alongside: ReadonlyArray<() => void> = [],
): Promise<{ inThread: number }> {
  const render = pageRenderer(sources, site);
  const queue: PageSpec[][] = [];
  for (let i = 0; i < specs.length; i += BATCH) queue.push(specs.slice(i, i + BATCH));
  const renderHere = (batch: readonly PageSpec[]) => {
    for (const spec of batch) done(spec.file, render(spec));
  };
  if (specs.length < SHARE_FROM) {
    for (const task of alongside) task();
    for (const batch of queue) renderHere(batch);
    return { inThread: 0 };
  }
  const worker = new Worker(compiledPath(import.meta.url, "page-worker.js"), { workerData: { sources, site } });
  let inThread = 0;
  let inFlight = 0;
  // Once the thread failed, this thread stops too: the error is thrown when threadDone is awaited.
  let failed = false;
  const threadDone = new Promise<void>((resolve, reject) => {
    const next = () => {
      const batch = queue.shift();
      if (!batch) return;
      inFlight++;
      // The batch's scopes are copied to the thread here: an article page's HTML is read now, once.
      worker.postMessage(batch);
    };
    worker.on("message", (reply: PageWorkerReply) => {
      inFlight--;
      if ("error" in reply) {
        const file = new VFile({ path: reply.error.path });
        fileError(file, "template", reply.error.reason, { place: { line: reply.error.line, column: reply.error.column } });
        failed = true;
        reject(contentError(file));
        return;
      }
      for (const [file, html] of reply.pages) done(file, html);
      inThread += reply.pages.length;
      next();
      if (queue.length === 0 && inFlight === 0) resolve();
    });
    worker.on("error", (error) => {
      failed = true;
      reject(error);
    });
    for (let i = 0; i < THREAD_AHEAD; i++) next();
  });
  // Rejections are taken when awaited below; an error here first leaves it unawaited.
  threadDone.catch(() => {});
  try {
    for (const task of alongside) {
      if (failed) break;
      task();
      // Lets the thread's replies in, and hands it its next batch.
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (let batch = queue.shift(); batch && !failed; batch = queue.shift()) {
      renderHere(batch);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await threadDone;
  } finally {
    await worker.terminate();
  }
  return { inThread };
}
