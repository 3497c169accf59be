import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Config, NewsletterConfig } from "../config/schema.js";
import { DatabaseSink } from "../feedback/store-sink.js";
import { senderIdentity } from "../mailbox/identify.js";
import type { Store } from "../store/database.js";
import type { SubscriberList } from "../store/subscribers.js";
import { rememberWebhookCall, webhookCallSeen } from "../store/webhook-calls.js";
import type { WebhookRequest, WebhookResult } from "./webhooks/common.js";
import { mailgunWebhook } from "./webhooks/mailgun.js";
import { postmarkWebhook } from "./webhooks/postmark.js";
import { sesWebhook, type Fetcher } from "./webhooks/ses.js";

/** Largest webhook body: an SNS message is at most 256 KB, and SES quotes the original's headers in it. */
const WEBHOOK_BODY_LIMIT = 512 * 1024;

/** The network calls of the SES webhook, injectable so tests run offline. */
export interface WebhookNetwork {
  /** Fetches an SNS signing certificate. */
  fetchCertificate?: Fetcher;
  /** Visits an SNS SubscribeURL to confirm the subscription. */
  confirm?: Fetcher;
}

/** What the webhook routes need from the service. */
export interface WebhookRoutesOptions extends WebhookNetwork {
  store: Store;
  list: SubscriberList;
  config: Config;
  newsletter: NewsletterConfig;
  secret: string;
  env: NodeJS.ProcessEnv;
  now: () => Date;
}

/**
 * The providers' bounce and complaint webhooks on `presswork serve`, each
 * on when its secret is in the environment:
 * - `POST /webhooks/ses`: Amazon SES through SNS, from the topics in
 *   `PRESSWORK_SES_TOPIC_ARNS` (comma-separated; required, since anyone can
 *   sign SNS messages from a topic of their own);
 * - `POST /webhooks/postmark`: basic auth with
 *   `PRESSWORK_POSTMARK_WEBHOOK_USER` and `PRESSWORK_POSTMARK_WEBHOOK_PASSWORD`;
 * - `POST /webhooks/mailgun`: signed with `PRESSWORK_MAILGUN_SIGNING_KEY`.
 * The raw body goes to the provider's module (signatures are over it),
 * what it reports is recorded through the database sink, and the call's id
 * is remembered only once recorded: a failure answers 500 so the provider
 * retries. Refused calls are logged without their body.
 */
export async function registerWebhooks(app: FastifyInstance, options: WebhookRoutesOptions): Promise<void> {
  await app.register(async (scope) => {
    // Every content type as raw bytes: SNS posts JSON as text/plain, and signatures are over the exact body.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, done) => done(null, body));
    const identity = senderIdentity(options.newsletter, options.secret);
    const sink = new DatabaseSink(options.list, options.config.feedback);
    const env = options.env;
    const topics = (env["PRESSWORK_SES_TOPIC_ARNS"] ?? "").split(",").map((t) => t.trim()).filter(Boolean);
    const postmarkUser = env["PRESSWORK_POSTMARK_WEBHOOK_USER"];
    const postmarkPassword = env["PRESSWORK_POSTMARK_WEBHOOK_PASSWORD"];
    const mailgunKey = env["PRESSWORK_MAILGUN_SIGNING_KEY"];

    const route = (provider: string, off: string | undefined, handle: (call: WebhookRequest, seen: (id: string) => Promise<boolean>) => Promise<WebhookResult>) =>
      scope.post(`/webhooks/${provider}`, { bodyLimit: WEBHOOK_BODY_LIMIT }, async (request: FastifyRequest, reply: FastifyReply) => {
        if (off) {
          request.log.warn(`webhooks/${provider}: a call while the webhook is off (${off})`);
          return reply.code(503).send({ error: `this webhook is off: ${off}` });
        }
        const ids: string[] = [];
        const seen = async (id: string) => {
          ids.push(id);
          return webhookCallSeen(options.store, id);
        };
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const result = await handle({ headers: request.headers, body: raw }, seen);
        if (result.status >= 400) {
          request.log.warn(`webhooks/${provider}: ${result.status} ${result.log} (from ${request.ip})`);
          return reply.code(result.status).send({ error: result.log });
        }
        const done = { recorded: 0, stopped: 0, duplicates: 0, ignored: 0 };
        try {
          for (const event of result.events) {
            const outcome = await sink.apply(event);
            done[outcome === "duplicate" ? "duplicates" : outcome === "ignored" ? "ignored" : outcome === "stopped" ? "stopped" : "recorded"]++;
          }
          for (const id of ids) await rememberWebhookCall(options.store, id, options.now());
        } catch (error) {
          request.log.error(`webhooks/${provider}: recording failed (${(error as Error).message}); answered 500 so the provider sends it again`);
          return reply.code(500).send({ error: "recording failed; send it again" });
        }
        done.recorded += done.stopped;
        request.log.info(`webhooks/${provider}: ${result.log}; ${done.recorded} recorded (${done.stopped} stopped mail), ${done.duplicates} already known, ${done.ignored} changing nothing`);
        return reply.code(result.status).send({ recorded: done.recorded, duplicates: done.duplicates });
      });

    route("ses", topics.length ? undefined : "set PRESSWORK_SES_TOPIC_ARNS to the SNS topics SES publishes to", (call, seen) =>
      sesWebhook(call, { identity, now: options.now(), topics, seen, ...(options.fetchCertificate ? { fetchCertificate: options.fetchCertificate } : {}), ...(options.confirm ? { confirm: options.confirm } : {}) }),
    );
    route("postmark", postmarkUser && postmarkPassword ? undefined : "set PRESSWORK_POSTMARK_WEBHOOK_USER and PRESSWORK_POSTMARK_WEBHOOK_PASSWORD", (call, seen) =>
      postmarkWebhook(call, { user: postmarkUser ?? "", password: postmarkPassword ?? "", identity, now: options.now(), seen }),
    );
    route("mailgun", mailgunKey ? undefined : "set PRESSWORK_MAILGUN_SIGNING_KEY to the webhook signing key", (call, seen) => mailgunWebhook(call, { signingKey: mailgunKey ?? "", identity, now: options.now(), seen }));
  });
}
