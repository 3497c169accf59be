import type { CachedRender } from "./cache.js";
import { prepareJobs, runJob, type RenderJob } from "./render-job.js";
import { makeResolver, type LinkTarget } from "./resolve.js";

/** What the parent sends a render worker. */
export type WorkerRequest =
  | { type: "init"; targets: LinkTarget[]; assets: string[]; now: number; basePath: string; siteUrl: string; bareUrls: boolean }
  | { type: "render"; jobs: RenderJob[] };

/** What a render worker sends back for each batch. */
export interface WorkerReply {
  results: Array<[key: string, render: CachedRender]>;
}

let context: Parameters<typeof runJob>[1] | undefined;

process.on("message", async (request: WorkerRequest) => {
  if (request.type === "init") {
    context = { basePath: request.basePath, siteUrl: request.siteUrl, bareUrls: request.bareUrls, resolve: makeResolver(request.targets, new Set(request.assets), request.now) };
    return;
  }
  await prepareJobs(request.jobs);
  if (!context) throw new Error("render worker used before init");
  const reply: WorkerReply = { results: request.jobs.map((job) => [job.key, runJob(job, context as Parameters<typeof runJob>[1])]) };
  process.send?.(reply);
});
