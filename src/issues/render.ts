import { VFile } from "vfile";
import type { Config, NewsletterConfig } from "../config/schema.js";
import { authorNames, type Article } from "../content/article.js";
import { displayDate, siteScope } from "../site/scope.js";
import { renderTemplate, templateEngine, type TemplateSources } from "../templates/liquid.js";
import { emailBody } from "./email-body.js";
import { EMAIL_SLOT } from "./images.js";
import { CLIP_BYTES, EMAIL_TEMPLATES } from "./limits.js";
import { issuePath, preheaderOf, subjectScope, type IssuePlan } from "./plan.js";
import { htmlText, plainText } from "./text.js";
import { TOKENS } from "./tokens.js";
import { contentError } from "../errors/error.js";
import { fileError } from "../errors/rules.js";

/** An issue compiled once: HTML and text with personalisation tokens still in them. */
export interface CompiledIssue {
  plan: IssuePlan;
  subject: string;
  preheader: string;
  /** Absolute URL of the issue's web version. */
  webUrl: string;
  html: string;
  text: string;
  /** How the renderer made the issue fit under CLIP_BYTES, if it had to. */
  shortened: "no" | "summaries" | "fewer articles";
  /** The ids of the articles planned for the issue and left out to fit: no later issue carries them. */
  leftOut: string[];
}

/** Turns the MJML an issue's templates rendered into HTML; throws a content error on an MJML error. */
export type MjmlCompile = (source: string) => Promise<string>;

/**
 * Compiles an issue: Liquid fills the MJML templates (escaping by default),
 * MJML validates strictly and renders, articles' bodies and the editor's
 * note go in styled inline (see emailBody), and the text part is made from
 * the same content. When the HTML would be clipped, the renderer shows
 * summaries instead of full text, then drops articles from the end (linking
 * to the site for them) until it fits; the subject and preheader are those
 * of what is left. `mjml` is the MJML step: a build's remembers its
 * results, and a send of the issue a build previewed takes them (see
 * issueHtml).
 */
export async function compileIssue(plan: IssuePlan, config: Config, newsletter: NewsletterConfig, templates: TemplateSources, mjml: MjmlCompile): Promise<CompiledIssue> {
  const engine = templateEngine(templates, config.site);
  const webUrl = new URL(issuePath(plan.number), config.site.url).href;
  const noteHtml = plan.note ? emailBody(plan.note.html) : "";
  const bodies = new Map<Article, string>();
  const bodyOf = (a: Article) => {
    let body = bodies.get(a);
    if (body === undefined) bodies.set(a, (body = emailBody(a.body.html.email, a.emailBodyImages)));
    return body;
  };
  let full = newsletter.content === "full";
  let current: IssuePlan = plan;
  let shortened: CompiledIssue["shortened"] = "no";
  for (;;) {
    // The subject and preheader count the articles this version holds, so neither promises what was cut.
    const subject = subjectOf(current, config, newsletter);
    const preheader = preheaderOf(current);
    const html = await issueHtml(
      (placed, date) => renderTemplate(engine, EMAIL_TEMPLATES, "issue.mjml", issueScope(current, config, newsletter, { subject, preheader, webUrl, full, noteHtml, date }, placed), templates),
      full ? current.articles.map(bodyOf) : [],
      displayDate(current.date, config),
      mjml,
    );
    const fits = Buffer.byteLength(html) <= CLIP_BYTES;
    if (fits || (current.articles.length <= 1 && !full)) {
      const shown = current.articles.map((article, i) => ({ article, image: full || i === 0, ...(full ? { body: bodyOf(article) } : {}) }));
      const leftOut = plan.articles.slice(current.articles.length).map((a) => a.id);
      return { plan: current, subject, preheader, webUrl, html, text: plainText(current, shown, config, newsletter, webUrl), shortened, leftOut };
    }
    if (full) {
      full = false;
      shortened = "summaries";
    } else {
      current = { ...current, articles: current.articles.slice(0, -1), more: current.more + 1 };
      shortened = "fewer articles";
    }
  }
}

function subjectOf(plan: IssuePlan, config: Config, newsletter: NewsletterConfig): string {
  const subject = renderTemplate(templateEngine({ "subject.liquid": newsletter.subject }, config.site, true), "presswork.config.yaml: newsletter", "subject", subjectScope(plan, config)).trim();
  if (/[\r\n]/.test(subject)) throw contentError(problem("presswork.config.yaml", "newsletter.subject renders with a line break, which would inject mail headers"));
  return subject;
}

const BODY_PLACEHOLDER = /presswork-article-(\d+)-html/g;
const DATE_PLACEHOLDER = "presswork-issue-date";

