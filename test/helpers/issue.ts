import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { expect } from "vitest";
import { send } from "../../src/pipeline/send.js";
import { NOW } from "./project.js";
import type { TestSmtp } from "./smtp.js";

/** Sends the project's due issue to one reader (reader@example.org) through the loopback server, and returns the HTML of the message received. */
export async function sendToOneReader(root: string, smtp: TestSmtp): Promise<string> {
  await writeFile(join(root, "subs.csv"), "email\nreader@example.org\n");
  const outcome = await send({ root, now: NOW, env: { PRESSWORK_SECRET: "test-secret", SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" }, dryRun: false, retryFailed: false, subscribers: "subs.csv" });
  expect(outcome.files.flatMap((f) => f.messages.map(String))).toEqual([]);
  expect(outcome.report?.sent).toBe(1);
  return String((await simpleParser(smtp.received.at(-1)?.raw ?? "")).html);
}
