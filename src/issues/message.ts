import { createHash, createHmac, randomBytes } from "node:crypto";
import MailComposer from "nodemailer/lib/mail-composer";
import * as mimeFuncs from "nodemailer/lib/mime-funcs";
import * as qp from "nodemailer/lib/qp";
import DKIM from "nodemailer/lib/dkim";
import type { DkimKey } from "./dkim.js";
import type { Config, NewsletterConfig } from "../config/schema.js";
import type { CompiledIssue } from "./render.js";
import { greetingFor } from "./greeting.js";
import { readUnsubscribeToken, splitPart, unsubscribeTokenFor, type TokenValues } from "./tokens.js";
import { unsubscribeMailto } from "./verp.js";
import { PressworkError } from "../errors/error.js";
import { unsubscribeLink } from "./unsubscribe-url.js";
import { domainOf } from "../audience/address.js";
import { digest } from "../cache/key.js";

/** One person to mail. */
export interface Recipient {
  address: string;
  name?: string;
  /** The address's keyed hash, when the caller has it already. */
  key?: string;
}

/** What building a message needs besides the issue and the recipient. */
export interface MessageOptions {
  /** HMAC key for unsubscribe tokens and Message-IDs (PRESSWORK_SECRET). */
  secret: string;
  /**
   * The Date header: a date (a preview's), or a clock read as each copy is
   * made, so that a send running for hours, or re-run days after the build
   * that planned it, dates each message when it goes out.
   */
  date: Date | (() => Date);
  dkim?: DkimKey;
  /** A test send: subject prefixed [TEST]. */
  test?: boolean;
  /**
   * The delimiter of tagged addresses, for a mail system that takes them
   * (`newsletter.bounces` says it does, and which): each recipient's
   * List-Unsubscribe mailto then carries their token in its address too
   * (`unsubscribe+<token>@…`). Its subject always does
   * (`?subject=unsubscribe%20<token>`), so a request by mail names the
   * recipient and the issue whoever sends it.
   */
  unsubscribeDelimiter?: string;
  /** More headers, unsigned (a relay's own, such as Postmark's X-PM-Metadata-issue). */
  headers?: Record<string, string>;
}

/** Headers every message signs with DKIM, List-Unsubscribe and List-Unsubscribe-Post among them (RFC 8058). */
export const SIGNED_HEADERS = "from:sender:reply-to:subject:date:message-id:to:cc:mime-version:content-type:content-transfer-encoding:list-id:list-unsubscribe:list-unsubscribe-post:feedback-id";


/**
 * A recipient's unsubscribe token (see unsubscribeTokenFor): names the list
 * and the address's keyed hash, never the address.
 */
export function unsubscribeToken(address: string, list: string, secret: string, key = addressKey(address, secret)): string {
  return unsubscribeTokenFor(key, list, secret);
}

/** The keyed hash of the address a token was made for, when the token is genuine for `list` (current or earlier format). */
export function verifyUnsubscribeToken(token: string, list: string, secret: string): string | undefined {
  const claim = readUnsubscribeToken(token, list, secret);
  if (!claim.ok) return undefined;
  return "key" in claim ? claim.key : addressKey(claim.address, secret);
}

/** A stable, opaque id for an address: the same for every send, useless without the secret. */
export function addressKey(address: string, secret: string): string {
  return createHmac("sha256", secret).update(address.trim().toLowerCase()).digest("hex").slice(0, 24);
}

/** The one-click unsubscribe URL of a recipient. */
export function unsubscribeUrl(newsletter: NewsletterConfig, address: string, secret: string, key?: string): string {
  return unsubscribeLink(newsletter.unsubscribe.url, newsletter.listId, unsubscribeToken(address, newsletter.listId, secret, key));
}

