import { createHash, timingSafeEqual } from "node:crypto";
import { join } from "node:path";
import { Readable, type Writable } from "node:stream";
import cors from "@fastify/cors";
import formbody from "@fastify/formbody";
import rateLimit from "@fastify/rate-limit";
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { maskAddress, parseAddress } from "../audience/address.js";
import { OutboxTransport } from "../delivery/outbox.js";
import { SmtpTransport } from "../delivery/smtp.js";
import type { Transport } from "../delivery/transport.js";
import { addressKey } from "../issues/message.js";
import { CONFIRM_DAYS, readConfirmToken, readUnsubscribeToken } from "../issues/tokens.js";
import { readEmailTemplates } from "../pipeline/newsletter.js";
import { isUnavailable, openStore, type Store } from "../store/database.js";
import type { SubscriberStatus } from "../store/schema.js";
import { LIST_ID_MAX } from "../config/schema.js";
import { SubscriberList, type ConfirmOutcome } from "../store/subscribers.js";
import { registerWebhooks, type WebhookNetwork } from "./feedback-webhooks.js";
import { ServiceMail } from "./mail.js";
import { acceptAnyBodyAsForm, acceptMultipartForms } from "./multipart-form.js";
import { securityHeaders } from "./security-headers.js";
import { loadPages, type PageName } from "./pages.js";
import type { ServiceSettings } from "./settings.js";
import { MailWorker } from "./worker.js";
import { MAILBOX_LIMIT, MailboxLimit } from "./mailbox-limit.js";

/** Largest request body on the public endpoints. */
export const BODY_LIMIT = 16 * 1024;
/** Largest body of POST /api/events. */
const API_BODY_LIMIT = 1024 * 1024;

/** How to build the service: its settings, and in tests a transport, a clock and a log stream. */
export interface ServiceOptions {
  settings: ServiceSettings;
  /** The environment the providers' webhooks read their keys from. */
  env: NodeJS.ProcessEnv;
  /** Where the service's mail goes; default: the settings' SMTP server, or outbox/service/ without one. */
  transport?: Transport;
  /** Log lines (JSON, one a line); default stdout. */
  logStream?: Writable;
  logLevel?: string;
  now?: () => Date;
  /** How often the mail worker looks at the queue when nothing woke it. */
  pollMs?: number;
  /** In tests: the SES webhook's certificate fetcher and subscription confirmer (no network). */
  webhooks?: WebhookNetwork;
}

/** A running subscription service. */
export interface Service {
  app: FastifyInstance;
  store: Store;
  list: SubscriberList;
  worker: MailWorker;
  /** Starts listening on the settings' host and port; returns its URL. */
  listen(): Promise<string>;
  /** Stops taking requests, finishes those in flight and the mail in hand, closes the database. */
  close(): Promise<void>;
}

const FIELD = "^[A-Za-z0-9._:-]*$";
const SUBSCRIBE_BODY = {
  type: "object",
  required: ["email"],
  additionalProperties: false,
  properties: {
    email: { type: "string", maxLength: 320 },
    name: { type: "string", maxLength: 200 },
    /** The honeypot: people leave it empty, form-filling robots do not. */
    website: { type: "string", maxLength: 2000 },
    form: { type: "string", maxLength: 64, pattern: FIELD },
    wording: { type: "string", maxLength: 64, pattern: FIELD },
  },
} as const;

const EVENTS_BODY = {
  type: "object",
  required: ["events"],
  additionalProperties: false,
  properties: {
    events: {
      type: "array",
      maxItems: 1000,
      items: {
        type: "object",
        required: ["id", "type"],
        additionalProperties: false,
        properties: {
          id: { type: "string", minLength: 1, maxLength: 200 },
          type: { enum: ["unsubscribed", "bounced", "complained"] },
          bounce: { enum: ["hard", "soft"] },
          email: { type: "string", maxLength: 320 },
          key: { type: "string", pattern: "^[0-9a-f]{24}$" },
          at: { type: "string", maxLength: 40 },
          source: { type: "string", minLength: 1, maxLength: 64, pattern: FIELD },
          issue: { type: "integer", minimum: 1 },
          detail: { type: "string", maxLength: 500 },
        },
      },
    },
  },
} as const;

