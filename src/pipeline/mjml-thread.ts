import { Worker } from "node:worker_threads";
import { VFile } from "vfile";
import { EMAIL_TEMPLATES } from "../issues/limits.js";
import { type TemplateSources } from "../templates/liquid.js";
import { compiledPath } from "./compiled.js";
import { replayMessages, type StoredMessage } from "../validate/messages.js";
import { contentError, PressworkError } from "../errors/error.js";

/** A job for the thread: MJML to turn into HTML, or templates to validate. */
export type MjmlRequest = { id: number; source: string } | { id: number; templates: TemplateSources };

/** A template file's messages, as data. */
interface StoredFile {
  path: string;
  messages: StoredMessage[];
}

/** The thread's answer: the HTML, each template's messages, a template error, or a crash. */
export type MjmlReply = { id: number; html: string } | { id: number; validated: StoredFile[] } | { id: number; templateError: StoredFile } | { id: number; crash: string };

/**
 * Runs MJML in a worker thread. MJML takes over half a second to load; the
 * thread loads it as soon as it starts, on the second core, while the build
 * reads and renders the articles, so a build whose issue outline changed
 * does not wait for it. The thread starts on `prepare`, or on the first
 * compile. The HTML is the same as MJML's in the build's thread.
 */
export class MjmlThread {
  private started: Worker | undefined;
  private readonly waiting = new Map<number, { resolve: (reply: MjmlReply) => void; reject: (error: unknown) => void }>();
  private last = 0;

  /** Starts the thread, so MJML loads while the build goes on. */
  prepare(): void {
    this.worker();
  }

  /** mjmlToHtml, in the thread. */
  async toHtml(source: string): Promise<string> {
    const reply = await this.ask({ id: ++this.last, source });
    if (!("html" in reply)) throw new PressworkError("internal", "MJML's thread answered out of turn");
    return reply.html;
  }

  /** validateEmailTemplates, in the thread. */
  async validate(templates: TemplateSources): Promise<VFile[]> {
    const reply = await this.ask({ id: ++this.last, templates });
    if (!("validated" in reply)) throw new PressworkError("internal", "MJML's thread answered out of turn");
    return reply.validated.map(({ path, messages }) => {
      const file = new VFile({ path, value: templates[path.slice(EMAIL_TEMPLATES.length + 1)] ?? "" });
      replayMessages(file, messages);
      return file;
    });
  }

  /** Sends a job and waits for its answer; a crash or a template error is thrown. */
  private async ask(request: MjmlRequest): Promise<MjmlReply> {
    const worker = this.worker();
    worker.ref();
    const reply = await new Promise<MjmlReply>((resolve, reject) => {
      this.waiting.set(request.id, { resolve, reject });
      worker.postMessage(request);
    }).finally(() => {
      if (this.waiting.size === 0) worker.unref();
    });
    if ("crash" in reply) throw new PressworkError("internal", `MJML's thread failed: ${reply.crash}`);
    if ("templateError" in reply) {
      const file = new VFile({ path: reply.templateError.path });
      replayMessages(file, reply.templateError.messages);
      throw contentError(file);
    }
    return reply;
  }

  /** Stops the thread; a compile after this starts it again. */
  async close(): Promise<void> {
    const worker = this.started;
    this.started = undefined;
    await worker?.terminate();
  }

  private worker(): Worker {
    if (this.started) return this.started;
    const worker = new Worker(compiledPath(import.meta.url, "mjml-worker.js"));
    worker.on("message", (reply: MjmlReply) => {
      this.waiting.get(reply.id)?.resolve(reply);
      this.waiting.delete(reply.id);
    });
    worker.on("error", (error) => {
      for (const job of this.waiting.values()) job.reject(error);
      this.waiting.clear();
    });
    // After the listeners, which would hold it again: an idle thread never keeps the process alive.
    worker.unref();
    this.started = worker;
    return worker;
  }
}
