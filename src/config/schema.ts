import { z } from "zod";

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

const newsletter = z.object({
  name: noLineBreak("the list name").optional(),
  mode: z.enum(["digest", "each"], { error: "must be digest (one issue gathers the new articles) or each (one issue per article)" }).default("digest"),
  maxArticles: z.number().int().min(1).max(30).default(10),
  content: z.enum(["summary", "full"], { error: "must be summary or full" }).default("summary"),
  subject: noLineBreak("the subject").default("{{ site.title }} #{{ issue.number }}: {{ lead.title }}"),
  from: z.object({ name: noLineBreak("the sender name"), address: z.email("is not an email address") }),
  replyTo: z.email("is not an email address").optional(),
  listId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,}$/, "must look like a domain name, e.g. news.example.com"),
  unsubscribe: z.object({
    url: absoluteUrl.refine((v) => v.includes("{token}"), "must contain {token}, where each subscriber's unsubscribe token goes"),
    mailto: z.email("is not an email address"),
  }),
  postalAddress: z.string().min(1, "must not be empty: bulk mail carries the sender's postal address"),
  reason: z.string().min(1).default("You get this email because you subscribed to our newsletter."),
});

const delivery = z.object({
  maxConnections: z.number().int().min(1).max(50).default(5),
  messagesPerSecond: z.number().positive().optional(),
  hourlyLimit: z.number().int().positive().optional(),
  timeoutSeconds: z.number().positive().max(600).default(60),
  retries: z.number().int().min(0).max(10).default(3),
  retryDelaySeconds: z.number().min(0).max(600).default(2),
  stopWhen: z
    .object({ first: z.number().int().min(1).default(200), failureShare: z.number().min(0).max(1).default(0.1) })
    .default({ first: 200, failureShare: 0.1 }),
});

/** The site and newsletter settings in `presswork.config.yaml`. Secrets never live here. */
export const configSchema = z.object({
  site: z.object({
    title: z.string().min(1, "must not be empty"),
    description: z.string().min(1, "must not be empty"),
    url: absoluteUrl,
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
  delivery: delivery.default({ maxConnections: 5, timeoutSeconds: 60, retries: 3, retryDelaySeconds: 2, stopWhen: { first: 200, failureShare: 0.1 } }),
  feeds: z
    .object({
      limit: z.number().int().min(1).max(500).default(20),
      tagLimit: z.number().int().min(1).max(500).default(20),
      fullContent: z.boolean().default(true),
      hub: absoluteUrl.optional(),
    })
    .default({ limit: 20, tagLimit: 20, fullContent: true }),
});

/** Validated configuration as the rest of the code sees it. */
export type Config = z.infer<typeof configSchema>;
/** The newsletter settings. */
export type NewsletterConfig = z.infer<typeof newsletter>;
