import { z } from "zod";
import { MAX_LOCAL_PART, MAX_TOKEN_LENGTH } from "../issues/verp.js";

/** The longest list id, in characters: RFC 2919 allows 255 octets, and the id is ASCII. */
export const LIST_ID_MAX = 255;

/**
 * The words the feeds write themselves, in the site's language: each may
 * name the values in braces its default names (`{tag}`, `{site}`).
 */
export const FEED_WORDS = {
  /** The heading of an item's key points. */
  quickReads: "Quick Reads",
  /** The link under an item that carries its summary alone. */
  readMore: "Read the full article",
  /** A tag's feed's description. */
  tagged: "Articles tagged {tag} in {site}",
  /** An author's feed's description. */
  by: "Articles by {author} in {site}",
  /** The issues feed's title, for a newsletter without a name. */
  newsletter: "{site} newsletter",
  /** The issues feed's description. */
  issues: "Every issue of {newsletter}",
  /** The first line of an issue's item. */
  issue: "Issue #{number}",
  /** The link under an issue's item. */
  readIssue: "Read the issue",
};

/** A feed's words: text, with no value in braces but those its default names. */
const feedWords = z
  .object(
    Object.fromEntries(
      Object.entries(FEED_WORDS).map(([key, fallback]) => {
        const known = new Set([...fallback.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
        const names = known.size > 0 ? `: it fills ${[...known].map((name) => `{${name}}`).join(" and ")}` : ": it fills none";
        return [
          key,
          z
            .string()
            .trim()
            .min(1, "must not be empty")
            .refine((text) => [...text.matchAll(/\{(\w+)\}/g)].every((m) => known.has(m[1])), { message: `names a value in braces it cannot fill${names}` })
            .default(fallback),
        ];
      }),
    ) as Record<keyof typeof FEED_WORDS, z.ZodDefault<z.ZodString>>,
  );

const absoluteUrl = z
  .string()
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
    message: "is not an absolute http(s) URL. Write it like https://example.com/",
  });

const author = z.object({
  name: z.string().min(1, "must not be empty"),
  email: z.email("is not an email address").optional(),
  url: absoluteUrl.optional(),
});

const timezone = z.string().refine(
  (value) => {
    try {
      new Intl.DateTimeFormat("en", { timeZone: value });
      return true;
    } catch {
      return false;
    }
  },
  { message: "is not a time zone. Use an IANA name such as UTC or Europe/Paris" },
);

const noLineBreak = (what: string) => z.string().min(1, "must not be empty").refine((v) => !/[\r\n]/.test(v), `must be one line: a line break in ${what} would inject mail headers`);

const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] as const;

/**
 * When issues go out: every day, week or month, on a weekday (weekly) or a
 * day of the month (monthly), at a time of day in the site's time zone. An
 * issue is due once the latest such slot has passed and no issue was
 * started since. Without a cadence, an issue is due whenever there is
 * something new.
 */
const cadence = z
  .object({
    every: z.enum(["day", "week", "month"], { error: "must be day, week or month" }),
    on: z
      .union([z.enum(WEEKDAYS, { error: "must be a weekday such as monday" }), z.number().int().min(1).max(28)], { error: "must be a weekday (every: week) or a day of the month from 1 to 28 (every: month)" })
      .optional(),
    at: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time of day as HH:MM, e.g. 07:00")
      .default("07:00"),
  })
  .superRefine((value, ctx) => {
    if (value.every === "week" && typeof value.on !== "string") ctx.addIssue({ code: "custom", path: ["on"], message: "must be a weekday such as monday for a weekly cadence" });
    if (value.every === "month" && typeof value.on !== "number") ctx.addIssue({ code: "custom", path: ["on"], message: "must be a day of the month from 1 to 28 for a monthly cadence" });
    if (value.every === "day" && value.on !== undefined) ctx.addIssue({ code: "custom", path: ["on"], message: "has no meaning for a daily cadence: remove it" });
  });