function refuseLineBreaks(values: Record<string, string | undefined>): void {
  for (const [field, value] of Object.entries(values)) {
    if (value !== undefined && /[\r\n]/.test(value)) throw new PressworkError("header-injection", `the ${field} contains a line break, which would inject mail headers; nothing was built`);
  }
}

/** Builds each recipient's message for one issue. */
export type MessageFactory = (recipient: Recipient) => Promise<Buffer>;

/**
 * One recipient's complete MIME message: multipart/alternative text and
 * HTML in UTF-8, a deterministic Message-ID, List-Id, one List-Unsubscribe
 * header with the https one-click URL and a mailto, List-Unsubscribe-Post,
 * and a DKIM signature over all of them when a key is given.
 */
export async function buildMessage(issue: CompiledIssue, recipient: Recipient, config: Config, newsletter: NewsletterConfig, options: MessageOptions): Promise<Buffer> {
  return (await messageFactory(issue, config, newsletter, options))(recipient);
}

/**
 * Composes the issue's message once with nodemailer's composer, with
 * placeholders where each recipient differs (To, Message-ID, the unsubscribe
 * URL, the bodies), then makes each recipient's copy by substitution. The
 * bodies are quoted-printable, encoded piece by piece: each static piece and
 * each value ends with a soft line break, so no line passes 76 characters
 * and decoding gives back the exact text. Composing every message from
 * scratch would cap a send at about 1,300 messages a second of CPU.
 */
export async function messageFactory(issue: CompiledIssue, config: Config, newsletter: NewsletterConfig, options: MessageOptions): Promise<MessageFactory> {
  const subject = `${options.test ? "[TEST] " : ""}${issue.subject}`;
  refuseLineBreaks({ subject, "sender name": newsletter.from.name });
  // A test copy's Message-ID is its own, so that a second test copy after an edit shows in the inbox beside the first.
  const testNonce = options.test ? randomBytes(4).toString("hex") : undefined;
  const composer = new MailComposer({
    // Derived, not random, so the same message is the same bytes (the preview in dist/ is reproducible).
    baseBoundary: createHash("sha1").update(`${newsletter.listId}:${issue.plan.number}:${subject}`).digest("hex").slice(0, 16),
    from: { name: newsletter.from.name, address: newsletter.from.address },
    to: PLACEHOLDER.to,
    ...(newsletter.replyTo ? { replyTo: newsletter.replyTo } : {}),
    subject,
    date: PLACEHOLDER.date,
    messageId: PLACEHOLDER.messageId,
    // The placeholders are ASCII, so the composer would pick 7bit: the real bodies go in as quoted-printable.
    text: { content: PLACEHOLDER.text, contentTransferEncoding: "quoted-printable" },
    html: { content: PLACEHOLDER.html, contentTransferEncoding: "quoted-printable" },
    headers: {
      "List-ID": { prepared: true, value: listIdValue(newsletter.name ?? config.site.title, newsletter.listId) },
      "List-Unsubscribe": { prepared: true, value: `<${PLACEHOLDER.unsubscribe}>, <${PLACEHOLDER.mailto}>` },
      "List-Unsubscribe-Post": { prepared: true, value: "List-Unsubscribe=One-Click" },
      "Feedback-ID": { prepared: true, value: feedbackId(issue.plan.number, newsletter, options.test === true) },
      ...Object.fromEntries(Object.entries(options.headers ?? {}).map(([name, value]) => [name, { prepared: true, value }])),
    },
  });
  const template = (await composer.compile().build()).toString("utf8");
  // The template split once at its placeholders, in the order they appear: each copy is one Buffer.concat.
  const markers = [`To: ${PLACEHOLDER.to}`, `Date: ${PLACEHOLDER.date}`, PLACEHOLDER.messageId, PLACEHOLDER.unsubscribe, PLACEHOLDER.mailto, PLACEHOLDER.text, PLACEHOLDER.html]
    .map((marker) => ({ marker, at: template.indexOf(marker) }))
    .sort((a, b) => a.at - b.at);
  const statics: Buffer[] = [];
  let last = 0;
  for (const { marker, at } of markers) {
    if (at < 0) throw new PressworkError("internal", `message template lost its placeholder ${marker}`);
    statics.push(Buffer.from(template.slice(last, at), "utf8"));
    last = at + marker.length;
  }
  statics.push(Buffer.from(template.slice(last), "utf8"));
  const text = qpPieces(issue.text, "text");
  const html = qpPieces(issue.html, "html");
  const signer = options.dkim ? new DKIM({ ...options.dkim, headerFieldNames: SIGNED_HEADERS }) : undefined;
  const { date } = options;
  const dated = date instanceof Date ? () => date : date;
  const mailbox = { address: newsletter.unsubscribe.mailto, ...(options.unsubscribeDelimiter ? { delimiter: options.unsubscribeDelimiter } : {}) };
  return async (recipient) => {
    refuseLineBreaks({ "recipient name": recipient.name, "recipient address": recipient.address });
    const key = recipient.key ?? addressKey(recipient.address, options.secret);
    const url = unsubscribeUrl(newsletter, recipient.address, options.secret, key);
    const values = { unsubscribe_url: url, name: recipient.name?.trim() || "reader", greeting: greetingFor(recipient.name) };
    const messageId = issueMessageId(issue.plan.number, key, newsletter, testNonce);
    const fill: Record<string, () => Buffer[]> = {
      // ASCII but for an internationalised address in To, which SMTPUTF8 carries as UTF-8.
      [`To: ${PLACEHOLDER.to}`]: () => [Buffer.from(toHeader(recipient), "utf8")],
      [`Date: ${PLACEHOLDER.date}`]: () => [Buffer.from(`Date: ${headerDate(dated())}`)],
      [PLACEHOLDER.messageId]: () => [Buffer.from(messageId)],
      [PLACEHOLDER.unsubscribe]: () => [Buffer.from(url)],
      [PLACEHOLDER.mailto]: () => [Buffer.from(unsubscribeMailto(mailbox, { issue: issue.plan.number, key }, options.secret))],
      [PLACEHOLDER.text]: () => text(values),
      [PLACEHOLDER.html]: () => html(values),
    };
    const parts: Buffer[] = [statics[0] as Buffer];
    markers.forEach(({ marker }, i) => parts.push(...(fill[marker]?.() ?? []), statics[i + 1] as Buffer));
    const raw = Buffer.concat(parts);
    return signer ? streamToBuffer(signer.sign(raw)) : raw;
  };
}

