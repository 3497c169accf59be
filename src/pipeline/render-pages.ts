import { Worker } from "node:worker_threads";
import { VFile } from "vfile";
import { renderPages, type PageSpec } from "../site/pages.js";
import { TemplateError, type TemplateSources } from "../templates/liquid.js";
import { compiledPath } from "./compiled.js";
import type { PageWorkerReply } from "./page-worker.js";

/** Below this many pages a second thread costs more than it saves. */
const SHARE_FROM = 400;

/**
 * Renders the site's pages, sharing a large set with a worker thread: every
 * other page goes to the thread, so both halves cost about the same. Liquid
 * takes a third of a cold build of thousands of pages, and after the article
 * bodies the second core has nothing else to do. The pages are the same
 * bytes either way, in the order of `specs`.
 */
export async function renderPagesShared(specs: readonly PageSpec[], sources: TemplateSources): Promise<Map<string, string>> {
  if (specs.length < SHARE_FROM) return renderPages(specs, sources);
  const theirs = specs.filter((_, i) => i % 2 === 1);
  const worker = new Worker(compiledPath(import.meta.url, "page-worker.js"), { workerData: { specs: theirs, sources } });
  const reply = new Promise<PageWorkerReply>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  let mine: Map<string, string>;
  try {
    mine = renderPages(
      specs.filter((_, i) => i % 2 === 0),
      sources,
    );
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  const answer = await reply;
  if ("error" in answer) {
    const file = new VFile({ path: answer.error.path });
    file.message(answer.error.reason, { place: { line: answer.error.line, column: answer.error.column }, ruleId: "template", source: "site" }).fatal = true;
    throw new TemplateError(file);
  }
  const other = new Map(answer.pages);
  return new Map(specs.map((spec) => [spec.file, (mine.get(spec.file) ?? other.get(spec.file)) as string]));
}