const newsletter = z.object({
  name: noLineBreak("the list name").optional(),
  mode: z.enum(["digest", "each"], { error: "must be digest (one issue gathers the new articles) or each (one issue per article)" }).default("digest"),
  maxArticles: z.number().int().min(1).max(30).default(10),
  content: z.enum(["summary", "full"], { error: "must be summary or full" }).default("summary"),
  subject: noLineBreak("the subject").default("{{ site.title }} #{{ issue.number }}: {{ lead.title }}"),
  from: z.object({ name: noLineBreak("the sender name"), address: z.email("is not an email address") }),
  replyTo: z.email("is not an email address").optional(),
  listId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,}$/, "must look like a domain name, e.g. news.example.com")
    .max(LIST_ID_MAX, `must be at most ${LIST_ID_MAX} characters (RFC 2919)`),
  unsubscribe: z.object({
    url: absoluteUrl.refine((v) => v.includes("{token}"), "must contain {token}, where each subscriber's unsubscribe token goes"),
    mailto: z.email("is not an email address"),
  }),
  subscribe: z.object({ url: absoluteUrl }).optional(),
  bounces: z
    .object({
      address: z.email("is not an email address"),
      delimiter: z.enum(["+", "-", "="], { error: "must be +, - or =: the character your mail server puts between a mailbox and its tag" }).default("+"),
    })
    .refine((b) => b.address.slice(0, b.address.lastIndexOf("@")).length + 1 + MAX_TOKEN_LENGTH <= MAX_LOCAL_PART, {
      message: `has a mailbox name too long for a per-recipient envelope sender: the part before @ can be at most ${MAX_LOCAL_PART - 1 - MAX_TOKEN_LENGTH} characters`,
    })
    .optional(),
  postalAddress: z.string().min(1, "must not be empty: bulk mail carries the sender's postal address"),
  reason: z.string().min(1).default("You get this email because you subscribed to our newsletter."),
  cadence: cadence.optional(),
}).superRefine((value, ctx) => {
  // With a bounce address, each List-Unsubscribe mailto carries a token too (unsubscribe+<token>@…).
  const local = value.unsubscribe.mailto.slice(0, value.unsubscribe.mailto.lastIndexOf("@"));
  if (value.bounces && local.length + 1 + MAX_TOKEN_LENGTH > MAX_LOCAL_PART) {
    ctx.addIssue({ code: "custom", path: ["unsubscribe", "mailto"], message: `has a mailbox name too long to carry each subscriber's token (newsletter.bounces is set): the part before @ can be at most ${MAX_LOCAL_PART - 1 - MAX_TOKEN_LENGTH} characters` });
  }
});

const delivery = z.object({
  maxConnections: z.number().int().min(1).max(50).default(5),
  messagesPerSecond: z.number().positive().optional(),
  hourlyLimit: z.number().int().positive().optional(),
  timeoutSeconds: z.number().positive().max(600).default(60),
  retries: z.number().int().min(0).max(10).default(3),
  retryDelaySeconds: z.number().min(0).max(600).default(2),
  /** When the relay limits the sender's rate: the whole send's first pause, doubled while it keeps refusing, up to `max`. */
  pauseSeconds: z
    .object({ first: z.number().positive().max(600).default(1), max: z.number().positive().max(600).default(60) })
    .refine((p) => p.max >= p.first, { message: "max must be at least first", path: ["max"] })
    .default({ first: 1, max: 60 }),
  /** Stop when more than `failureShare` of the last `window` outcomes failed, at any point of the run. */
  stopWhen: z
    .object({ window: z.number().int().min(10).default(200), failureShare: z.number().min(0).max(1).default(0.1) })
    .default({ window: 200, failureShare: 0.1 }),
});

/** Where the send's state lives (see README, "Where the send's state lives"). */
const state = z.object({
  branch: z
    .string()
    .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+(?<![./])$/, "is not a branch name such as presswork-state")
    .default("presswork-state"),
  /** A remote of the repository (origin) to fetch and push the branch; unset, it stays local. */
  remote: z.string().min(1).optional(),
  /** Where the state lives: the git branch, or the database of DATABASE_URL. */
  store: z.enum(["branch", "database"], { error: "must be branch (a git branch of the repository) or database (the database of DATABASE_URL)" }).default("branch"),
});

const folder = z.string().min(1, "must not be empty").refine((v) => !/[\r\n*%]/.test(v), "must be a folder name, without line breaks or the wildcards * and %");

