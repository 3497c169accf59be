// A worker thread that renders its share of the site's pages, a batch at a time (see render-pages.ts).
import { parentPort, workerData } from "node:worker_threads";
import { pageRenderer, type PageSpec } from "../site/pages.js";
import { type DateSetting, type TemplateSources } from "../templates/liquid.js";
import { isPressworkError } from "../errors/error.js";

/** What the worker sends back for each batch: its pages, or the template error that stopped it. */
export type PageWorkerReply = { pages: Array<[string, string]> } | { error: { path: string; reason: string; line: number; column: number } };

const { sources, site } = workerData as { sources: TemplateSources; site: DateSetting };
const render = pageRenderer(sources, site);

parentPort?.on("message", (specs: PageSpec[]) => {
  let reply: PageWorkerReply;
  try {
    reply = { pages: specs.map((spec) => [spec.file, render(spec)]) };
  } catch (error) {
    if (!(isPressworkError(error, "content"))) throw error;
    const message = error.files[0]?.messages[0];
    reply = { error: { path: error.files[0]?.path ?? "", reason: message?.reason ?? error.message, line: message?.line ?? 1, column: message?.column ?? 1 } };
  }
  parentPort?.postMessage(reply);
});
