import type { ArticleHtml, RenderTarget } from "../markdown/render.js";
import type { CachedRender } from "../cache/renders.js";
import type { RenderJob } from "./render-job.js";
import { makeResolver, type LinkTarget } from "./resolve.js";
import { PressworkError } from "../errors/error.js";

/** What the parent sends a render worker: the link targets, then bodies to render. */
export type WorkerRequest =
  | { type: "init"; targets: readonly LinkTarget[]; assets: string[]; now: number } & Omit<RenderTarget, "pageUrl" | "resolve">
  | { type: "render"; jobs: RenderJob[] };

/**
 * A render as a worker sends it back: without the email HTML when that is
 * the feed's (a body without images, most of them), which would otherwise
 * be serialised, sent and parsed twice: a third of the bytes.
 */
export type SentRender = Omit<CachedRender, "body"> & { body: Omit<CachedRender["body"], "html"> & { html: Omit<ArticleHtml, "email"> & { email?: string } } };

/** What a render worker sends back for each batch. */
export interface WorkerReply {
  results: Array<[key: string, render: SentRender]>;
}

/** A render as sent back (see SentRender). */
function sent(render: CachedRender): SentRender {
  const { html } = render.body;
  return html.email === html.feed ? { ...render, body: { ...render.body, html: { web: html.web, feed: html.feed } } } : render;
}

let context: Omit<RenderTarget, "pageUrl"> | undefined;
// Loaded from the start: a worker started ahead of need has it ready by its first batch.
const pipeline = import("./render-job.js");

async function handle(request: WorkerRequest): Promise<void> {
  switch (request.type) {
    case "init": {
      const { type: _init, targets, assets, now, ...target } = request;
      context = { ...target, resolve: makeResolver(targets, new Set(assets), now) };
      return;
    }
    case "render": {
      if (!context) throw new PressworkError("internal", "render worker used before init");
      const { prepareJobs, runJob } = await pipeline;
      await prepareJobs(request.jobs);
      const target = context;
      // A build that is gone cannot take the reply: this process ends quietly (see "disconnect" below).
      process.send?.({ results: request.jobs.map((job) => [job.key, sent(runJob(job, target))]) } satisfies WorkerReply, undefined, {}, (error) => {
        if (error) process.exit(0);
      });
    }
  }
}

// The build stopped (a signal to it alone, as `kill PID` sends) or died: nothing is left to render for.
process.on("disconnect", () => process.exit(0));

// One request at a time, in the order sent: init before the first batch.
let queue = Promise.resolve();
process.on("message", (request: WorkerRequest) => {
  queue = queue.then(() => handle(request));
});
