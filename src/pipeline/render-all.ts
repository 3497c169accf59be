import { fork, type ChildProcess } from "node:child_process";
import type { Config } from "../config/schema.js";
import type { ArticleMeta } from "../content/article.js";
import { paths } from "../content/paths.js";
import type { ContentTree } from "../content/read.js";
import type { RenderedBody } from "../markdown/render.js";
import type { CachedRender, RenderCache } from "../cache/renders.js";
import { cacheKey } from "../cache/key.js";
import { compiledPath } from "./compiled.js";
import { replayMessages } from "../validate/messages.js";
import type { RenderJob } from "./render-job.js";
import type { WorkerReply, WorkerRequest } from "./render-worker.js";
import { linkTargets, makeResolver, resolverDigest } from "./resolve.js";

/** Below this many articles to render, a second process costs more than it saves. */
export const PARALLEL_FROM = 48;
/** Articles handed out at a time, to the worker or to this process. */
const BATCH = 8;
/** Batches the worker holds at once, so it never waits while this process is busy rendering. */
const WORKER_AHEAD = 3;

/**
 * Starts a render worker process ahead of need: its start-up (Node and the
 * Markdown pipeline) then overlaps reading the sources and their front
 * matter. renderAll stops it, used or not; kill it if renderAll is not reached.
 */
export function forkRenderWorker(): ChildProcess {
  const child = fork(compiledPath(import.meta.url, "render-worker.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  // Until renderAll listens: a worker that failed to start then fails the first batch sent to it.
  child.on("error", () => {});
  return child;
}

/**
 * Renders the bodies of `metas` (links may lead to any of `all`), reusing cached renders whose links still
 * resolve the same way. Large batches are shared with one worker process
 * (`worker` when one was forked ahead, else a new one), which on two cores
 * nearly halves a cold build; a worker given and not needed is stopped at
 * once. Messages land on each article's VFile as if it had been rendered here.
 * Returns the bodies by article id, and how many were rendered.
 */
export async function renderAll(
  metas: readonly ArticleMeta[],
  all: readonly ArticleMeta[],
  tree: ContentTree,
  config: Config,
  now: Date,
  cache: RenderCache,
  worker?: ChildProcess,
): Promise<{ bodies: Map<string, RenderedBody>; rendered: number }> {
  const targets = linkTargets(all);
  const assets = new Set(tree.assets.keys());
  const basePath = new URL(config.site.url).pathname;
  const resolve = makeResolver(targets, assets, now.getTime());
  // While no link target changed, a cached render's links resolve as when it was checked.
  const checked = cache.checkedAgainst(resolverDigest(targets, assets, now.getTime()));
  const byKey = new Map<string, ArticleMeta>();
  const bodies = new Map<string, RenderedBody>();
  const jobs: RenderJob[] = [];

  const accept = (meta: ArticleMeta, messages: CachedRender["messages"], body: RenderedBody) => {
    replayMessages(meta.source.file, messages);
    bodies.set(meta.id, body);
  };
  for (const meta of metas) {
    const { path } = meta.source;
    const key = cacheKey(config.site.url, config.markdown.bareUrls, path, meta.slug, meta.source.digest);
    const cached = cache.get(key);
    if (cached && (checked || cached.body.resolved.every(([url, was]) => JSON.stringify(resolve(path, url)) === JSON.stringify(was)))) {
      accept(meta, cached.messages, cached.body);
      continue;
    }
    byKey.set(key, meta);
    jobs.push({ key, path, text: meta.source.text, pageUrl: new URL(paths.article(meta.slug), config.site.url).href });
  }
  jobs.sort((a, b) => (a.path < b.path ? -1 : 1));

  // Each body goes to the cache's packs as it is rendered: what stays in memory is the body without its HTML.
  const done = (key: string, render: CachedRender) => {
    const body = cache.put(key, render);
    const meta = byKey.get(key);
    if (meta) accept(meta, render.messages, body);
  };
  if (jobs.length < PARALLEL_FROM) worker?.kill();
  if (jobs.length === 0) return { bodies, rendered: 0 };
  // Loaded only when something needs rendering: the Markdown pipeline is a third of start-up.
  const { prepareJobs, runJob } = await import("./render-job.js");
  await prepareJobs(jobs);
  const context = { basePath, siteUrl: config.site.url, bareUrls: config.markdown.bareUrls, resolve };
  if (jobs.length < PARALLEL_FROM) {
    for (const job of jobs) done(job.key, runJob(job, context));
  } else {
    await shareWithWorker(worker ?? forkRenderWorker(), jobs, (job) => runJob(job, context), done, { type: "init", targets, assets: [...assets], now: now.getTime(), basePath, siteUrl: config.site.url, bareUrls: config.markdown.bareUrls });
  }
  return { bodies, rendered: jobs.length };
}

async function shareWithWorker(
  child: ChildProcess,
  jobs: RenderJob[],
  renderHere: (job: RenderJob) => CachedRender,
  done: (key: string, render: CachedRender) => void,
  init: WorkerRequest,
): Promise<void> {
  const queue = [...jobs];
  let inFlight = 0;
  const workerFinished = new Promise<void>((resolve, reject) => {
    const next = () => {
      const batch = queue.splice(0, BATCH);
      if (batch.length === 0) return;
      inFlight++;
      child.send({ type: "render", jobs: batch } satisfies WorkerRequest);
    };
    child.on("message", (reply: WorkerReply) => {
      inFlight--;
      for (const [key, render] of reply.results) done(key, render);
      next();
      if (queue.length === 0 && inFlight === 0) resolve();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (inFlight > 0) reject(new Error(`render worker exited with code ${code}`));
    });
    child.send(init);
    for (let i = 0; i < WORKER_AHEAD; i++) next();
  });
  while (queue.length > 0) {
    for (const job of queue.splice(0, BATCH)) done(job.key, renderHere(job));
    await new Promise((resolve) => setImmediate(resolve));
  }
  try {
    await workerFinished;
  } finally {
    child.kill();
  }
}
