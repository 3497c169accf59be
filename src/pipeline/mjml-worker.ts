// A worker thread that runs MJML (see mjml-thread.ts). It loads MJML as it starts.
import { parentPort } from "node:worker_threads";
import { loadMjml, mjmlToHtml } from "../issues/mjml.js";
import { TemplateError } from "../templates/liquid.js";
import type { MjmlReply, MjmlRequest } from "./mjml-thread.js";
import { storeMessages } from "../validate/messages.js";

void loadMjml();
parentPort?.on("message", async ({ id, source }: MjmlRequest) => {
  let reply: MjmlReply;
  try {
    reply = { id, html: await mjmlToHtml(source) };
  } catch (error) {
    reply = error instanceof TemplateError ? { id, templateError: { path: error.file.path, messages: storeMessages(error.file) } } : { id, crash: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  parentPort?.postMessage(reply);
});
