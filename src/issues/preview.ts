import type { Config, NewsletterConfig } from "../config/schema.js";
import { greetingFor } from "./greeting.js";
import type { CompiledIssue } from "./render.js";
import { personalise, type TokenValues } from "./tokens.js";
import { unsubscribeLink } from "./unsubscribe-url.js";

/** A placeholder recipient for previews: never a real subscriber. */
export const PREVIEW_RECIPIENT = { address: "reader@example.com", name: "Reader" };

/** The personal values of the preview's placeholder recipient: the configured unsubscribe URL with "preview" for a token. */
export function previewValues(newsletter: NewsletterConfig): TokenValues {
  return { unsubscribe_url: unsubscribeLink(newsletter.unsubscribe.url, newsletter.listId, "preview"), name: PREVIEW_RECIPIENT.name, greeting: greetingFor(PREVIEW_RECIPIENT.name) };
}

/** Output paths of the next issue's preview. */
export const PREVIEW_FILES = ["issues/next/index.html", "issues/next/issue.txt", "issues/next/issue.eml"];

/** The preview files of the next issue: its HTML, its text and a sample message to a placeholder address. */
export async function previewFiles(issue: CompiledIssue, config: Config, newsletter: NewsletterConfig): Promise<Map<string, string | Uint8Array>> {
  const values = previewValues(newsletter);
  // Loaded here: a build without a newsletter never loads the mail composer.
  const { buildMessage } = await import("./message.js");
  const eml = await buildMessage(issue, PREVIEW_RECIPIENT, config, newsletter, { secret: "preview", date: issue.plan.date });
  const [html, text, message] = PREVIEW_FILES as [string, string, string];
  return new Map<string, string | Uint8Array>([
    [html, personalise(issue.html, values, "html")],
    [text, personalise(issue.text, values, "text")],
    [message, eml],
  ]);
}
