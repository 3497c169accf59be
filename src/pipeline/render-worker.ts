import type { RenderTarget } from "../markdown/render.js";
import type { CachedRender } from "../cache/renders.js";
import type { RenderJob } from "./render-job.js";
import { makeResolver, type LinkTarget } from "./resolve.js";
import { PressworkError } from "../errors/error.js";

/** What the parent sends a render worker: the link targets, then bodies to render. */
export type WorkerRequest =
  | { type: "init"; targets: LinkTarget[]; assets: string[]; now: number; basePath: string; siteUrl: string; bareUrls: boolean }
  | { type: "render"; jobs: RenderJob[] };

/** What a render worker sends back for each batch. */
export interface WorkerReply {
  results: Array<[key: string, render: CachedRender]>;
}

let context: Omit<RenderTarget, "pageUrl"> | undefined;
// Loaded from the start: a worker started ahead of need has it ready by its first batch.
const pipeline = import("./render-job.js");

async function handle(request: WorkerRequest): Promise<void> {
  switch (request.type) {
    case "init":
      context = { basePath: request.basePath, siteUrl: request.siteUrl, bareUrls: request.bareUrls, resolve: makeResolver(request.targets, new Set(request.assets), request.now) };
      return;
    case "render": {
      if (!context) throw new PressworkError("internal", "render worker used before init");
      const { prepareJobs, runJob } = await pipeline;
      await prepareJobs(request.jobs);
      const target = context;
      process.send?.({ results: request.jobs.map((job) => [job.key, runJob(job, target)]) } satisfies WorkerReply);
    }
  }
}

// One request at a time, in the order sent: init before the first batch.
let queue = Promise.resolve();
process.on("message", (request: WorkerRequest) => {
  queue = queue.then(() => handle(request));
});
