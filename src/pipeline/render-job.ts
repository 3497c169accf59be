import { VFile } from "vfile";
import { prepareFor, renderBody, type RenderTarget } from "../markdown/render.js";
import type { CachedRender } from "../cache/renders.js";
import { storeMessages } from "../validate/messages.js";

/** One article to render: plain data, so it can go to a worker process. */
export interface RenderJob {
  key: string;
  path: string;
  text: string;
  pageUrl: string;
  /** The front matter gives the key points: a Quick Reads section of the body is left out, its links and pictures unread. */
  keyPointsUnread: boolean;
}

/** Loads what rendering these jobs needs beyond the core of the pipeline. */
export function prepareJobs(jobs: readonly RenderJob[]): Promise<void> {
  return prepareFor(jobs.map((job) => job.text));
}

/** Renders one job in this process (after prepareJobs); its messages come back as data. */
export function runJob(job: RenderJob, target: Omit<RenderTarget, "pageUrl">): CachedRender {
  const file = new VFile({ path: job.path, value: job.text, data: { keyPointsUnread: job.keyPointsUnread } });
  const body = renderBody(file, job.path, { ...target, pageUrl: job.pageUrl });
  return { body, messages: storeMessages(file) };
}
