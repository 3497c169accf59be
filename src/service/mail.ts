import { convert } from "html-to-text";
import MailComposer from "nodemailer/lib/mail-composer";
import DKIM from "nodemailer/lib/dkim";
import { VFile } from "vfile";
import type { Config, NewsletterConfig } from "../config/schema.js";
import { EMAIL_TEMPLATES } from "../issues/limits.js";
import type { DkimKey } from "../issues/dkim.js";
import { listIdValue, SIGNED_HEADERS } from "../issues/message.js";
import { CONFIRM_DAYS } from "../issues/tokens.js";
import { MjmlThread } from "../pipeline/mjml-thread.js";
import { renderTemplate, templateEngine, type TemplateSources } from "../templates/liquid.js";
import { escapeXml } from "../xml/escape.js";
import { contentError, isPressworkError } from "../errors/error.js";
import { fileError } from "../errors/rules.js";
import { domainOf } from "../audience/address.js";
import { directionScope } from "../markdown/direction.js";

/** The service's own mails: `templates/email/<kind>.mjml.liquid`. */
export type MailKind = "confirm" | "welcome";

/** One recipient's values for a service mail. */
export interface MailValues {
  address: string;
  /** The name given with the subscription: the welcome mail's greeting and To. The confirmation never shows it, since anyone can type any words beside anyone's address. */
  name: string | null;
  /** The confirmation link (confirm mail). */
  confirmUrl?: string;
  /** The one-click unsubscribe link (welcome mail, and its List-Unsubscribe header). */
  unsubscribeUrl?: string;
  /** The List-Unsubscribe mailto, with the recipient's signed token (welcome mail). */
  unsubscribeMailto?: string;
  /** Names the message: Message-ID and outbox file. */
  id: string;
  date: Date;
}

/** A template compiled once: HTML and text with placeholders, and its subject (the template's mj-title). */
interface Compiled {
  subject: string;
  html: string;
  text: string;
}

/**
 * MJML's HTML by the MJML it was compiled from, for the life of the
 * process: a service started again in the same process (as a test suite
 * starts many) needs not load MJML again for the same mail.
 */
const compiledMjml = new Map<string, Promise<string>>();

const PLACEHOLDERS = { confirm_url: "%%confirm_url%%", unsubscribe_url: "%%unsubscribe_url%%", name: "%%name%%" } as const;
const PLACEHOLDER = /%%(confirm_url|unsubscribe_url|name)%%/g;

/**
 * Builds the confirmation and welcome mails: each template is filled by
 * Liquid and compiled by MJML once, with placeholders where recipients
 * differ, then each message is a substitution and a MIME composition (the
 * welcome carrying List-Unsubscribe and List-Unsubscribe-Post, like issues),
 * DKIM-signed when a key is set.
 */
export class ServiceMail {
  private readonly compiled = new Map<MailKind, Promise<Compiled>>();
  private readonly thread = new MjmlThread();

  constructor(
    private readonly templates: TemplateSources,
    private readonly config: Config,
    private readonly newsletter: NewsletterConfig,
    private readonly dkim?: DkimKey,
  ) {}

  /**
   * Compiles both templates now, so a template error stops the service at
   * start rather than at its first mail. MJML (60 MB once loaded) runs in a
   * thread that ends when both are compiled: the service never holds it.
   */
  async check(): Promise<void> {
    try {
      await Promise.all([this.compile("confirm"), this.compile("welcome")]);
    } finally {
      await this.thread.close();
    }
  }