/** The longest a request may take to arrive, headers and body. */
const REQUEST_TIMEOUT_MS = 30_000;
/** How long a stop waits for the requests in flight before it cuts their connections. */
const CLOSE_GRACE_MS = 4_000;

/**
 * Builds `presswork serve`: Fastify with its form, multipart (busboy), CORS and
 * rate-limit plugins, Helmet's security headers (worked out once), the
 * database (migrated at open) and the mail worker. Pages come from templates/service/, mail from
 * templates/email/confirm and welcome.
 */
export async function createService(options: ServiceOptions): Promise<Service> {
  const { settings } = options;
  const now = options.now ?? (() => new Date());
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    trustProxy: settings.trustProxy,
    // Per-request lines are the reverse proxy's job; these logs hold what the service did.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    // One log line a request at most, named by what it did: no per-request child logger to build.
    childLoggerFactory: (logger) => logger,
    return503OnClosing: true,
    forceCloseConnections: "idle",
    // Fastify's default is no limit: a body that never finishes would hold its connection (and a stop) for ever.
    requestTimeout: REQUEST_TIMEOUT_MS,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    logger: {
      level: options.logLevel ?? "info",
      ...(options.logStream ? { stream: options.logStream } : {}),
      // A request's query holds its token: log the path only.
      serializers: { req: (req: { method: string; url: string }) => ({ method: req.method, path: req.url.split("?")[0] }) },
    },
  });
  const pages = loadPages(settings.root, { config: settings.config, newsletter: settings.newsletter });
  const mail = new ServiceMail(readEmailTemplates(settings.root), settings.config, settings.newsletter, settings.dkim);
  // Templates first: once the store is open (its checkpoint thread running), a template refused would leave a process
  // that listens on nothing and never exits, which no supervisor restarts.
  await mail.check();
  const { smtp } = settings;
  const store = await openStore({
    url: settings.databaseUrl,
    root: settings.root,
    service: { onBackgroundError: (message) => app.log.error(message) },
    onIdleError: (error) => app.log.error(`database connection lost while idle: ${error.message}`),
  });
  const list = new SubscriberList(store, settings.newsletter.listId, settings.secret);
  const transport = options.transport ?? (smtp ? new SmtpTransport(smtp, { maxConnections: 2, timeoutSeconds: 30 }) : new OutboxTransport(join(settings.root, "outbox", "service")));
  if (!options.transport && !smtp) app.log.warn(`SMTP_URL is not set: confirmation and welcome mails are written to ${join(settings.root, "outbox", "service")} and nobody receives them`);
  const worker = new MailWorker({
    list,
    mail,
    transport,
    newsletter: settings.newsletter,
    secret: settings.secret,
    publicUrl: settings.publicUrl,
    log: (level, message) => app.log[level](message),
    ...(options.pollMs ? { pollMs: options.pollMs } : {}),
    now,
  });
  const base = new URL(settings.publicUrl).pathname;

  const security = securityHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], styleSrc: ["'self'"], imgSrc: ["'self'"], formAction: ["'self'"], baseUri: ["'none'"], frameAncestors: ["'none'"] },
    },
    referrerPolicy: { policy: "no-referrer" },
  });
  let untrustedProxyTold = false;
  app.addHook("onRequest", (request, reply, done) => {
    for (const [name, value] of security) reply.raw.setHeader(name, value);
    if (!untrustedProxyTold && forwardedByUntrusted(request)) {
      untrustedProxyTold = true;
      const peer = request.socket.remoteAddress ?? "an unknown address";
      const trusted = settings.trustProxy ? `is ${settings.trustProxy.join(",")}` : "is unset";
      app.log.warn(
        `X-Forwarded-For came from ${peer}, a peer PRESSWORK_TRUST_PROXY does not name (it ${trusted}): the header is ignored, so every client behind a proxy at ${peer} counts as ${peer} for the subscribe rate limit and in consent records. If your reverse proxy connects from there, add that address to PRESSWORK_TRUST_PROXY (this is logged once)`,
      );
    }
    done();
  });
  await app.register(formbody);
  acceptMultipartForms(app);
  await app.register(rateLimit, { global: false });
  const mailboxes = new MailboxLimit(store, list.list, settings.secret);

  const page = (reply: FastifyReply, status: number, name: PageName, values: Record<string, unknown> = {}) =>
    reply
      .code(status)
      .header("cache-control", "no-store")
      .type("text/html; charset=utf-8")
      .send(pages.render(name, { base, page: { title: titles[name] }, ...values }));

  app.setErrorHandler((error: FastifyError, request, reply) => {
    let status = error.statusCode ?? 500;
    let message = error.message;
    if (isUnavailable(error)) {
      status = 503;
      message = "The list is out of reach for a moment. Please try again in a few minutes.";
      request.log.error(`database unavailable (${(error as { code?: string }).code ?? error.message}): ${request.method} ${request.url.split("?")[0]} answered 503`);
    } else if (error.validation) {
      status = 400;
      message = validationMessage(error);
    } else if (status === 429) {
      message = "Too many requests from your address. Please wait a minute and try again.";
    } else if (status === 413) {
      message = "The request is too large.";
    } else if (status >= 500) {
      request.log.error(`${request.method} ${request.url.split("?")[0]} failed: ${error.message}`);
      message = "Something went wrong on our side. Please try again later.";
    }
    if (wantsJson(request)) return reply.code(status).send({ error: message });
    // A form the schema refused (a name too long, a field a restyled form added) comes back with what was typed, as the handler's own refusals do.
    if (error.validation && request.method === "POST" && request.routeOptions.url === "/subscribe") {
      const email = (request.body as { email?: unknown } | undefined)?.email;
      return page(reply, 400, "subscribe", { error: message, email: typeof email === "string" ? email.slice(0, 254) : "" });
    }
    return page(reply, status, "error", { error: { title: status === 429 ? "Slow down" : status >= 500 ? "Out of reach" : "That did not work", message, mailto: false } });
  });

  app.setNotFoundHandler((request, reply) => {
    if (wantsJson(request)) return reply.code(404).send({ error: "no such endpoint" });
    return page(reply, 404, "error", { error: { title: "Not found", message: "Nothing lives at this address.", mailto: false } });
  });

  app.get("/healthz", async (request, reply) => {
    try {
      await store.db.selectFrom("subscribers").select("id").limit(1).execute();
      return { status: "ok" };
    } catch (error) {
      request.log.error(`health check: the database is unavailable (${(error as { code?: string }).code ?? (error as Error).message})`);
      return reply.code(503).send({ status: "unavailable" });
    }
  });

  app.get("/assets/style.css", async (_request, reply) => reply.type("text/css; charset=utf-8").header("cache-control", "public, max-age=3600").send(pages.stylesheet));

  app.get("/subscribe", async (_request, reply) => page(reply, 200, "subscribe", { error: "", email: "" }));
  app.get("/subscribe/thanks", async (_request, reply) => page(reply, 200, "thanks"));

  // CORS only where the site's pages call from their own origin: every other route (one-click above all) skips its hook.
  await app.register(async (fromSite) => {
    await fromSite.register(cors, { origin: settings.origins, methods: ["POST"], maxAge: 86_400 });
    fromSite.post("/subscribe", { schema: { body: SUBSCRIBE_BODY }, config: { rateLimit: { max: settings.subscribePerMinute, timeWindow: 60_000 } } }, async (request, reply) => {
      const body = request.body as { email: string; name?: string; website?: string; form?: string; wording?: string };
      const json = wantsJson(request);
      const refuse = (message: string) => (json ? reply.code(400).send({ error: message }) : page(reply, 400, "subscribe", { error: message, email: body.email.slice(0, 254) }));
      const accepted = () =>
        json ? reply.code(202).send({ ok: true, message: "Check your inbox: if the address can get the newsletter, a link to confirm is on its way." }) : reply.code(303).header("location", "subscribe/thanks").send();
      const parsed = parseAddress(body.email);
      if ("reason" in parsed) return refuse(`That is not an email address: ${parsed.reason}.`);
      const name = body.name?.trim().replace(/\s+/g, " ") ?? "";
      if (/[\u0000-\u001f\u007f]/.test(body.name ?? "")) return refuse("The name must be one line of text.");
      if (body.website) {
        request.log.info("subscribe: the honeypot field was filled; answered as usual and ignored");
        return accepted();
      }
      // Only a request that would mail a confirmation counts: a second click, or a retry while the first mail's link still works, sends none.
      if ((await list.wouldMail(parsed, now())) && !(await mailboxes.take(parsed, now().getTime()))) {
        request.log.info(`subscribe: ${maskAddress(parsed.address)}'s mailbox was asked for ${MAILBOX_LIMIT} times in ${CONFIRM_DAYS} days, under any spelling; answered as usual and ignored`);
        return accepted();
      }
      const consent = { source: `form:${body.form || "unnamed"}`, wording: body.wording || undefined, ip: request.ip, userAgent: request.headers["user-agent"] };
      const outcome = await list.subscribe(parsed, name || undefined, consent, now());
      request.log.info(`subscribe: ${outcome} ${maskAddress(parsed.address)} (${consent.source})`);
      if (outcome !== "already-active") worker.wake();
      return accepted();
    });
  });

  const CONFIRM_QUERY = { querystring: { type: "object", properties: { token: { type: "string", maxLength: 300 } } } } as const;
  /**
   * The nonce a confirmation link names, or the page that says why it names none. An expired link of a
   * subscription it confirmed in time says so: told to subscribe again, its reader would wait for a mail
   * that never comes, as an active subscriber is sent none.
   */
  const confirmNonce = async (request: FastifyRequest, reply: FastifyReply): Promise<string | FastifyReply> => {
    const read = readConfirmToken((request.query as { token?: string }).token ?? "", list.list, settings.secret, now());
    if (read.ok) return read.nonce;
    if (read.problem === "expired") return (await list.confirmState(read.nonce)) === "already" ? confirmed(reply, "already") : page(reply, 410, "confirm-failed", { problem: "expired", days: CONFIRM_DAYS });
    return page(reply, 400, "confirm-failed", { problem: "invalid", days: CONFIRM_DAYS });
  };
  const confirmed = (reply: FastifyReply, outcome: ConfirmOutcome) =>
    outcome === "used" ? page(reply, 410, "confirm-failed", { problem: "used", days: CONFIRM_DAYS }) : page(reply, 200, "confirmed", { already: outcome === "already" });

  // Mail scanners (Safe Links, Proofpoint, Mimecast) open every link in a mail, with GET or HEAD: a GET
  // shows a button and changes nothing, and only the POST it sends confirms.
  app.get("/confirm", { schema: CONFIRM_QUERY }, async (request, reply) => {
    const nonce = await confirmNonce(request, reply);
    if (typeof nonce !== "string") return nonce;
    const state = await list.confirmState(nonce);
    return state === "pending" ? page(reply, 200, "confirm", {}) : confirmed(reply, state);
  });

  app.post("/confirm", { schema: CONFIRM_QUERY }, async (request, reply) => {
    const nonce = await confirmNonce(request, reply);
    if (typeof nonce !== "string") return nonce;
    const outcome = await list.confirm(nonce, now());
    request.log.info(`confirm: ${outcome}`);
    if (outcome === "confirmed") worker.wake();
    return confirmed(reply, outcome);
  });

  const UNSUBSCRIBE_QUERY = { type: "object", properties: { list: { type: "string", maxLength: LIST_ID_MAX }, token: { type: "string", maxLength: 400 } } } as const;
  /** The keyed hash an unsubscribe link names, or the page that says why it names nobody. */
  const unsubscribeKey = (request: FastifyRequest, reply: FastifyReply): string | FastifyReply => {
    const { list: named, token = "" } = request.query as { list?: string; token?: string };
    const claim = named !== undefined && named !== list.list ? ({ ok: false, problem: "other-list" } as const) : readUnsubscribeToken(token, list.list, settings.secret);
    if (claim.ok) return "key" in claim ? claim.key : addressKey(claim.address, settings.secret);
    const message = claim.problem === "other-list" ? "This link is for another newsletter." : "This unsubscribe link is not valid: it may have been cut short when it was copied.";
    return page(reply, 400, "error", { error: { title: "Cannot unsubscribe with this link", message, mailto: true } });
  };

  app.get("/unsubscribe", { schema: { querystring: UNSUBSCRIBE_QUERY } }, async (request, reply) => {
    const key = unsubscribeKey(request, reply);
    if (typeof key !== "string") return key;
    const row = await store.db.selectFrom("subscribers").select(["email", "status"]).where("list", "=", list.list).where("address_key", "=", key).executeTakeFirst();
    // A GET never changes anything: mail scanners open every link. An address that gets no more issues (unsubscribed,
    // bounced, complained) is told so, where a button would ask what was done already.
    if (row && row.status !== "active" && row.status !== "pending") return page(reply, 200, "unsubscribed", { already: true });
    return page(reply, 200, "unsubscribe", { masked: row ? maskAddress(row.email) : "" });
  });

  // The link's token alone unsubscribes: a body this service cannot read (octet-stream, a form sent as JSON, multipart without a boundary) must not stop it.
  await app.register(async (oneClick) => {
    acceptAnyBodyAsForm(oneClick, BODY_LIMIT);
    oneClick.post("/unsubscribe", { schema: { querystring: UNSUBSCRIBE_QUERY } }, async (request, reply) => {
      const key = unsubscribeKey(request, reply);
      if (typeof key !== "string") return key;
      const body = (request.body ?? {}) as Record<string, string>;
      const source = body["from"] === "page" ? "unsubscribe-page" : body["List-Unsubscribe"] === "One-Click" ? "one-click" : "unsubscribe-post";
      const outcome = await list.unsubscribe(key, source, now());
      request.log.info(`unsubscribe: ${outcome} (${source})`);
      return page(reply, 200, "unsubscribed", { already: false });
    });
  });

  const api = (request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined => {
    if (!settings.apiToken) return reply.code(503).send({ error: "the API is off: set PRESSWORK_API_TOKEN to turn it on" });
    const given = /^Bearer (.+)$/i.exec(request.headers.authorization ?? "")?.[1] ?? "";
    // Both sides hashed first: the comparison takes the same time whatever the given token's length.
    const same = timingSafeEqual(createHash("sha256").update(given).digest(), createHash("sha256").update(settings.apiToken).digest());
    if (!same) return reply.code(401).header("www-authenticate", 'Bearer realm="presswork"').send({ error: "a valid PRESSWORK_API_TOKEN is needed as a bearer token" });
    return undefined;
  };

  app.get("/api/subscribers", { schema: { querystring: { type: "object", additionalProperties: false, properties: { status: { enum: ["active", "pending", "unsubscribed", "bounced", "complained", "all"] } } } } }, async (request, reply) => {
    const refused = api(request, reply);
    if (refused) return refused;
    const wanted = (request.query as { status?: SubscriberStatus | "all" }).status ?? "active";
    const statuses: SubscriberStatus[] = wanted === "all" ? ["pending", "active", "unsubscribed", "bounced", "complained"] : [wanted];
    // Probe the database before the 200 goes out: a database that is down gives 503, not an empty list.
    await store.db.selectFrom("subscribers").select("id").limit(1).execute();
    async function* lines() {
      for await (const s of list.rows(statuses)) {
        yield `${JSON.stringify({ ...s.fields, email: s.email, ...(s.name ? { name: s.name } : {}), status: s.status })}\n`;
      }
    }
    const stream = Readable.from(lines(), { objectMode: false });
    stream.on("error", (error) => request.log.error(`subscriber list stream failed after it started: ${error.message}; the connection was cut so the reader sees an incomplete list`));
    return reply.type("application/x-ndjson; charset=utf-8").header("cache-control", "no-store").send(stream);
  });

  app.post("/api/events", { bodyLimit: API_BODY_LIMIT, schema: { body: EVENTS_BODY } }, async (request, reply) => {
    const refused = api(request, reply);
    if (refused) return refused;
    const { events } = request.body as { events: Array<{ id: string; type: "unsubscribed" | "bounced" | "complained"; bounce?: "hard" | "soft"; email?: string; key?: string; at?: string; source?: string; issue?: number; detail?: string }> };
    const ready = [];
    for (const [i, e] of events.entries()) {
      let key = e.key;
      if (e.email !== undefined) {
        const parsed = parseAddress(e.email);
        if ("reason" in parsed) return reply.code(400).send({ error: `events[${i}].email: ${parsed.reason}` });
        key = list.keyOf(parsed.identity);
      }
      if (!key) return reply.code(400).send({ error: `events[${i}]: give the address as email or its keyed hash as key` });
      const at = e.at === undefined ? now() : new Date(e.at);
      if (Number.isNaN(at.getTime())) return reply.code(400).send({ error: `events[${i}].at is not an ISO 8601 time` });
      ready.push({ id: e.id, type: e.type, bounce: e.bounce, key, at, source: e.source ?? "api", issue: e.issue, detail: e.detail?.replace(/[^\s<>"]+@[^\s<>"]+/g, (a) => maskAddress(a)) });
    }
    const recorded = await list.recordAll(ready);
    request.log.info(`events: ${recorded} recorded, ${ready.length - recorded} already known`);
    return { recorded, duplicates: ready.length - recorded };
  });

  try {
    await registerWebhooks(app, { store, list, config: settings.config, newsletter: settings.newsletter, secret: settings.secret, env: options.env, now, ...options.webhooks });
  } catch (error) {
    await store.close();
    throw error;
  }

  return {
    app,
    store,
    list,
    worker,
    async listen() {
      const url = await app.listen({ host: settings.host, port: settings.port });
      worker.start();
      return url;
    },
    async close() {
      // The requests in flight get a few seconds (a form's post takes milliseconds); those still coming in then are
      // cut, so that a stop ends within a container's 10-second grace.
      const cut = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
      try {
        await app.close();
      } finally {
        clearTimeout(cut);
      }
      await worker.stop();
      await store.close();
    },
  };
}

