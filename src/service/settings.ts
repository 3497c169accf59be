import { isIP, isIPv4 } from "node:net";
import type { Config, NewsletterConfig } from "../config/schema.js";
import { parseDatabaseUrl } from "../store/url.js";
import { smtpFromEnv, type SmtpSettings } from "../delivery/smtp-settings.js";
import { dkimFromEnv, type DkimKey } from "../issues/dkim.js";
import { PressworkError } from "../errors/error.js";

/** How `presswork serve` runs: from flags, the environment and the config. Secrets come from the environment only. */
export interface ServiceSettings {
  root: string;
  host: string;
  port: number;
  /** DATABASE_URL, or undefined for data/presswork.sqlite. */
  databaseUrl: string | undefined;
  /** PRESSWORK_SECRET: the key the send signs unsubscribe tokens with. */
  secret: string;
  /** PRESSWORK_API_TOKEN: the bearer token of /api/; without it the API answers 503. */
  apiToken: string | undefined;
  /** The service's public address, ending in "/": confirmation links are made from it. */
  publicUrl: string;
  /** Origins whose pages may call POST /subscribe with fetch (CORS): the site's, and PRESSWORK_CORS_ORIGINS. */
  origins: string[];
  /** Which proxies to believe about the client's address (X-Forwarded-For): PRESSWORK_TRUST_PROXY. */
  trustProxy: false | string[];
  /** Subscribe requests one client address may make a minute: PRESSWORK_SUBSCRIBE_PER_MINUTE, default 10. */
  subscribePerMinute: number;
  /** SMTP_URL or SMTP_HOST and the rest (see smtpFromEnv); without them the mail goes to outbox/service. */
  smtp: SmtpSettings | undefined;
  /** DKIM_PRIVATE_KEY and its selector (see dkimFromEnv): the key the mail is signed with. */
  dkim: DkimKey | undefined;
  config: Config;
  newsletter: NewsletterConfig;
}


/** Where and how to listen, as the command line was given. */
export interface ServeFlags {
  host: string;
  port: number;
}

/**
 * Reads the service's settings. The public URL is PRESSWORK_PUBLIC_URL or,
 * without it, the folder of `newsletter.subscribe.url` (the service's
 * /subscribe), so the site's form and the confirmation links agree.
 */
export function serviceSettings(root: string, config: Config, env: NodeJS.ProcessEnv, flags: ServeFlags): ServiceSettings {
  const newsletter = config.newsletter;
  if (!newsletter) throw new PressworkError("service-setup", "no newsletter is configured: add a newsletter section to presswork.config.yaml");
  const secret = env["PRESSWORK_SECRET"];
  if (!secret) throw new PressworkError("service-setup", "PRESSWORK_SECRET is not set: set it to the same value the send uses, so the unsubscribe links in sent mail verify here");
  const publicUrl = publicBase(env["PRESSWORK_PUBLIC_URL"], newsletter.subscribe?.url);
  const origins = [new URL(config.site.url).origin, ...(env["PRESSWORK_CORS_ORIGINS"] ?? "").split(",").map((o) => o.trim()).filter(Boolean)].map((o) => {
    if (!URL.canParse(o)) throw new PressworkError("service-setup", `PRESSWORK_CORS_ORIGINS holds "${o}", which is not an origin such as https://news.example.com`);
    return new URL(o).origin;
  });
  return {
    root,
    host: flags.host,
    port: flags.port,
    databaseUrl: checkedDatabaseUrl(env["DATABASE_URL"], root),
    secret,
    apiToken: env["PRESSWORK_API_TOKEN"] || undefined,
    publicUrl,
    origins: [...new Set(origins)],
    trustProxy: trustProxy(env["PRESSWORK_TRUST_PROXY"]),
    subscribePerMinute: perMinute(env["PRESSWORK_SUBSCRIBE_PER_MINUTE"]),
    smtp: smtpFromEnv(env),
    dkim: dkimFromEnv(env, newsletter.from.address, "service-setup"),
    config,
    newsletter,
  };
}

function publicBase(explicit: string | undefined, subscribeUrl: string | undefined): string {
  if (explicit) {
    if (!URL.canParse(explicit) || !/^https?:$/.test(new URL(explicit).protocol)) throw new PressworkError("service-setup", `PRESSWORK_PUBLIC_URL is "${explicit}", not an absolute http(s) URL such as https://news.example.com/`);
    const url = new URL(explicit);
    return url.href.endsWith("/") ? url.href : `${url.href}/`;
  }
  if (subscribeUrl) return new URL(".", subscribeUrl).href;
  throw new PressworkError("service-setup", 
    "the service does not know its public address, which confirmation links need: set newsletter.subscribe.url in presswork.config.yaml to this service's /subscribe URL (e.g. https://news.example.com/subscribe), or PRESSWORK_PUBLIC_URL",
  );
}

/**
 * PRESSWORK_TRUST_PROXY: unset (trust nobody), or the addresses and ranges
 * of the proxies in front (`loopback`, `10.0.0.0/8`, comma-separated), whose
 * X-Forwarded-For then names the client.
 */
function trustProxy(value: string | undefined): false | string[] {
  const text = value?.trim() ?? "";
  if (text === "" || text === "false") return false;
  if (/^\d+$/.test(text)) throw new PressworkError("service-setup", `PRESSWORK_TRUST_PROXY is "${text}": give the proxies' addresses or ranges (e.g. loopback, or 10.0.0.0/8), not a number of hops`);
  const entries = text.split(",").map((v) => v.trim()).filter(Boolean);
  const wrong = entries.find((entry) => !isProxyEntry(entry));
  if (wrong !== undefined) {
    const why = wrong === "true" || /\/0$|\/0\.0\.0\.0$/.test(wrong) ? "trusting every proxy would let any client choose the address its rate limit and consent record go by" : "that is neither an address, a range nor loopback, linklocal or uniquelocal";
    throw new PressworkError("service-setup", `PRESSWORK_TRUST_PROXY holds "${wrong}": ${why}. Give the proxies' addresses or ranges, comma-separated (e.g. loopback, or 10.0.0.0/8)`);
  }
  return entries;
}

/**
 * An address, a range (CIDR, or an IPv4 address and its netmask) or one of
 * the named sets a trusted proxy may be given as, as Fastify's proxy-addr
 * takes them: a range of every address (`/0`) is none.
 */
function isProxyEntry(entry: string): boolean {
  if (["loopback", "linklocal", "uniquelocal"].includes(entry)) return true;
  const [address = "", range, ...more] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || more.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) >= 1 && Number(range) <= (family === 4 ? 32 : 128);
  if (family !== 4 || !isIPv4(range)) return false;
  // A netmask is ones, then zeros, and not all zeros.
  const inverse = ~range.split(".").reduce((bits, octet) => (bits << 8) | Number(octet), 0) >>> 0;
  return inverse !== 0xffffffff && (inverse & (inverse + 1)) === 0;
}

function perMinute(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return 10;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new PressworkError("service-setup", `PRESSWORK_SUBSCRIBE_PER_MINUTE is "${value}", not a whole number of requests from 1 up`);
  return n;
}

/** DATABASE_URL, checked before anything slow loads. */
function checkedDatabaseUrl(value: string | undefined, root: string): string | undefined {
  parseDatabaseUrl(value, root);
  return value || undefined;
}
