import { fork, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import type { CachedBody, CachedRender, RenderCache } from "../cache/renders.js";
import { cacheKeys } from "../cache/key.js";
import type { Config } from "../config/schema.js";
import type { ArticleMeta } from "../content/article.js";
import { paths } from "../content/paths.js";
import { PLACEHOLDERS } from "../content/placeholders.js";
import type { ContentTree } from "../content/read.js";
import { textDirection } from "../markdown/direction.js";
import { replayMessages } from "../validate/messages.js";
import { compiledPath } from "./compiled.js";
import type { RenderJob } from "./render-job.js";
import type { WorkerReply, WorkerRequest } from "./render-worker.js";
import { makeResolver, resolvesAsBefore, resolverDigest, type LinkTarget } from "./resolve.js";

/** Below this many articles to render, render processes cost more than they save: this process renders them. */
export const PARALLEL_FROM = 48;
/** Articles handed to a render process at a time. */
const BATCH = 8;
/** Batches each render process holds at once, so it never waits for the next. */
const AHEAD = 3;
/**
 * The old-generation heap of a render process, in MB. A render keeps
 * nothing once its body is sent back, so the heap holds one article's trees
 * at a time; capped, V8 collects instead of growing (uncapped, a process
 * grows to twice this over thousands of articles). A process that runs out
 * on a huge article dies, and its articles are rendered here instead.
 */
const RENDER_HEAP_MB = 128;

/**
 * Node's flags for a render process: this process's, without code given on
 * the command line (`node -e`/`-p`), which a render process would run again
 * and fork again from.
 */
export function inheritedFlags(execArgv: readonly string[]): string[] {
  const flags: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i] as string;
    if (/^(-e|-p|-pe|--eval|--print)$/.test(flag)) i++;
    else if (!/^(--eval|--print)=/.test(flag)) flags.push(flag);
  }
  return flags;
}

/**
 * Starts the render processes ahead of need, one a core (at most four):
 * their start-up (Node and the Markdown pipeline) then overlaps reading the
 * sources and their front matter. renderAll stops them, used or not; kill
 * them if renderAll is not reached.
 *
 * With a process on every core, V8's garbage-collection helper threads have
 * no core to themselves and only slow the renders down: each process then
 * collects on its own thread. On 2 cores that took the bodies of a cold build
 * of 5,000 real-size articles from 24-28 s to 19-22 s on Node 20, and from
 * 15 s to 12.5-13 s on Node 22.
 */
export function forkRenderProcesses(): ChildProcess[] {
  const cores = availableParallelism();
  const count = Math.min(4, cores);
  const gc = count >= cores ? ["--single-threaded-gc"] : [];
  return Array.from({ length: count }, () => {
    const child = fork(compiledPath(import.meta.url, "render-worker.js"), [], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      execArgv: [...inheritedFlags(process.execArgv), `--max-old-space-size=${RENDER_HEAP_MB}`, ...gc],
    });
    // Until renderAll listens: a process that failed to start loses its first batches, which are then rendered here.
    child.on("error", () => {});
    return child;
  });
}

/** An article to render, and the key its render is cached by. */
interface Pending {
  key: string;
  meta: ArticleMeta;
}

/**
 * Renders the bodies of `metas` (links may lead to any of `targets`), reusing
 * cached renders whose links still resolve the same way. Many bodies are
 * shared among render processes (`processes` when they were started ahead,
 * else new ones), which on two cores nearly halves a cold build and keeps
 * the Markdown pipeline's garbage out of this process's heap; processes
 * given and not needed are stopped at once. Each body goes to the cache as
 * it comes back, and each article's text is let go once its job is sent,
 * so neither is held for every article at once. Messages land on each
 * article's VFile as if it had been rendered here. Returns the bodies by
 * article id, and how many were rendered.
 */