/** Placeholders in the composed template: ASCII, short, and left alone by quoted-printable. */
const PLACEHOLDER = {
  to: "recipient@presswork.invalid",
  // Given as a string, the composer writes it as it is: the date is written here, once a copy is made.
  date: "PRESSWORKDATEPLACEHOLDER",
  messageId: "<placeholder-message-id@presswork.invalid>",
  unsubscribe: "https://presswork.invalid/unsubscribe-placeholder",
  mailto: "mailto:unsubscribe-placeholder@presswork.invalid",
  text: "PRESSWORKTEXTBODYPLACEHOLDER",
  html: "PRESSWORKHTMLBODYPLACEHOLDER",
};

/** A Date header's value (RFC 5322, in UTC), as nodemailer writes one given a Date. */
function headerDate(date: Date): string {
  return date.toUTCString().replace("GMT", "+0000");
}

/**
 * The Message-ID of an issue's message to one recipient, at the sender's
 * domain: the issue, the recipient's keyed hash and a tag of the list, so
 * that the copies one reader gets of two newsletters sent from one domain
 * with one secret differ (RFC 5322 3.6.4: unique; Gmail keeps one message
 * per Message-ID). The same recipient's copy of the same issue keeps its
 * id on every attempt. A test copy's adds its nonce.
 */
