import { createHash } from "node:crypto";
import { simpleParser, type ParsedMail } from "mailparser";
import { eventId, withoutAddresses, type FeedbackEvent, type FeedbackKind, type FeedbackRecipient, type FeedbackSource } from "../feedback/event.js";
import { senderAuthenticated } from "./authentication-results.js";
import { addressOf, field, fieldBlocks, messageHead, type FieldBlock } from "./fields.js";
import { byAddress, fromEnvelope, fromOriginal, fromUnsubscribeToken, isMailbox, isOurs, splitAddress, type Identified, type SenderIdentity } from "./identify.js";
import { failureStatus, severity, statusIn } from "./severity.js";
import { fromMailSystem, isAutoReply, readTextBounce } from "./text-bounce.js";

/** What a message in the bounce or unsubscribe mailbox turned out to be. */
export interface Classification {
  /** What it says about recipients; empty for a message that changes nothing (a not-spam report, an unreadable one). */
  events: FeedbackEvent[];
  /** False when it could not be understood: it goes to a person. */
  understood: boolean;
  /** dsn, arf, jmrp, exim, qmail, yahoo, text, auto-reply, unsubscribe-mail, or unknown. */
  format: string;
  /** What it is, in a few words and without any address, for the report. */
  summary: string;
}

/** What classifying needs besides the message. */
export interface ClassifyOptions {
  identity: SenderIdentity;
  /** When the message was read: the time of events whose report carries no date. */
  now: Date;
  source?: FeedbackSource;
  /** `mailbox.authservIds`: the servers whose Authentication-Results are read; unset, the topmost field's. */
  authservIds?: readonly string[];
}

