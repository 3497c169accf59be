import { z } from "zod";
import { article } from "../validate/words.js";
import { SLUG_MAX } from "./article.js";
import { parseDate } from "./dates.js";

const DATE_HINT = "not a date. Write it as YYYY-MM-DD, or YYYY-MM-DDTHH:MM with an optional offset such as +02:00";

const text = (what: string) =>
  z.string({
    error: (issue) => (issue.input === undefined ? `every article needs ${what}` : "must be text; put it in quotes"),
  });

const date = (timeZone: string, required: boolean) =>
  z
    .string({
      error: (issue) =>
        issue.input === undefined && required ? `every article needs a publication date. Add date: YYYY-MM-DD` : DATE_HINT,
    })
    .transform((value, ctx) => {
      const parsed = parseDate(value, timeZone);
      if (!parsed) {
        ctx.addIssue({ code: "custom", message: DATE_HINT });
        return z.NEVER;
      }
      return parsed;
    });

/** Whether a value holds no line break: one that names a page or goes into a mail's subject must not. */
const oneLine = (value: string) => !/[\r\n]/.test(value);

const list = (what: string) => {
  const item = z.string().refine(oneLine, `has a line break: it is the title of the ${what}'s page, so write it on one line`);
  return z
    .union([item.min(1, `must not be empty`), z.array(item.min(1, `an empty ${what} is not allowed`))], {
      error: `must be ${article(what)} or a list of them, like [one, two]`,
    })
    .transform((value) => (typeof value === "string" ? [value] : value));
};

/** The URI schemes an id may use: ones feed readers take as ids, and none a browser would run. */
const ID_SCHEMES = new Set(["tag:", "urn:", "https:", "http:"]);

/** An article's title: the page's title and the email's subject, so one line of at most 300 characters. */
export const articleTitle = text("a title")
  .trim()
  .min(1, "must not be empty")
  .max(300, "is longer than 300 characters")
  .refine(oneLine, "has a line break: it is the page's title and the email's subject, so write it on one line");

const schemas = new Map<string, ReturnType<typeof buildSchema>>();

/** The front matter of one article, parsed with the site's time zone for dates without an offset. Built once per zone. */
export function frontMatterSchema(timeZone: string): ReturnType<typeof buildSchema> {
  let schema = schemas.get(timeZone);
  if (!schema) {
    schema = buildSchema(timeZone);
    schemas.set(timeZone, schema);
  }
  return schema;
}

function buildSchema(timeZone: string) {
  return z.object({
    title: articleTitle,
    subtitle: z.string().optional(),
    date: date(timeZone, true),
    updated: date(timeZone, false).optional(),
    id: z
      .string()
      .refine((value) => URL.canParse(value) && ID_SCHEMES.has(new URL(value).protocol), "is not an id feed readers take: write a tag: URI such as tag:example.com,2026-01-31:my-story (or a urn: or https: address)")
      .optional(),
    slug: z
      .string()
      .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "must be lowercase letters, digits and single hyphens, like my-story")
      .max(SLUG_MAX, `is longer than ${SLUG_MAX} characters: a slug is part of the address, keep it short`)
      .optional(),
    authors: list("author").optional(),
    tags: list("tag").optional(),
    summary: z.string().trim().min(1, "must not be empty").optional(),
    keyPoints: z
      .array(z.string().trim().min(1, "an empty key point is not allowed"), { error: "must be a list of short sentences" })
      .min(1, "needs at least one point")
      .max(7, "has more than 7 points; Quick Reads stay short")
      .optional(),
    image: z
      .object(
        {
          src: z.string().min(1, "must name the image file"),
          alt: z
            .string({ error: (issue) => (issue.input === undefined ? "describe the image for readers who cannot see it, as alt: What the photo shows" : "must be text; put it in quotes") })
            .trim()
            .min(1, "must describe the image; it is read aloud to readers who cannot see it"),
          caption: z.string().optional(),
        },
        { error: "needs alt text: write it as image: { src: photo.jpg, alt: What the photo shows }" },
      )
      .optional(),
    aliases: z
      .union([z.string().min(1, "must not be empty"), z.array(z.string().min(1, "an empty address is not allowed"))], {
        error: "must be an old address of this article or a list of them, like [articles/old-name/]",
      })
      .transform((value) => (typeof value === "string" ? [value] : value))
      .optional(),
    canonical: z.url({ protocol: /^https?$/, error: "is not the http or https address of the original, like https://example.com/story" }).optional(),
    draft: z.boolean({ error: "must be true or false" }).default(false),
    // Jekyll's key, read so that `published: false` cannot publish an article (see readMeta).
    published: z
      .boolean({
        error: (issue) =>
          typeof issue.input === "string" && /^\d{4}-\d\d-\d\d/.test(issue.input)
            ? `but Presswork reads an article's date from 'date' alone: give it there (date: ${issue.input}) and take this line out`
            : "must be true or false; Presswork holds an article back with draft: true",
      })
      .optional(),
  });
}