/**
 * The issue's HTML. The articles' bodies go into the MJML as placeholders and
 * into MJML's output after it ran, so the MJML is the issue's outline alone
 * and a remembered compile of it survives an edit to an article's text. The
 * bodies are already sanitised email HTML, which MJML would only wrap. When
 * the templates make MJML rewrite content (inlined styles, mj-html-attributes)
 * or an article's words hold a placeholder's text, the bodies go in whole.
 * The issue's date goes in the same way, so the outline a build compiled for
 * its preview (dated by its newest article) is the one a send compiles
 * (dated by its clock); when the templates do more with the date than show
 * it as text (a filter, an attribute MJML rewrites, such as a class), the
 * date goes in itself.
 */
async function issueHtml(source: (bodies: readonly string[], date: string) => string, bodies: readonly string[], date: string, mjml: MjmlCompile): Promise<string> {
  const whole = () => mjml(source(bodies, date));
  const placed = bodies.map((_, i) => `presswork-article-${i}-html`);
  const outline = source(placed, date);
  if (/<mj-html-attributes|\binline\s*=\s*["']?inline/i.test(outline)) return whole();
  const bodiesPlaced = bodies.length > 0 && holdsEachOnce(outline, bodies.length);
  // What MJML would be given with the date itself in it.
  const dated = bodiesPlaced || bodies.length === 0 ? outline : source(bodies, date);
  const undated = source(bodiesPlaced ? placed : bodies, DATE_PLACEHOLDER);
  const datePlaced = showsAsText(undated, DATE_PLACEHOLDER) && undated.replaceAll(DATE_PLACEHOLDER, () => date) === dated;
  const html = datePlaced ? (await mjml(undated)).replaceAll(DATE_PLACEHOLDER, () => date) : await mjml(dated);
  if (!bodiesPlaced) return html;
  if (holdsEachOnce(html, bodies.length)) return html.replace(BODY_PLACEHOLDER, (_, i: string) => bodies[Number(i)] as string);
  return whole();
}

/** Whether `text` holds the placeholders 0 to n-1 once each and no other. */
function holdsEachOnce(text: string, n: number): boolean {
  const found = [...text.matchAll(BODY_PLACEHOLDER)].map((m) => Number(m[1]));
  return found.length === n && new Set(found).size === n && found.every((i) => i < n);
}

/**
 * Whether `placeholder` is in `mjml`, and each time as text between tags,
 * where MJML leaves it as it is: not inside a tag (an attribute's value,
 * quoted or not, such as a class MJML sorts and suffixes word by word).
 */
function showsAsText(mjml: string, placeholder: string): boolean {
  let found = false;
  let inTag = false;
  let quote = "";
  for (let i = 0; i < mjml.length; i++) {
    const c = mjml[i];
    if (quote) {
      if (c === quote) quote = "";
    } else if (inTag) {
      if (c === '"' || c === "'") quote = c;
      else if (c === ">") inTag = false;
    } else if (c === "<") inTag = true;
    if (c === placeholder[0] && mjml.startsWith(placeholder, i)) {
      if (inTag) return false;
      found = true;
    }
  }
  return found;
}

function problem(path: string, reason: string): VFile {
  const file = new VFile({ path });
  fileError(file, "newsletter-subject", reason, { place: { line: 1, column: 1 } });
  return file;
}

function issueScope(plan: IssuePlan, config: Config, newsletter: NewsletterConfig, extra: { subject: string; preheader: string; webUrl: string; full: boolean; noteHtml: string; date: string }, bodies: readonly string[]) {
  return {
    site: siteScope(config),
    issue: {
      number: plan.number,
      subject: extra.subject,
      preheader: extra.preheader,
      date_display: extra.date,
      web_url: extra.webUrl,
      count: plan.articles.length,
      more: plan.more,
      note_html: extra.noteHtml,
    },
    articles: plan.articles.map((a, i) => cardScope(a, config, bodies[i] ?? "", i === 0, extra.full)),
    full: extra.full,
    newsletter: { name: newsletter.name ?? config.site.title, postal_address: newsletter.postalAddress, reason: newsletter.reason },
    tokens: TOKENS,
  };
}

function cardScope(article: Article, config: Config, html: string, lead: boolean, full: boolean) {
  return {
    lead,
    /** The lead's picture shows; in full text, every article's. */
    show_image: lead || full,
    title: article.title,
    subtitle: article.subtitle ?? "",
    url: article.url,
    tag: article.tags[0]?.name ?? "",
    byline: `${authorNames(article.authors)} · ${displayDate(article.published, config)}`,
    reading_minutes: article.body.readingMinutes,
    key_points: article.points,
    key_points_html: article.pointsHtml.email.map((point) => emailBody(point, article.emailBodyImages)),
    summary: article.description,
    html,
    // The email's copy and size when known (see emailImage); the slot's width otherwise.
    image: article.image && article.imageUrl
      ? { url: article.emailImage?.url ?? article.imageUrl, width: article.emailImage?.width ?? EMAIL_SLOT, height: article.emailImage?.height ?? "", alt: article.image.alt, caption: article.image.caption ?? "" }
      : null,
  };
}

/** An editor's note as plain text, from its email HTML. */
export function noteText(html: string): string {
  return htmlText(emailBody(html));
}
