import { Worker } from "node:worker_threads";
import { VFile } from "vfile";
import type { Config, NewsletterConfig } from "../config/schema.js";
import type { IssuePlan } from "../issues/plan.js";
import type { CompiledIssue } from "../issues/render.js";
import { TemplateError, type TemplateSources } from "../templates/liquid.js";
import { compiledPath } from "./compiled.js";
import { replayMessages, type StoredMessage } from "../validate/messages.js";

/** A compile job for the worker: the plan's articles without their source files. */
export interface IssueRequest {
  id: number;
  plan: IssuePlan;
  config: Config;
  newsletter: NewsletterConfig;
  templates: TemplateSources;
}

/** The worker's answer: the issue (its plan as the ids it kept), a template error, or a crash. */
export type IssueReply =
  | { id: number; issue: Omit<CompiledIssue, "plan">; kept: string[]; more: number }
  | { id: number; templateError: { path: string; messages: StoredMessage[] } }
  | { id: number; crash: string };

/**
 * Compiles email issues in a worker thread. MJML takes over half a second
 * to load; the thread loads it the moment it starts, on the second core,
 * while the build reads and renders the articles, so a rebuild that changes
 * the next issue does not wait for it. The issue is the same either way.
 */
export class IssueCompiler {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (reply: IssueReply) => void; reject: (error: unknown) => void }>();
  private last = 0;

  constructor() {
    this.worker = new Worker(compiledPath(import.meta.url, "issue-worker.js"));
    this.worker.on("message", (reply: IssueReply) => {
      this.waiting.get(reply.id)?.resolve(reply);
      this.waiting.delete(reply.id);
    });
    this.worker.on("error", (error) => {
      for (const job of this.waiting.values()) job.reject(error);
      this.waiting.clear();
    });
    // After the listeners, which would hold it again: an idle compiler never keeps the process alive.
    this.worker.unref();
  }

  /** compileIssue, in the worker. */
  async compile(plan: IssuePlan, config: Config, newsletter: NewsletterConfig, templates: TemplateSources): Promise<CompiledIssue> {
    const id = ++this.last;
    const articles = plan.articles.map(({ source: _source, ...article }) => article);
    this.worker.ref();
    const reply = await new Promise<IssueReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, plan: { ...plan, articles }, config, newsletter, templates } as IssueRequest);
    }).finally(() => {
      if (this.waiting.size === 0) this.worker.unref();
    });
    if ("crash" in reply) throw new Error(`the issue compiler failed: ${reply.crash}`);
    if ("templateError" in reply) {
      const file = new VFile({ path: reply.templateError.path });
      replayMessages(file, reply.templateError.messages);
      throw new TemplateError(file);
    }
    return { ...reply.issue, plan: { ...plan, articles: plan.articles.filter((a) => reply.kept.includes(a.id)), more: reply.more } };
  }

  /** Stops the worker; nothing is compiled after this. */
  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
