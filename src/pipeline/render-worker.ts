import type { Config } from "../config/schema.js";
import type { RenderTarget } from "../markdown/render.js";
import type { CachedRender } from "./cache.js";
import { parseMeta, type ParsedMeta } from "./meta-cache.js";
import type { RenderJob } from "./render-job.js";
import { makeResolver, type LinkTarget } from "./resolve.js";

/** What the parent sends a render worker: shares of the front matter to read, then the link targets, then bodies to render. */
export type WorkerRequest =
  | { type: "meta-context"; config: Config; assets: Array<[string, number]> }
  | { type: "meta"; sources: ReadonlyArray<{ path: string; text: string }> }
  | { type: "init"; targets: LinkTarget[]; assets: string[]; now: number; basePath: string; siteUrl: string; bareUrls: boolean }
  | { type: "render"; jobs: RenderJob[] };

/** What a render worker sends back: the front matter read, in the order asked, or each batch of renders. */
export type WorkerReply = { type: "meta"; parsed: ParsedMeta[] } | { type: "render"; results: Array<[key: string, render: CachedRender]> };

let metaContext: { config: Config; assets: Map<string, number> } | undefined;
let context: Omit<RenderTarget, "pageUrl"> | undefined;

async function handle(request: WorkerRequest): Promise<void> {
  switch (request.type) {
    case "meta-context":
      metaContext = { config: request.config, assets: new Map(request.assets) };
      return;
    case "meta": {
      if (!metaContext) throw new Error("render worker asked for front matter before its context");
      const parsed: ParsedMeta[] = [];
      for (const source of request.sources) parsed.push(await parseMeta(source.path, source.text, metaContext.config, metaContext.assets));
      process.send?.({ type: "meta", parsed } satisfies WorkerReply);
      return;
    }
    case "init":
      context = { basePath: request.basePath, siteUrl: request.siteUrl, bareUrls: request.bareUrls, resolve: makeResolver(request.targets, new Set(request.assets), request.now) };
      return;
    case "render": {
      if (!context) throw new Error("render worker used before init");
      // Loaded on the first batch: a worker started early reads front matter first.
      const { prepareJobs, runJob } = await import("./render-job.js");
      await prepareJobs(request.jobs);
      const target = context;
      process.send?.({ type: "render", results: request.jobs.map((job) => [job.key, runJob(job, target)]) } satisfies WorkerReply);
    }
  }
}

// One request at a time, in the order sent: front matter comes back in the order asked.
let queue = Promise.resolve();
process.on("message", (request: WorkerRequest) => {
  queue = queue.then(() => handle(request));
});