export function issueMessageId(number: number, key: string, newsletter: Pick<NewsletterConfig, "from" | "listId">, testNonce?: string): string {
  const domain = domainOf(newsletter.from.address);
  const test = testNonce === undefined ? "" : "-test";
  return `<issue-${number}${test}.${key}.${listTag(newsletter.listId)}${testNonce === undefined ? "" : `.${testNonce}`}@${domain}>`;
}

/**
 * The Feedback-ID header's value for Gmail's feedback loop, whose spam
 * rates Postmaster Tools shows by each of its fields: the issue (a test
 * copy apart), the list, the kind of mail, and last the sender, which
 * Gmail wants of 5 to 15 characters: `pw-` and a digest of the sender's
 * domain. Gmail reports only on mail DKIM-signed for a domain, with this
 * header signed.
 */
export function feedbackId(number: number, newsletter: Pick<NewsletterConfig, "from" | "listId">, test: boolean): string {
  const sender = digest(domainOf(newsletter.from.address).toLowerCase()).slice(0, 10);
  return `issue-${number}${test ? "-test" : ""}:list-${listTag(newsletter.listId)}:newsletter:pw-${sender}`;
}

/** The short tag of a list id in its Message-IDs. */
export function listTag(listId: string): string {
  return createHash("sha256").update(listId.toLowerCase()).digest("hex").slice(0, 8);
}

/**
 * The List-ID header's value (RFC 2919): the list's name as a phrase, quoted
 * when it is plain ASCII and RFC 2047-encoded when it is not (a header is
 * 7-bit without SMTPUTF8, and an encoded word may not stand in quotes), then
 * the list id; folded to lines of 76.
 */
export function listIdValue(name: string, listId: string): string {
  const phrase = name.replace(/[\r\n]+/g, " ").trim();
  const shown = mimeFuncs.isPlainText(phrase) ? mimeFuncs.quoteString(phrase) : mimeFuncs.encodeWords(phrase, "Q", 52, true);
  return mimeFuncs.foldLines(`List-ID: ${shown} <${listId}>`, 76).slice("List-ID: ".length);
}

/** The To header for one recipient: the name RFC 2047-encoded when it is not plain ASCII, quoted otherwise. */
function toHeader(recipient: Recipient): string {
  if (!recipient.name) return `To: ${recipient.address}`;
  const name = mimeFuncs.isPlainText(recipient.name) ? mimeFuncs.quoteString(recipient.name) : mimeFuncs.encodeWords(recipient.name, "Q", 52, true);
  return mimeFuncs.foldLines(`To: ${name} <${recipient.address}>`, 76);
}

/**
 * A body split at its personalisation tokens, each static piece encoded as
 * quoted-printable once; a copy encodes only the recipient's values. Every
 * piece but the last ends with a soft line break.
 */
function qpPieces(compiled: string, kind: "html" | "text"): (values: TokenValues) => Buffer[] {
  const pieces = splitPart(compiled, kind);
  const encode = (s: string) => (s === "" ? "" : `${qp.wrap(qp.encode(s.replace(/\r?\n/g, "\r\n")), 76).replace(/\r?\n/g, "\r\n")}=\r\n`);
  const statics = pieces.statics.map((piece, i) => {
    const encoded = encode(piece);
    return Buffer.from(i === pieces.statics.length - 1 && encoded.endsWith("=\r\n") ? encoded.slice(0, -3) : encoded);
  });
  return (values) => {
    const out: Buffer[] = [statics[0] as Buffer];
    // A token used several times (the unsubscribe link) is encoded once a copy.
    const encoded = new Map<string, Buffer>();
    pieces.slots.forEach((slot, i) => {
      const written = (pieces.write[i] as (value: string) => string)(values[slot]);
      let value = encoded.get(written);
      if (!value) encoded.set(written, (value = Buffer.from(encode(written))));
      out.push(value, statics[i + 1] as Buffer);
    });
    return out;
  };
}

async function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}