/** Headers a mailbox sees that carry the envelope recipient of a message: where a VERP address shows. */
const ENVELOPE_HEADERS = ["delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "x-rcpt-to", "x-original-recipient", "to", "cc", "return-path"];

/**
 * Classifies one raw message from the bounce or unsubscribe mailbox:
 * an RFC 3464 delivery status notification (per recipient, hard or soft),
 * an RFC 5965 feedback report or a Microsoft JMRP report (a complaint), a
 * text bounce (Exim, qmail, Yahoo and others), an automatic reply, or an
 * unsubscribe request. The
 * recipient and issue come from the signed envelope address first, then the
 * original message's Message-ID or List-Unsubscribe token; a bounce that has
 * neither is not trusted, and in one that has, the addresses the report
 * names come last. `raw` may be the start of a large message only.
 */
export async function classifyMessage(raw: Buffer, options: ClassifyOptions): Promise<Classification> {
  const mail = await simpleParser(raw, { keepDeliveryStatus: true, skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true, checksumAlgo: false } as Parameters<typeof simpleParser>[1]);
  const context = new Context(mail, raw, options);
  // Mail to the unsubscribe address is a request to leave even when a mail program sent it marked as automatic (Apple Mail).
  return classifyDsn(context) ?? classifyArf(context) ?? classifyJmrp(context) ?? classifyUnsubscribe(context, "token") ?? classifyTextBounce(context) ?? classifyUnsubscribe(context, "mailbox") ?? classifyAutoReply(context) ?? classifyUnsubscribe(context, "subject") ?? {
    events: [],
    understood: false,
    format: "unknown",
    summary: mail.attachments.length > 0 ? `no delivery status, feedback report or bounce text found (${mail.headers.get("content-type") ? contentType(mail) : "no content type"})` : "no delivery status, feedback report or bounce text found",
  };
}

/** The parsed message and what every classifier asks of it. */
class Context {
  readonly source: FeedbackSource;
  readonly at: string;
  /** Header values by lower-case name, every occurrence, from the raw head (unparsed). */
  readonly head: FieldBlock;
  readonly envelope: Identified;
  private readonly base: string;

  constructor(
    readonly mail: ParsedMail,
    private readonly raw: Buffer,
    readonly options: ClassifyOptions,
  ) {
    this.source = options.source ?? "imap";
    this.at = (mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date : options.now).toISOString();
    const headEnd = raw.indexOf("\r\n\r\n") >= 0 ? raw.indexOf("\r\n\r\n") : raw.indexOf("\n\n");
    const headText = raw.subarray(0, headEnd < 0 ? Math.min(raw.length, 65536) : headEnd).toString("latin1");
    this.head = messageHead(`${headText}\n\n`);
    this.envelope = fromEnvelope(ENVELOPE_HEADERS.flatMap((name) => this.head.get(name) ?? []), options.identity);
    // The same report read twice is the same event: its Message-ID, or its exact head when it has none.
    const messageId = field(this.head, "message-id");
    this.base = messageId ? `mid:${messageId.trim()}` : `head:${createHash("sha256").update(headText).digest("hex")}`;
  }

  get subject(): string {
    return this.mail.subject ?? "";
  }

  get from(): string {
    return this.mail.from?.text ?? field(this.head, "from") ?? "";
  }

  /** The parts of the given content types. */
  parts(...types: string[]): ParsedMail["attachments"] {
    return this.mail.attachments.filter((a) => types.includes(a.contentType.toLowerCase()));
  }

  /** The head of the original message the report carries (message/rfc822 or text/rfc822-headers), when there is one. */
  originalHead(): FieldBlock | undefined {
    // text/rfc822-header, singular, as early feedback-loop reports wrote it (the ARF draft).
    const part = this.parts("message/rfc822", "text/rfc822-headers", "text/rfc822-header", "message/global", "message/global-headers")[0];
    if (part) return messageHead(part.content.toString("utf8"));
    // mailparser folds an inline message/rfc822 into the body; its head is read from the raw part (7bit or 8bit by RFC 2046).
    const raw = this.raw.toString("latin1");
    const header = /^Content-Type:[ \t]*(?:message\/(?:rfc822|global)|text\/rfc822-headers?)\b(?:.*\r?\n(?![ \t]*\r?\n))*.*\r?\n[ \t]*\r?\n/im.exec(raw);
    if (!header) return undefined;
    const head = messageHead(raw.slice(header.index + header[0].length, header.index + header[0].length + 65536));
    return head.size > 0 ? head : undefined;
  }

  /** Exim's X-Failed-Recipients. */
  failedRecipients(): string[] {
    return (this.head.get("x-failed-recipients") ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  }

  /** The text a person would read: the plain part, or the HTML part stripped of its tags. */
  text(): string {
    if (this.mail.text) return this.mail.text;
    const html = typeof this.mail.html === "string" ? this.mail.html : "";
    return html.replace(/<(?:br|\/p|\/div|\/tr|\/li)[^>]*>/gi, "\n").replace(/<[^>]+>/g, "").replace(/&nbsp;/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  event(kind: FeedbackKind, format: string, who: Identified, extra: Partial<FeedbackEvent> = {}, index = 0): FeedbackEvent {
    const { diagnostic, ...rest } = extra;
    return {
      id: eventId(this.source, this.base, kind, who.recipient?.key ?? `#${index}`),
      kind,
      ...(who.recipient ? { recipient: who.recipient } : {}),
      ...(who.issue !== undefined ? { issue: who.issue } : {}),
      ...(diagnostic ? { diagnostic: withoutAddresses(diagnostic) } : {}),
      ...rest,
      source: this.source,
      format,
      at: this.at,
    };
  }
}

function contentType(mail: ParsedMail): string {
  const value = mail.headers.get("content-type");
  return typeof value === "object" && value && "value" in value ? String(value.value) : String(value);
}

/** RFC 3464 (and RFC 6533) delivery status notifications. */
function classifyDsn(c: Context): Classification | undefined {
  const part = c.parts("message/delivery-status", "message/global-delivery-status")[0];
  // Some gateways send the status fields under the wrong content type: as a text attachment or in the body.
  const text = part ? part.content.toString("utf8") : [...c.parts("text/plain").map((a) => a.content.toString("utf8")), c.text()].find((t) => /^Final-Recipient:/im.test(t) && /^(?:Action|Status):/im.test(t));
  if (text === undefined) return undefined;
  const blocks = fieldBlocks(text);
  const perRecipient = blocks.filter((b) => b.has("final-recipient") || b.has("original-recipient") || b.has("action") || b.has("status"));
  const original = c.originalHead();
  const fromOrig = fromOriginal(original, c.options.identity);
  const recognised = Boolean(c.envelope.recipient || fromOrig.recipient);
  if (!recognised && original && !isOurs(original, c.options.identity)) {
    return { events: [c.event("not-ours", "dsn", {})], understood: true, format: "dsn", summary: "a delivery report about a message Presswork did not send" };
  }
  if (perRecipient.length === 0) return undefined;
  if (!recognised) return unverifiable("dsn", "a delivery report");
  const issue = c.envelope.issue ?? fromOrig.issue;
  const words = humanDiagnostics(c);
  // Each message Presswork sends has one recipient, the one its token or Message-ID names: a report about it is about
  // them. A block naming another address (anyone holding a bounce address of their own could write one) is left out;
  // when none names them (forwarded, or an alias expanded), the first block is theirs.
  const trusted = (c.envelope.recipient ?? fromOrig.recipient) as FeedbackRecipient;
  const theirs = perRecipient.filter((block) => {
    const named = ["final-recipient", "original-recipient"].map((name) => addressOf(field(block, name))).filter((a) => a !== undefined);
    return named.length === 0 || named.some((address) => byAddress(address, c.options.identity, "dsn").key === trusted.key);
  });
  const events = (theirs.length > 0 ? theirs : perRecipient.slice(0, 1)).map((block, index) => {
    const action = (field(block, "action") ?? "").toLowerCase().split(/\s/)[0] ?? "";
    const address = addressOf(field(block, "final-recipient")) ?? addressOf(field(block, "original-recipient"));
    // Without a Diagnostic-Code (Exim's local failures), the reason is in the text a person reads.
    // A report of one failure whose status names no address the text lists (Exim's local delivery: a file path) has the text's one reason.
    const onlyWords = perRecipient.length === 1 && words.size === 1 ? [...words.values()][0] : undefined;
    const diagnostic = field(block, "diagnostic-code")?.replace(/^\s*[\w-]+\s*;\s*/, "") ?? (address ? words.get(address.toLowerCase()) : undefined) ?? onlyWords;
    const status = failureStatus(field(block, "status"), diagnostic);
    const kind = dsnKind(action, status, diagnostic);
    return c.event(kind, "dsn", { recipient: trusted, ...(issue !== undefined ? { issue } : {}) }, { ...(status ? { status } : {}), ...(diagnostic ? { diagnostic } : {}) }, index);
  });
  return { events, understood: true, format: "dsn", summary: `a delivery report: ${describe(events)}` };
}

/**
 * A report that names no message of ours (no envelope token, no Message-ID
 * or unsubscribe link of ours in a quoted original): anyone can write one
 * naming any address, so it changes nothing and goes to a person.
 */
function unverifiable(format: string, what: string): Classification {
  return { events: [], understood: false, format, summary: `${what} that names no message of ours (no envelope token or original Message-ID): not trusted, nothing changed` };
}

/** The reason the human-readable part gives for each failed address, by lower-case address. */
function humanDiagnostics(c: Context): Map<string, string> {
  const bounce = readTextBounce(c.text(), { from: c.from, subject: c.subject, failedRecipients: c.failedRecipients() });
  return new Map((bounce?.failures ?? []).filter((f) => f.diagnostic).map((f) => [f.address.toLowerCase(), f.diagnostic as string]));
}

function dsnKind(action: string, status: string | undefined, diagnostic: string | undefined): FeedbackKind {
  if (action === "delayed") return "delayed";
  if (action === "delivered" || action === "relayed" || action === "expanded") return "delivered";
  // A 2.x.x status is a success whatever the action says: Postfix's address verification reports "deliverable".
  if (action !== "failed" && status?.startsWith("2.")) return "delivered";
  return severity(status, diagnostic) === "hard" ? "hard-bounce" : "soft-bounce";
}

const COMPLAINT_TYPES = new Set(["abuse", "fraud", "virus", "other", "complaint", ""]);

/** RFC 5965 feedback reports: complaints from a mailbox provider's feedback loop. */
function classifyArf(c: Context): Classification | undefined {
  const part = c.parts("message/feedback-report")[0];
  if (!part) return undefined;
  const report = fieldBlocks(part.content.toString("utf8"))[0] ?? new Map<string, string[]>();
  const type = (field(report, "feedback-type") ?? "").trim().toLowerCase();
  if (!COMPLAINT_TYPES.has(type) && type !== "opt-out" && type !== "opt-out-list") {
    return { events: [], understood: true, format: "arf", summary: `a ${type} feedback report: nothing to change` };
  }
  const original = c.originalHead();
  const identity = c.options.identity;
  const fromReport = fromEnvelope(report.get("original-mail-from") ?? [], identity);
  const fromOrig = fromOriginal(original, identity);
  const recognised = fromReport.recipient ?? fromOrig.recipient ?? c.envelope.recipient;
  // The addresses a report names say nothing of whose mail it was: a feedback loop by IP reports other senders' mail on a shared IP too.
  if (!recognised && original && !isOurs(original, identity)) {
    return { events: [c.event("not-ours", "arf", {})], understood: true, format: "arf", summary: "a complaint about a message Presswork did not send" };
  }
  // Original-Rcpt-To alone proves nothing: anyone can mail the bounce address a report naming any address.
  if (!recognised) return unverifiable("arf", "a complaint");
  const recipient = recognised;
  const issue = fromReport.issue ?? fromOrig.issue ?? c.envelope.issue;
  const kind: FeedbackKind = type.startsWith("opt-out") ? "unsubscribe" : "complaint";
  const event = c.event(kind, "arf", { recipient, ...(issue !== undefined ? { issue } : {}) }, { feedbackType: type || "abuse" });
  return { events: [event], understood: true, format: "arf", summary: `a ${kind === "complaint" ? `complaint (${type || "abuse"})` : "feedback-loop unsubscribe"}` };
}

/**
 * Microsoft's junk mail reporting programme (Outlook.com, Hotmail): no
 * feedback-report part, only the reported message attached, marked with
 * X-HmXmrOriginalRecipient. A complaint when the attached message is ours.
 */
function classifyJmrp(c: Context): Classification | undefined {
  const original = c.originalHead();
  if (!original || !(original.has("x-hmxmroriginalrecipient") || c.head.has("x-hmxmroriginalrecipient"))) return undefined;
  const identity = c.options.identity;
  const fromOrig = fromOriginal(original, identity);
  const recipient = fromOrig.recipient ?? c.envelope.recipient;
  const issue = fromOrig.issue ?? c.envelope.issue;
  if (!recipient && !isOurs(original, identity)) {
    return { events: [c.event("not-ours", "jmrp", {})], understood: true, format: "jmrp", summary: "a complaint about a message Presswork did not send" };
  }
  if (!recipient) return unverifiable("jmrp", "a complaint");
  const event = c.event("complaint", "jmrp", { recipient, ...(issue !== undefined ? { issue } : {}) }, { feedbackType: "abuse" });
  return { events: [event], understood: true, format: "jmrp", summary: "a complaint (abuse, Microsoft JMRP)" };
}

/** Exim, qmail, Yahoo and other bounces written as text. */
function classifyTextBounce(c: Context): Classification | undefined {
  const bounce = readTextBounce(c.text(), { from: c.from, subject: c.subject, failedRecipients: c.failedRecipients() });
  if (!bounce) return undefined;
  const original = bounce.original ?? c.originalHead();
  const fromOrig = fromOriginal(original, c.options.identity);
  const recognised = Boolean(c.envelope.recipient || fromOrig.recipient);
  if (!recognised && original && !isOurs(original, c.options.identity)) {
    return { events: [c.event("not-ours", bounce.format, {})], understood: true, format: bounce.format, summary: "a bounce of a message Presswork did not send" };
  }
  if (!recognised) return unverifiable(bounce.format, "a bounce");
  const issue = c.envelope.issue ?? fromOrig.issue;
  // About the one recipient the token or Message-ID names, as a delivery report is (see classifyDsn).
  const recipient = (c.envelope.recipient ?? fromOrig.recipient) as FeedbackRecipient;
  const all = bounce.failures.length > 0 ? bounce.failures : [{ address: "" }];
  const theirs = all.filter((failure) => !failure.address || byAddress(failure.address, c.options.identity, "text").key === recipient.key);
  const events = (theirs.length > 0 ? theirs : all.slice(0, 1)).map((failure, index) => {
    const status = statusIn(failure.diagnostic);
    const kind: FeedbackKind = bounce.delayed ? "delayed" : severity(status, failure.diagnostic) === "hard" || (bounce.permanent && !status && !failure.diagnostic) ? "hard-bounce" : "soft-bounce";
    return c.event(kind, bounce.format, { recipient, ...(issue !== undefined ? { issue } : {}) }, { ...(status ? { status } : {}), ...(failure.diagnostic ? { diagnostic: failure.diagnostic } : {}) }, index);
  });
  return { events, understood: true, format: bounce.format, summary: `a ${bounce.format} bounce: ${describe(events)}` };
}

function classifyAutoReply(c: Context): Classification | undefined {
  const first = new Map([...c.head].map(([name, values]) => [name, values[0] ?? ""]));
  // Mail systems mark their bounces auto-replied too (Postfix, Exim): one that could not be read goes to a person.
  if (!isAutoReply(first, c.subject) || fromMailSystem(c.from)) return undefined;
  return { events: [c.event("auto-reply", "auto-reply", c.envelope)], understood: true, format: "auto-reply", summary: "an automatic reply (out of office): not a bounce" };
}

/**
 * Unsubscribe requests, by what shows them to be one (`by`): a signed token
 * in the address or the subject of the List-Unsubscribe mailto (`token`);
 * else, from the address that sent it, any mail to the unsubscribe mailbox
 * (`mailbox`) or, after automatic replies, any with "unsubscribe" as its
 * subject (`subject`). Anyone can write any From: without a token, the
 * request is acted on only when the receiving server authenticated the
 * sender's domain, and otherwise goes to a person.
 */
function classifyUnsubscribe(c: Context, by: "token" | "mailbox" | "subject"): Classification | undefined {
  const identity = c.options.identity;
  const addressed = ENVELOPE_HEADERS.slice(0, -1).flatMap((name) => c.head.get(name) ?? []);
  const token = fromUnsubscribeToken([...addressed, c.subject], identity);
  if (token.recipient) return { events: [c.event("unsubscribe", "unsubscribe-mail", token)], understood: true, format: "unsubscribe-mail", summary: "an unsubscribe request (signed)" };
  if (by === "token") return undefined;
  const toMailbox = addressed.some((value) => value.split(/[\s,<>]+/).some((a) => a.includes("@") && isMailbox(a, identity.unsubscribeMailto)));
  if (by === "mailbox" ? !toMailbox : !/^\s*(?:re:\s*)?unsubscribe\b/i.test(c.subject)) return undefined;
  const sender = c.mail.from?.value[0]?.address ?? addressOf(field(c.head, "from"));
  if (!sender) return { events: [], understood: false, format: "unsubscribe-mail", summary: "an unsubscribe request without a sender address" };
  // DMARC is about one From address: with several, which one the server checked is unknown.
  const oneSender = (c.head.get("from")?.length ?? 0) <= 1 && (c.mail.from?.value.length ?? 0) <= 1;
  const check = oneSender ? senderAuthenticated(c.head, splitAddress(sender).domain, c.options.authservIds) : { authenticated: false, why: "more than one From address" };
  if (!check.authenticated) return { events: [], understood: false, format: "unsubscribe-mail", summary: `an unsubscribe request whose sender is not authenticated (${check.why}): left for a person` };
  return { events: [c.event("unsubscribe", "unsubscribe-mail", { recipient: byAddress(sender, identity, "from") })], understood: true, format: "unsubscribe-mail", summary: "an unsubscribe request (by its sender's address)" };
}

function describe(events: FeedbackEvent[]): string {
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => (n > 1 ? `${n} ${kind}` : kind)).join(", ");
}
