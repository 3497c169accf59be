import { Writable } from "node:stream";
import { simpleParser, type ParsedMail } from "mailparser";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { SmtpTransport } from "../../src/delivery/smtp.js";
import { createService, type Service } from "../../src/service/app.js";
import type { WebhookNetwork } from "../../src/service/feedback-webhooks.js";
import { serviceSettings } from "../../src/service/settings.js";
import { freePort } from "./postgres.js";
import { tempProject } from "./project.js";
import type { TestSmtp } from "./smtp.js";

/** The secret the tests' sends and services share. */
export const SECRET = "service-test-secret";
/** The API token the tests' services expect. */
export const API_TOKEN = "api-token-for-tests";

/** A service running in this process on a loopback port, its log lines kept. */
export interface RunningService {
  url: string;
  service: Service;
  config: Config;
  root: string;
  /** Every log line so far. */
  logs: string[];
  /** Moves the service's clock. */
  advance: (ms: number) => void;
  close: () => Promise<void>;
}

/**
 * Starts the subscription service on a free loopback port over a project made
 * from the repository's sample config and templates, mailing through the
 * test SMTP server, against the given database.
 */
export async function startService(options: { databaseUrl: string; smtp: TestSmtp; env?: Record<string, string>; root?: string; port?: number; webhooks?: WebhookNetwork }): Promise<RunningService> {
  const root = options.root ?? (await tempProject());
  const loaded = await loadConfig(root);
  if (!loaded.config) throw new Error(String(loaded.file.messages[0]?.reason));
  const port = options.port ?? (await freePort());
  const env = { PRESSWORK_SECRET: SECRET, PRESSWORK_API_TOKEN: API_TOKEN, PRESSWORK_PUBLIC_URL: `http://127.0.0.1:${port}/`, DATABASE_URL: options.databaseUrl, PRESSWORK_TRUST_PROXY: "loopback", ...options.env };
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  let offset = 0;
  const service = await createService({
    settings: serviceSettings(root, loaded.config, env, { host: "127.0.0.1", port }),
    env,
    transport: new SmtpTransport({ host: "127.0.0.1", port: options.smtp.port, secure: false, rejectUnauthorized: false, allowPlaintextAuth: false }, { maxConnections: 2, timeoutSeconds: 10 }),
    logStream,
    now: () => new Date(Date.now() + offset),
    pollMs: 200,
    ...(options.webhooks ? { webhooks: options.webhooks } : {}),
  });
  const url = await service.listen();
  return { url, service, config: loaded.config, root, logs, advance: (ms) => (offset += ms), close: () => service.close() };
}

/** Waits until the test SMTP server has received `count` messages to `address`, and parses the last. */
export async function mailTo(smtp: TestSmtp, address: string, count = 1, timeoutMs = 20_000): Promise<ParsedMail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = smtp.received.filter((m) => m.to.includes(address.toLowerCase()));
    if (mails.length >= count) return simpleParser(mails[count - 1]?.raw as Buffer);
    if (Date.now() > deadline) throw new Error(`no message ${count} to ${address} within ${timeoutMs} ms (got ${mails.length})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** POSTs a form (application/x-www-form-urlencoded), without following redirects. */
export function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: "POST", body: new URLSearchParams(fields), redirect: "manual", headers });
}

/** POSTs JSON. */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", ...headers } });
}
