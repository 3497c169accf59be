import { createHash, createHmac } from "node:crypto";
import MailComposer from "nodemailer/lib/mail-composer";
import DKIM from "nodemailer/lib/dkim";
import type { Config, NewsletterConfig } from "../config/schema.js";
import type { CompiledIssue } from "./render.js";
import { personalise } from "./tokens.js";

/** One person to mail. */
export interface Recipient {
  address: string;
  name?: string;
}

/** A DKIM key, from the environment. */
export interface DkimKey {
  domainName: string;
  keySelector: string;
  privateKey: string;
}

/** What building a message needs besides the issue and the recipient. */
export interface MessageOptions {
  /** HMAC key for unsubscribe tokens and Message-IDs (PRESSWORK_SECRET). */
  secret: string;
  /** The Date header. */
  date: Date;
  dkim?: DkimKey;
  /** A test send: subject prefixed [TEST]. */
  test?: boolean;
}

/** Headers every message signs with DKIM, List-Unsubscribe and List-Unsubscribe-Post among them (RFC 8058). */
export const SIGNED_HEADERS = "from:sender:reply-to:subject:date:message-id:to:cc:mime-version:content-type:content-transfer-encoding:list-id:list-unsubscribe:list-unsubscribe-post";

/** A header value would carry a line break into the message head. */
export class HeaderInjectionError extends Error {}

/**
 * An unsubscribe token: the address and an HMAC of address and list, so the
 * unsubscribe service verifies it with the secret alone, without a database.
 */
export function unsubscribeToken(address: string, list: string, secret: string): string {
  const normal = address.trim().toLowerCase();
  const mac = createHmac("sha256", secret).update(`${normal}\n${list}`).digest("base64url").slice(0, 32);
  return `${Buffer.from(normal).toString("base64url")}.${mac}`;
}

/** The address a token was made for, when the token is genuine for `list`. */
export function verifyUnsubscribeToken(token: string, list: string, secret: string): string | undefined {
  const [encoded = "", mac] = token.split(".");
  const address = Buffer.from(encoded, "base64url").toString("utf8");
  return mac !== undefined && unsubscribeToken(address, list, secret) === token ? address : undefined;
}

/** A stable, opaque id for an address: the same for every send, useless without the secret. */
export function addressKey(address: string, secret: string): string {
  return createHmac("sha256", secret).update(address.trim().toLowerCase()).digest("hex").slice(0, 24);
}

/** The one-click unsubscribe URL of a recipient. */
export function unsubscribeUrl(newsletter: NewsletterConfig, address: string, secret: string): string {
  return newsletter.unsubscribe.url.replace("{list}", encodeURIComponent(newsletter.listId)).replace("{token}", encodeURIComponent(unsubscribeToken(address, newsletter.listId, secret)));
}

function refuseLineBreaks(values: Record<string, string | undefined>): void {
  for (const [field, value] of Object.entries(values)) {
    if (value !== undefined && /[\r\n]/.test(value)) throw new HeaderInjectionError(`the ${field} contains a line break, which would inject mail headers; nothing was built`);
  }
}

/**
 * One recipient's complete MIME message: multipart/alternative text and
 * HTML in UTF-8, a deterministic Message-ID, List-Id, one List-Unsubscribe
 * header with the https one-click URL and a mailto, List-Unsubscribe-Post,
 * and a DKIM signature over all of them when a key is given.
 */
export async function buildMessage(issue: CompiledIssue, recipient: Recipient, config: Config, newsletter: NewsletterConfig, options: MessageOptions): Promise<Buffer> {
  const subject = `${options.test ? "[TEST] " : ""}${issue.subject}`;
  refuseLineBreaks({ subject, "recipient name": recipient.name, "recipient address": recipient.address, "sender name": newsletter.from.name });
  const url = unsubscribeUrl(newsletter, recipient.address, options.secret);
  const values = { unsubscribe_url: url, name: recipient.name?.trim() || "reader" };
  const domain = newsletter.from.address.split("@")[1] ?? "localhost";
  const listName = (newsletter.name ?? config.site.title).replace(/["\\]/g, "");
  const messageId = `<issue-${issue.plan.number}${options.test ? "-test" : ""}.${addressKey(recipient.address, options.secret)}@${domain}>`;
  const composer = new MailComposer({
    // Derived, not random, so the same message is the same bytes (the preview in dist/ is reproducible).
    baseBoundary: createHash("sha1").update(messageId).digest("hex").slice(0, 16),
    from: { name: newsletter.from.name, address: newsletter.from.address },
    to: recipient.name ? { name: recipient.name, address: recipient.address } : recipient.address,
    ...(newsletter.replyTo ? { replyTo: newsletter.replyTo } : {}),
    subject,
    date: options.date,
    messageId,
    text: personalise(issue.text, values, "text"),
    html: personalise(issue.html, values, "html"),
    textEncoding: "quoted-printable",
    headers: {
      "List-ID": { prepared: true, value: `"${listName}" <${newsletter.listId}>` },
      "List-Unsubscribe": { prepared: true, value: `<${url}>, <mailto:${newsletter.unsubscribe.mailto}?subject=unsubscribe>` },
      "List-Unsubscribe-Post": { prepared: true, value: "List-Unsubscribe=One-Click" },
    },
  });
  const raw = await composer.compile().build();
  if (!options.dkim) return raw;
  return streamToBuffer(new DKIM({ ...options.dkim, headerFieldNames: SIGNED_HEADERS }).sign(raw));
}

async function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}
