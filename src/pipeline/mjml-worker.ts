// A worker thread that runs MJML (see mjml-thread.ts): compiles and validates. It loads MJML as it starts.
import { parentPort } from "node:worker_threads";
import { loadMjml, mjmlToHtml, validateEmailTemplates } from "../issues/mjml.js";
import type { MjmlReply, MjmlRequest } from "./mjml-thread.js";
import { storeMessages } from "../validate/messages.js";
import { isPressworkError } from "../errors/error.js";

void loadMjml();
parentPort?.on("message", async (request: MjmlRequest) => {
  const { id } = request;
  let reply: MjmlReply;
  try {
    if ("source" in request) reply = { id, html: await mjmlToHtml(request.source) };
    else reply = { id, validated: (await validateEmailTemplates(request.templates)).map((file) => ({ path: file.path, messages: storeMessages(file) })) };
  } catch (error) {
    reply = isPressworkError(error, "content") ? { id, templateError: { path: error.files[0]?.path ?? "", messages: error.files[0] ? storeMessages(error.files[0]) : [] } } : { id, crash: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  parentPort?.postMessage(reply);
});
