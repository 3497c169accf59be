import { Worker } from "node:worker_threads";
import { VFile } from "vfile";
import { TemplateError } from "../templates/liquid.js";
import { compiledPath } from "./compiled.js";
import { replayMessages, type StoredMessage } from "../validate/messages.js";

/** A job for the thread: MJML to turn into HTML. */
export interface MjmlRequest {
  id: number;
  source: string;
}

/** The thread's answer: the HTML, a template error, or a crash. */
export type MjmlReply = { id: number; html: string } | { id: number; templateError: { path: string; messages: StoredMessage[] } } | { id: number; crash: string };

/**
 * Runs MJML in a worker thread. MJML takes over half a second to load; the
 * thread loads it the moment it starts, on the second core, while the build
 * reads and renders the articles, so a build whose issue outline changed
 * does not wait for it. The HTML is the same as MJML's in the build's thread.
 */
export class MjmlThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (reply: MjmlReply) => void; reject: (error: unknown) => void }>();
  private last = 0;

  constructor() {
    this.worker = new Worker(compiledPath(import.meta.url, "mjml-worker.js"));
    this.worker.on("message", (reply: MjmlReply) => {
      this.waiting.get(reply.id)?.resolve(reply);
      this.waiting.delete(reply.id);
    });
    this.worker.on("error", (error) => {
      for (const job of this.waiting.values()) job.reject(error);
      this.waiting.clear();
    });
    // After the listeners, which would hold it again: an idle thread never keeps the process alive.
    this.worker.unref();
  }

  /** mjmlToHtml, in the thread. */
  async toHtml(source: string): Promise<string> {
    const id = ++this.last;
    this.worker.ref();
    const reply = await new Promise<MjmlReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, source } satisfies MjmlRequest);
    }).finally(() => {
      if (this.waiting.size === 0) this.worker.unref();
    });
    if ("crash" in reply) throw new Error(`MJML's thread failed: ${reply.crash}`);
    if ("templateError" in reply) {
      const file = new VFile({ path: reply.templateError.path });
      replayMessages(file, reply.templateError.messages);
      throw new TemplateError(file);
    }
    return reply.html;
  }

  /** Stops the thread; nothing is compiled after this. */
  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