const mailbox = z.object({
  folders: z.array(folder).min(1, "must name at least one folder to read").default(["INBOX"]),
  processed: folder.default("Presswork/Processed"),
  attention: folder.default("Presswork/Needs attention"),
  batchSize: z.number().int().min(1).max(1000).default(100),
  maxMessageKilobytes: z.number().int().min(64).max(65536).default(1024),
  pollSeconds: z.number().int().min(5).max(3600).default(60),
  /** The mailbox's own servers, by the authserv-id they write in Authentication-Results: only theirs are read. */
  authservIds: z.array(z.string().regex(/^[^\s;()"]+$/, "must be an authserv-id as the server writes it, such as mx.google.com")).min(1, "must name at least one server, or be left out").optional(),
});

const feedback = z.object({
  softBounces: z
    .object({ count: z.number().int().min(1).max(100).default(3), withinDays: z.number().int().min(1).max(3650).default(30) })
    .default({ count: 3, withinDays: 30 }),
  complaintRate: z
    .object({
      max: z.number().min(0).max(1, "is a share between 0 and 1: 0.003 is 0.3 %").default(0.003),
      minimumSent: z.number().int().min(0).default(0),
    })
    .default({ max: 0.003, minimumSent: 0 }),
});

/** The site and newsletter settings in `presswork.config.yaml`. Secrets never live here. */
export const configSchema = z.object({
  site: z.object({
    title: z.string().min(1, "must not be empty"),
    description: z.string().min(1, "must not be empty"),
    url: absoluteUrl,
    /** The domain in the ids Presswork makes (tag: URIs); unset, the host of `url`. */
    idAuthority: z
      .string()
      .regex(/^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/, "is not a domain name. Write the host alone, in lower case, like signal-noise.example")
      .optional(),
    language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "is not a language tag such as en or en-GB"),
    timezone: timezone.default("UTC"),
    copyright: z.string().optional(),
    icon: z.string().optional(),
    logo: z.string().optional(),
    twitter: z.string().regex(/^@\w{1,15}$/, "is not a handle such as @presswork").optional(),
  }),
  authors: z.record(z.string().regex(/^[\w-]+$/, "must be a short key of letters, digits, - or _").max(64, "must be a short key: 64 characters at most"), author),
  defaultAuthor: z.string().optional(),
  markdown: z
    .object({ bareUrls: z.boolean().default(false) })
    .default({ bareUrls: false }),
  pagination: z.object({ perPage: z.number().int().min(1).max(100).default(10) }).default({ perPage: 10 }),
  newsletter: newsletter.optional(),
  delivery: delivery.default({ maxConnections: 5, timeoutSeconds: 60, retries: 3, retryDelaySeconds: 2, pauseSeconds: { first: 1, max: 60 }, stopWhen: { window: 200, failureShare: 0.1 } }),
  state: state.default({ branch: "presswork-state", store: "branch" }),
  mailbox: mailbox.default({ folders: ["INBOX"], processed: "Presswork/Processed", attention: "Presswork/Needs attention", batchSize: 100, maxMessageKilobytes: 1024, pollSeconds: 60 }),
  feedback: feedback.default({ softBounces: { count: 3, withinDays: 30 }, complaintRate: { max: 0.003, minimumSent: 0 } }),
  feeds: z
    .object({
      limit: z.number().int().min(1).max(500).default(20),
      tagLimit: z.number().int().min(1).max(500).default(20),
      fullContent: z.boolean().default(true),
      hub: absoluteUrl.optional(),
      /** Whether Atom entries give each author's email address, which makes it public. */
      authorEmails: z.boolean().default(false),
      words: feedWords.default(FEED_WORDS),
    })
    .default({ limit: 20, tagLimit: 20, fullContent: true, authorEmails: false, words: FEED_WORDS }),
});

/** Validated configuration as the rest of the code sees it. */
export type Config = z.infer<typeof configSchema>;
/** Reading bounces, complaints and unsubscribe mail over IMAP. */
export type MailboxConfig = z.infer<typeof mailbox>;
/** What bounces and complaints do to the list. */
export type FeedbackConfig = z.infer<typeof feedback>;
/** The newsletter settings. */
export type NewsletterConfig = z.infer<typeof newsletter>;
/** When issues go out. */
export type Cadence = z.infer<typeof cadence>;
/** The days of the week, Sunday first (as Date.getDay()). */
export { WEEKDAYS };