export async function renderAll(
  metas: readonly ArticleMeta[],
  targets: readonly LinkTarget[],
  tree: ContentTree,
  config: Config,
  now: Date,
  cache: RenderCache,
  processes: readonly ChildProcess[] = [],
): Promise<{ bodies: Map<string, CachedBody>; rendered: number }> {
  const assets = new Set(tree.assets.keys());
  const basePath = new URL(config.site.url).pathname;
  const direction = textDirection(config.site.language);
  const resolve = makeResolver(targets, assets, now.getTime());
  // While no link target changed, a cached render's links resolve as when it was checked.
  const checked = cache.checkedAgainst(resolverDigest(targets, assets, now.getTime()));
  const bodies = new Map<string, CachedBody>();
  const pending: Pending[] = [];
  // The placeholders of `presswork new` too: a render keeps what a review finds of them in its body (see textFacts).
  const keyOf = cacheKeys(config.site.url, config.markdown.bareUrls, direction, PLACEHOLDERS);
  for (const meta of metas) {
    const { path } = meta.source;
    const key = keyOf(path, meta.slug, meta.source.digest);
    const cached = cache.get(key);
    if (cached && (checked || resolvesAsBefore(resolve, path, cached.body.resolved))) {
      replayMessages(meta.source.file, cached.messages);
      bodies.set(meta.id, cached.body);
      meta.source.release();
      continue;
    }
    pending.push({ key, meta });
  }
  pending.sort((a, b) => (a.meta.source.path < b.meta.source.path ? -1 : 1));

  const job = ({ key, meta }: Pending): RenderJob => {
    const made = { key, path: meta.source.path, text: meta.source.text, pageUrl: new URL(paths.article(meta.slug), config.site.url).href, keyPointsUnread: meta.keyPoints !== undefined };
    meta.source.release();
    return made;
  };
  const byKey = new Map(pending.map((p) => [p.key, p.meta]));
  const done = (key: string, render: CachedRender) => {
    const meta = byKey.get(key);
    if (!meta) return;
    replayMessages(meta.source.file, render.messages);
    bodies.set(meta.id, cache.put(key, render));
  };
  // Loaded only when something is rendered here: the Markdown pipeline is a third of start-up.
  const renderHere = async (items: readonly Pending[]) => {
    if (items.length === 0) return;
    const { prepareJobs, runJob } = await import("./render-job.js");
    const context = { basePath, siteUrl: config.site.url, bareUrls: config.markdown.bareUrls, direction, resolve };
    for (const item of items) {
      const one = job(item);
      await prepareJobs([one]);
      done(one.key, runJob(one, context));
    }
  };

  if (pending.length < PARALLEL_FROM) {
    for (const child of processes) child.kill();
    await renderHere(pending);
  } else {
    const init: WorkerRequest = { type: "init", targets, assets: [...assets], now: now.getTime(), basePath, siteUrl: config.site.url, bareUrls: config.markdown.bareUrls, direction };
    const left = await shareWithProcesses(processes.length > 0 ? processes : forkRenderProcesses(), pending, job, done, init);
    await renderHere(left);
  }
  return { bodies, rendered: pending.length };
}

/**
 * Hands `pending` out to the render processes a batch at a time, and stops
 * them when all is rendered. Returns what none of them rendered: the batches
 * of a process that died (out of memory on a huge article), when no other
 * is left to take them.
 */
async function shareWithProcesses(
  children: readonly ChildProcess[],
  pending: readonly Pending[],
  job: (item: Pending) => RenderJob,
  done: (key: string, render: CachedRender) => void,
  init: WorkerRequest,
): Promise<Pending[]> {
  const queue: Pending[][] = [];
  for (let i = 0; i < pending.length; i += BATCH) queue.push(pending.slice(i, i + BATCH));
  const held = new Map<ChildProcess, Pending[][]>(children.map((child) => [child, []]));
  try {
    await new Promise<void>((resolve) => {
      const finished = () => held.size === 0 || (queue.length === 0 && [...held.values()].every((batches) => batches.length === 0));
      const feed = () => {
        for (const [child, batches] of held) {
          while (batches.length < AHEAD && queue.length > 0) {
            const batch = queue.shift() as Pending[];
            batches.push(batch);
            child.send({ type: "render", jobs: batch.map(job) } satisfies WorkerRequest);
          }
        }
        if (finished()) resolve();
      };
      for (const child of children) {
        child.on("message", (reply: WorkerReply) => {
          held.get(child)?.shift();
          for (const [key, { body, messages }] of reply.results) done(key, { body: { ...body, html: { ...body.html, email: body.html.email ?? body.html.feed } }, messages });
          feed();
        });
        const lost = () => {
          const batches = held.get(child);
          if (!batches) return;
          held.delete(child);
          queue.unshift(...batches);
          feed();
        };
        child.on("exit", lost);
        child.on("error", lost);
        child.send(init);
      }
      feed();
    });
  } finally {
    for (const child of children) {
      child.removeAllListeners("exit");
      child.kill();
    }
  }
  return queue.flat();
}