const titles: Record<PageName, string> = {
  subscribe: "Subscribe",
  thanks: "Check your inbox",
  confirm: "Confirm your subscription",
  confirmed: "Subscribed",
  "confirm-failed": "Confirmation link",
  unsubscribe: "Unsubscribe",
  unsubscribed: "Unsubscribed",
  error: "Problem",
};

/** Whether to answer with JSON: API paths, JSON bodies, and clients that ask for JSON rather than HTML. */
function wantsJson(request: FastifyRequest): boolean {
  if (request.url.startsWith("/api/") || request.url === "/healthz") return true;
  if ((request.headers["content-type"] ?? "").includes("application/json")) return true;
  const accept = request.headers.accept ?? "";
  return accept.includes("application/json") && !accept.includes("text/html");
}

/**
 * Whether a request names a client in X-Forwarded-For that Fastify ignored
 * because the peer that sent it is not a trusted proxy: `ips` holds the
 * header's addresses only past a trusted peer, and is missing when nobody is.
 */
function forwardedByUntrusted(request: FastifyRequest): boolean {
  const header = request.headers["x-forwarded-for"];
  return header !== undefined && /[^\s,]/.test(String(header)) && (request.ips?.length ?? 1) === 1;
}

/** A schema error as a sentence naming the field, never its value. */
function validationMessage(error: FastifyError): string {
  const first = error.validation?.[0];
  if (!first) return error.message;
  const where = (error.validationContext ?? "body") === "body" ? "" : `${error.validationContext} `;
  const field = `${first.instancePath.replace(/^\//, "").replace(/\//g, ".")}`;
  const params = first.params as { additionalProperty?: string; missingProperty?: string; limit?: number };
  if (first.keyword === "additionalProperties") return `Unknown field ${where}"${params.additionalProperty}"${field ? ` in ${field}` : ""}.`;
  if (first.keyword === "required") return `The field ${where}"${params.missingProperty}"${field ? ` in ${field}` : ""} is missing.`;
  if (first.keyword === "maxLength" || first.keyword === "maxItems") return `The field ${where}"${field}" is too long (at most ${params.limit}).`;
  // A body that is no set of fields at all, as a form with enctype="text/plain" sends.
  if (!field && where === "" && first.keyword === "type") return "The request's body is not a form: send it as application/x-www-form-urlencoded (a form's default), multipart/form-data or JSON.";
  return `The field ${where}"${field || "(the whole body)"}" ${first.message ?? "is not valid"}.`;
}