  /** One recipient's complete message. */
  async build(kind: MailKind, values: MailValues): Promise<Buffer> {
    const { subject, html, text } = await this.compile(kind);
    const name = kind === "confirm" ? null : values.name;
    const fill = (source: string, escape: boolean) =>
      source.replace(PLACEHOLDER, (_, key: keyof typeof PLACEHOLDERS) => {
        const value = key === "name" ? name?.trim() || "reader" : ((key === "confirm_url" ? values.confirmUrl : values.unsubscribeUrl) ?? "");
        return escape ? escapeXml(value) : value;
      });
    const domain = domainOf(this.newsletter.from.address);
    const headers: Record<string, { prepared: true; value: string }> = { "Auto-Submitted": { prepared: true, value: "auto-generated" } };
    if (kind === "welcome" && values.unsubscribeUrl && values.unsubscribeMailto) {
      headers["List-ID"] = { prepared: true, value: listIdValue(this.newsletter.name ?? this.config.site.title, this.newsletter.listId) };
      headers["List-Unsubscribe"] = { prepared: true, value: `<${values.unsubscribeUrl}>, <${values.unsubscribeMailto}>` };
      headers["List-Unsubscribe-Post"] = { prepared: true, value: "List-Unsubscribe=One-Click" };
    }
    const messageId = `<${kind}.${values.id}@${domain}>`;
    const composer = new MailComposer({
      from: { name: this.newsletter.from.name, address: this.newsletter.from.address },
      to: name ? { name: name.replace(/[\r\n]/g, " "), address: values.address } : values.address,
      ...(this.newsletter.replyTo ? { replyTo: this.newsletter.replyTo } : {}),
      subject,
      date: values.date,
      messageId,
      text: fill(text, false),
      html: fill(html, true),
      headers,
    });
    const raw = await composer.compile().build();
    if (!this.dkim) return raw;
    const signer = new DKIM({ ...this.dkim, headerFieldNames: SIGNED_HEADERS });
    const chunks: Buffer[] = [];
    for await (const chunk of signer.sign(raw)) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks);
  }

  private compile(kind: MailKind): Promise<Compiled> {
    let compiled = this.compiled.get(kind);
    if (!compiled) {
      compiled = this.compileNow(kind);
      this.compiled.set(kind, compiled);
    }
    return compiled;
  }

  private async compileNow(kind: MailKind): Promise<Compiled> {
    const name = `${kind}.mjml`;
    if (!(`${name}.liquid` in this.templates)) throw contentError(problem(`${EMAIL_TEMPLATES}/${name}.liquid`, `the ${kind} mail's template is missing: the service mails it from ${EMAIL_TEMPLATES}/${name}.liquid`));
    const scope = {
      site: { title: this.config.site.title, url: this.config.site.url, language: this.config.site.language, ...directionScope(this.config.site.language) },
      newsletter: { name: this.newsletter.name ?? this.config.site.title, reason: this.newsletter.reason, postal_address: this.newsletter.postalAddress },
      tokens: PLACEHOLDERS,
      days: CONFIRM_DAYS,
    };
    const mjml = renderTemplate(templateEngine(this.templates, this.config.site), EMAIL_TEMPLATES, name, scope, this.templates);
    let html: string;
    try {
      let made = compiledMjml.get(mjml);
      if (!made) {
        made = this.thread.toHtml(mjml);
        compiledMjml.set(mjml, made);
        // A failure is not kept: a thread that died says nothing of the text, and the next service tries again.
        made.catch(() => compiledMjml.delete(mjml));
      }
      html = await made;
    } catch (error) {
      // MJML's thread names the template; this one is the service's.
      if (isPressworkError(error, "content")) throw contentError(problem(`${EMAIL_TEMPLATES}/${name}.liquid`, error.message));
      throw error;
    }
    const title = /<title>([^<]*)<\/title>/.exec(html)?.[1]?.trim() ?? "";
    if (!title) throw contentError(problem(`${EMAIL_TEMPLATES}/${name}.liquid`, "the template has no <mj-title>: the mail's subject is its title"));
    const subject = convert(title, { wordwrap: false }).replace(/[\r\n]+/g, " ");
    const text = convert(html, {
      wordwrap: 78,
      selectors: [
        { selector: "a", options: { linkBrackets: ["<", ">"], hideLinkIfSameAsText: true } },
        { selector: "img", format: "skip" },
        { selector: "title", format: "skip" },
      ],
    });
    return { subject, html, text };
  }
}

function problem(path: string, reason: string): VFile {
  const file = new VFile({ path });
  fileError(file, "service-mail", reason, { place: { line: 1, column: 1 } });
  return file;
}
