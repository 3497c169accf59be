// A worker thread that compiles email issues (see issue-compiler.ts). It loads MJML as it starts.
import { parentPort } from "node:worker_threads";
import { compileIssue, loadMjml } from "../issues/render.js";
import { TemplateError } from "../templates/liquid.js";
import type { IssueReply, IssueRequest } from "./issue-compiler.js";
import { storeMessages } from "../validate/messages.js";

void loadMjml();
parentPort?.on("message", async ({ id, plan, config, newsletter, templates }: IssueRequest) => {
  let reply: IssueReply;
  try {
    const { plan: compiled, ...issue } = await compileIssue(plan, config, newsletter, templates);
    reply = { id, issue, kept: compiled.articles.map((a) => a.id), more: compiled.more };
  } catch (error) {
    reply = error instanceof TemplateError ? { id, templateError: { path: error.file.path, messages: storeMessages(error.file) } } : { id, crash: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  parentPort?.postMessage(reply);
});
