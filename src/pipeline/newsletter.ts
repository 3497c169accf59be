import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { VFile } from "vfile";
import type { Config, NewsletterConfig } from "../config/schema.js";
import { issueArchive, unfrozenIssues, upcomingIssue, type ArchivedIssue } from "../issues/archive.js";
import { issuePath, missedByLastIssue, planNextIssue, type IssuePlan } from "../issues/plan.js";
import type { SentRecord } from "../issues/record.js";
import type { OpenState, StateSource } from "../state/state.js";
import type { IssueState } from "../state/store.js";
import { CLIP_BYTES, EMAIL_TEMPLATES, RECORD_FILE, WARN_BYTES } from "../issues/limits.js";
import type { CompiledIssue, MjmlCompile } from "../issues/render.js";
import { emailImage, type EmailImage } from "../issues/images.js";
import { fieldLine, frontMatterBlock, type Article } from "../content/article.js";
import { textDirection } from "../markdown/direction.js";
import type { ArticleHtml } from "../markdown/render.js";
import type { TemplateSources } from "../templates/liquid.js";
import { missingTemplates, readTemplateFolder } from "../templates/sources.js";
import { contentError } from "../errors/error.js";
import { cacheKey } from "../cache/key.js";
import { CACHE_DIR, CacheStore, type DocumentFolder } from "../cache/store.js";
import type { MjmlThread } from "./mjml-thread.js";
import { assetSitePath, checkNoteFragments, makeResolver, resolvesAsBefore, siteTemplateIds, type LinkTarget } from "./resolve.js";
import { SITE_TEMPLATES } from "../site/pages.js";
import { isDocumentRelative, splitLocalUrl, type LocalLinks, type Resolver } from "../markdown/links.js";
import { decodeSource } from "../content/read.js";
import { absoluteUrl } from "../content/paths.js";
import { calendarDate } from "../content/dates.js";
import { fileError, fileWarning } from "../errors/rules.js";

/** The folder of the editor's notes, relative to the project root. */
const NOTES_DIR = "newsletter/notes";

/** Where the editor's note for issue N lives, relative to the project root. */
export const notePath = (n: number) => `${NOTES_DIR}/${n}.md`;

/** The newsletter's state in a project: its record, templates, past issues and the next one. */
export interface NewsletterState {
  newsletter: NewsletterConfig;
  /** Every issue a send started, oldest first: sent, or being sent (see `issues` for which). */
  record: SentRecord;
  /**
   * The same issues as the state store has them: each as it was sent
   * (FrozenIssue: subject, articles, HTML and text with their tokens), and
   * whether its send completed.
   */
  issues: IssueState[];
  templates: TemplateSources;
  next?: CompiledIssue;
  /** What the page of each issue a send started shows, oldest first. */
  past: ArchivedIssue[];
  /**
   * What the next issue's page will show once its send starts: built at its
   * address before, so that the "view in browser" link works from the first
   * message, and listed nowhere (index, feeds, sitemap) until then.
   */
  upcoming?: ArchivedIssue;
  /**
   * Issues frozen without their page (carried over from an earlier
   * version): their pages, index entries and feed items come from the
   * articles and notes as they are now.
   */
  unfrozen: number[];
  files: VFile[];
}

/**
 * Reads the record of sent issues from the send's state (the state branch
 * or the database, and the files of earlier versions until a send carries
 * them over), `from` the config and environment or from a send's open
 * state; see readStateView. Problems are on the returned files.
 */
export async function readRecord(root: string, from: StateSource): Promise<{ record?: SentRecord; issues: IssueState[]; files: VFile[] }> {
  const { readStateView, startedIssues } = await import("../state/state.js");
  const view = await readStateView(root, from);
  const file = new VFile({ path: RECORD_FILE });
  const issues = startedIssues(view.summary, file);
  const files = [...view.files, file];
  if (files.some((f) => f.messages.some((m) => m.fatal))) return { issues, files };
  const record: SentRecord = {
    issues: issues.map(({ issue, complete }) => ({ number: issue.number, date: issue.date, subject: issue.subject, articles: issue.articles, ...(issue.leftOut ? { leftOut: issue.leftOut } : {}), ...(complete ? { counts: complete.counts } : {}) })),
  };
  return { record, issues, files };
}

/** The cache's folder of compiled issues, MJML results and the mark of valid templates. */
const ISSUES_FOLDER = "issues";

/** Reads the email templates: every `*.liquid` file in templates/email/, which must be UTF-8. */
export function readEmailTemplates(root: string): TemplateSources {
  const templates = readTemplateFolder(root, EMAIL_TEMPLATES);
  if (!templates) throw contentError(missingTemplates(EMAIL_TEMPLATES, "the email issues are"));
  return templates;
}

/** What preparing the newsletter can use when the caller has it. */
export interface NewsletterHelpers {
  /** The build's cache: compiled issues and MJML results. */
  cache?: CacheStore | undefined;
  /** Runs MJML in a thread of its own. */
  mjml?: MjmlThread | undefined;
  /** A send's state, already open, read instead of opening it again. */
  state?: OpenState | undefined;
  /** Go on without the record of sent issues when its database is not given, with a warning (`check`). */
  stateOptional?: boolean | undefined;
}

/**
 * Plans and compiles the next issue and the web versions of the sent ones.
 * Messages (record problems, note problems, size) land on the returned files.
 */
export async function prepareNewsletter(root: string, config: Config, articles: readonly Article[], targets: readonly LinkTarget[], now: Date, using: NewsletterHelpers = {}): Promise<NewsletterState | undefined> {
  const { cache: store, mjml: thread, state, stateOptional } = using;
  const newsletter = config.newsletter;
  if (!newsletter) return undefined;
  const { record, issues, files } = await readRecord(root, state ?? { config, env: process.env, ...(stateOptional ? { optional: true } : {}) });
  files.push(...misnamedNotes(root));
  if (!record) return { newsletter, record: { issues: [] }, issues, templates: {}, past: [], unfrozen: [], files };
  const templates = readEmailTemplates(root);
  // Compiled issues, MJML results and the mark of valid templates; a build keeps what it used and drops the rest.
  const issuesCache = store?.folder(ISSUES_FOLDER);
  // Valid templates are remembered by their key, so an unchanged set is not validated (nor MJML loaded) again.
  const valid = `templates-${cacheKey(templates)}.valid`;
  if (!issuesCache?.has(valid)) {
    const checked = thread ? await thread.validate(templates) : await (await import("../issues/mjml.js")).validateEmailTemplates(templates);
    files.push(...checked);
    if (checked.some((f) => f.messages.some((m) => m.fatal))) return { newsletter, record, issues, templates, past: [], unfrozen: [], files };
    issuesCache?.write(valid, true);
  }
  const frozen = issues.map((s) => s.issue);
  const unfrozen = unfrozenIssues(frozen);
  // A note links to articles as an article does, by their files: resolved against every article of this build (drafts too).
  const resolve = makeResolver(targets, new Set(), now.getTime());
  const notes = await pastNotes(root, unfrozen, config, resolve, issuesCache, files);
  const archive = issueArchive(frozen, articles, config, notes);
  const past = frozen.map((issue) => archive(issue.number)).filter((issue): issue is ArchivedIssue => issue !== undefined);
  const plan = planNextIssue(articles, record, newsletter, now);
  for (const { article, issue } of missedByLastIssue(articles, record, newsletter)) {
    const day = (date: Date) => calendarDate(date, config.site.timezone);
    fileWarning(article.source.file, "newsletter-missed", `'date' is ${day(article.published)}, before issue #${issue.number} went out (${day(new Date(issue.date))}) without it: no issue will carry it, and feed readers file it among older entries. If it was a draft then, date it when it is published${issue.leftOut ? "" : "; if the issue left it out to fit Gmail's size, it stays out"}`, { place: { line: fieldLine(article.source, "date"), column: 1 } });
  }
  for (const article of plan?.articles ?? []) {
    withEmailImage(root, article, config);
    // A full-text email shows the body's pictures; any email, those of the Quick Reads.
    if (newsletter.content === "full" || article.pointsHtml.email.some((point) => point.includes("<img"))) withEmailBodyImages(root, article, config);
  }
  const next = plan ? await compileCached(root, plan, config, newsletter, templates, resolve, issuesCache, files, thread, articles) : undefined;
  if (next) files.push(sizeReport(next));
  if (next) warnPicturesMailCannotShow(next, config);
  issuesCache?.prune();
  const upcoming = next ? upcomingIssue(next, config) : undefined;
  return { newsletter, record, issues, templates, past, unfrozen, files, ...(next ? { next } : {}), ...(upcoming ? { upcoming } : {}) };
}

/**
 * compileIssue, remembered on disk by a hash of everything it reads (the
 * editor's note by its Markdown), so a newsletter with many past issues does
 * not recompile them on every build, and a build that changes no issue loads
 * neither MJML nor the Markdown pipeline for it. A note with problems is
 * rendered every time, so its messages are never lost.
 */
async function compileCached(
  root: string,
  plan: IssuePlan,
  config: Config,
  newsletter: NewsletterConfig,
  templates: TemplateSources,
  resolve: Resolver,
  cache: DocumentFolder | undefined,
  files: VFile[],
  thread: MjmlThread | undefined,
  linked: readonly Article[],
): Promise<CompiledIssue> {
  const notePathOf = notePath(plan.number);
  const noteResolve = noteResolver(root, plan.number, resolve);
  // Its links to parts, rendered now or remembered, are checked on every build: a heading they name may have changed since.
  const checkNote = async (fragments: LocalLinks["fragments"], resolved: LocalLinks["resolved"], web: string, file = new VFile({ path: notePathOf })) => {
    if (!fragments) return;
    await checkNoteFragments(file, { fragments, resolved, web }, linked, () => siteTemplateIds(join(root, SITE_TEMPLATES)));
    if (file.messages.length > 0 && !files.includes(file)) files.push(file);
  };
  // Read like an article: bytes that are not UTF-8 are refused with their line, not published as replacement characters.
  const decoded = readNote(root, notePathOf);
  if (decoded && decoded.file.messages.length > 0) {
    files.push(decoded.file);
    if (decoded.file.messages.some((m) => m.fatal)) return compileIssueOf(plan, config, newsletter, templates, thread);
  }
  const note = decoded?.text;
  // An issue of summaries shows of a body only what its stats digest covers: an edit further down needs no recompile.
  const body = (a: Article) => (newsletter.content === "full" ? a.body.digest : a.body.statsDigest);
  const articles = plan.articles.map((a) => [a.id, a.title, a.url, a.tags, a.authors, a.published, a.points, a.pointsHtml.email, a.description, body(a), a.body.readingMinutes, a.imageUrl, a.image?.alt, a.image?.caption, a.emailImage ?? null, a.emailBodyImages ?? null]);
  const entry = `${cacheKey(config.site, config.markdown, config.newsletter, templates, plan.number, plan.date, plan.more, note, articles)}.json`;
  const stored = cache?.read<Omit<CompiledIssue, "plan"> & { note?: IssuePlan["note"]; noteLinks?: LocalLinks["resolved"]; noteFragments?: LocalLinks["fragments"]; kept: string[]; more: number; mjml?: string[] }>(entry);
  // Kept while the note's links lead where they led (an article they name may have become a draft since).
  if (stored !== undefined && resolvesAsBefore(noteResolve, notePathOf, stored.noteLinks ?? [])) {
    const { note: cachedNote, noteLinks, noteFragments, kept, more, mjml, ...rest } = stored;
    if (cachedNote) await checkNote(noteFragments, noteLinks ?? [], cachedNote.web);
    // The MJML it was made from stays remembered: an edit to an article's text will need it.
    for (const name of mjml ?? []) cache?.keep(name);
    // The renderer may have shortened the issue: keep the articles it kept.
    const shortened = { ...plan, articles: plan.articles.filter((a) => kept.includes(a.id)), more };
    return { ...rest, plan: cachedNote ? { ...shortened, note: cachedNote } : shortened };
  }
  let full = plan;
  let clean = true;
  let noteLinks: Pick<LocalLinks, "fragments" | "resolved"> = { resolved: [] };
  if (note !== undefined) {
    const { file, html, links } = await renderNote(plan.number, note, config, noteResolve);
    const { noteText } = await import("../issues/render.js");
    full = { ...plan, note: { html: html.email, text: noteText(html.email), web: html.web } };
    files.push(file);
    clean = file.messages.length === 0;
    noteLinks = links;
    await checkNote(links.fragments, links.resolved, html.web, file);
  }
  // The renderer and html-to-text load only when an issue is compiled; MJML only when its outline is new.
  const { compileIssue } = await import("../issues/render.js");
  const mjml: string[] = [];
  const compiled = await compileIssue(full, config, newsletter, templates, rememberedMjml(cache, thread, mjml));
  if (cache && clean) {
    const { plan: _plan, ...rest } = compiled;
    cache.write(entry, { ...rest, kept: compiled.plan.articles.map((a) => a.id), more: compiled.plan.more, mjml, ...(full.note ? { note: full.note, noteLinks: noteLinks.resolved, ...(noteLinks.fragments ? { noteFragments: noteLinks.fragments } : {}) } : {}) });
  }
  return compiled;
}

/**
 * How an editor's note's links resolve: as an article's (see makeResolver),
 * and a file beside it in newsletter/notes/ (a picture, a PDF) to that file
 * as its issue publishes it, at the issue's address: `team.jpg` in note 3
 * is issues/3/team.jpg, on the issue's page and in its email (see noteFiles).
 */
function noteResolver(root: string, number: number, resolve: Resolver): Resolver {
  return (from, url) => {
    const resolution = resolve(from, url);
    if (resolution.kind !== "error" || !isDocumentRelative(url)) return resolution;
    const { path } = splitLocalUrl(from, url);
    const name = path.startsWith(`${NOTES_DIR}/`) && !path.endsWith(".md") ? path.slice(NOTES_DIR.length + 1) : undefined;
    if (name === undefined || !statSync(join(root, path), { throwIfNoEntry: false })?.isFile()) return resolution;
    return { kind: "asset", sitePath: issuePath(number) + name.split("/").map(encodeURIComponent).join("/"), source: path };
  };
}

/**
 * The files beside the editor's notes that issues' pages show or link to
 * (see noteResolver), by their path in the site, each with its file: for
 * the issues a send started and the next one, so that every email sent
 * keeps its pictures. A file gone from newsletter/notes/ is left out, and
 * the build warns about a sent issue that showed it.
 */
export function noteFiles(root: string, siteUrl: string, issues: ReadonlyArray<Pick<ArchivedIssue, "number" | "noteHtml">>): Map<string, string> {
  const files = new Map<string, string>();
  const base = new URL(siteUrl).pathname;
  for (const { number, noteHtml } of issues) {
    const folder = base + issuePath(number);
    for (const [, url = ""] of noteHtml.matchAll(/\b(?:src|href)="([^"?#]+)/g)) {
      if (!url.startsWith(folder) || url.endsWith("/")) continue;
      let name: string;
      try {
        name = decodeURIComponent(url.slice(folder.length));
      } catch {
        continue;
      }
      const source = join(root, NOTES_DIR, name);
      if (!name.split("/").includes("..") && statSync(source, { throwIfNoEntry: false })?.isFile()) files.set(issuePath(number) + name, source);
    }
  }
  return files;
}

/** An editor's note rendered like an article body, its links resolved against its issue's page and the build's articles; with what each local link resolved to, and its links to parts. */
async function renderNote(number: number, note: string, config: Config, resolve: Resolver): Promise<{ file: VFile; html: ArticleHtml; links: Pick<LocalLinks, "fragments" | "resolved"> }> {
  const path = notePath(number);
  const file = new VFile({ path, value: note, data: { keyPointsKept: true } });
  const pageUrl = new URL(issuePath(number), config.site.url).href;
  const { prepareFor, renderBody } = await import("../markdown/render.js");
  await prepareFor([note]);
  const body = renderBody(file, path, { basePath: new URL(config.site.url).pathname, siteUrl: config.site.url, pageUrl, bareUrls: config.markdown.bareUrls, direction: textDirection(config.site.language), resolve });
  // The article processor reads a front matter block and keeps none of it: what an editor wrote there would vanish unsaid.
  const frontMatter = /^---[ \t]*\r?\n/.test(note) ? frontMatterBlock(note) : undefined;
  if (frontMatter) {
    // Its opening line, its keys, its closing line.
    const last = 1 + frontMatter.yaml.split("\n").length;
    fileWarning(file, "note-front-matter", `a note takes no front matter: lines 1 to ${last} are left out of the issue. Write the note's text alone; the subject is newsletter.subject in the config`, { place: { line: 1, column: 1 } });
  }
  return { file, html: body.html, links: { resolved: body.resolved, ...(body.fragments ? { fragments: body.fragments } : {}) } };
}

/**
 * Sets how the email shows the article's picture (see emailImage), once;
 * returns it, or undefined for an article without a picture or one whose
 * size cannot be read (the email then shows the original at the slot's
 * width). Read for the articles an email holds, not for every article: it
 * reads the picture's file.
 */
export function withEmailImage(root: string, article: Article, config: Config): EmailImage | undefined {
  if (article.emailImage || !article.image) return article.emailImage;
  const sitePath = assetSitePath(article, article.image.path);
  const image = sitePath ? emailImage(root, article.image.path, sitePath, config.site.url) : undefined;
  if (image) article.emailImage = image;
  return image;
}

/**
 * Sets how an email shows the local pictures in the article's body (a
 * full-text email) and Quick Reads (see emailImage), once, by the URL their
 * email HTML loads each from;
 * a picture whose size cannot be read is left out (sent as it is). Read for
 * the articles an email holds, not for every article: it reads their files.
 */
export function withEmailBodyImages(root: string, article: Article, config: Config): Record<string, EmailImage> {
  if (article.emailBodyImages) return article.emailBodyImages;
  const images: Record<string, EmailImage> = {};
  for (const [source, sitePath] of article.body.assets) {
    const url = absoluteUrl(sitePath, config.site.url);
    // Assets the body only links to (a PDF, a picture behind a link) are not shown: their files are not read.
    const shows = (html: string) => html.includes(`src="${url}"`);
    if (!shows(article.body.html.email) && !article.pointsHtml.email.some(shows)) continue;
    const image = emailImage(root, source, sitePath, config.site.url);
    if (image) images[url] = image;
  }
  article.emailBodyImages = images;
  return images;
}

/** Picture formats every big mail client shows (caniemail: Outlook for Windows shows no WebP or AVIF, Gmail no SVG). */
const MAIL_PICTURES = /\.(?:png|jpe?g|gif)$/i;

/**
 * Warns on the articles of the next issue about the pictures its email
 * shows (a card's picture, a full-text body's) in a format some big mail
 * clients leave an empty box for: they go as they are.
 */
function warnPicturesMailCannotShow(issue: CompiledIssue, config: Config): void {
  for (const article of issue.plan.articles) {
    const pictures: Array<{ path: string; sitePath: string | undefined; line: number }> = [];
    if (article.image) pictures.push({ path: article.image.path, sitePath: assetSitePath(article, article.image.path), line: fieldLine(article.source, "image") });
    for (const [source, sitePath] of article.body.assets) {
      const name = source.slice(source.lastIndexOf("/") + 1);
      const index = article.source.text.split("\n").findIndex((line) => line.includes(name));
      pictures.push({ path: source, sitePath, line: index >= 0 ? index + 1 : 1 });
    }
    for (const { path, sitePath, line } of pictures) {
      // Only what the message shows: a summary issue shows the lead's picture alone, and no body.
      if (MAIL_PICTURES.test(path) || !sitePath || !issue.html.includes(`src="${absoluteUrl(sitePath, config.site.url)}"`)) continue;
      const format = (path.slice(path.lastIndexOf(".") + 1) || "this format").toUpperCase();
      fileWarning(article.source.file, "email-image-format", `${path} goes in the next issue, but its format (${format}) shows as an empty box in some big mail clients (Gmail shows no SVG, Outlook for Windows no SVG, WebP or AVIF): give the email a PNG, JPEG or GIF`, { place: { line, column: 1 } });
    }
  }
}

/**
 * The web HTML of the editor's notes of issues frozen without their page,
 * by issue number, as their files read now. Each is remembered by its text
 * while its links lead where they led, so a build loads the Markdown
 * pipeline for a note only when it or an article it links to changed; a
 * note with problems is rendered every time, so its messages are never lost.
 */
async function pastNotes(root: string, numbers: readonly number[], config: Config, resolve: Resolver, cache: DocumentFolder | undefined, files: VFile[]): Promise<Map<number, string>> {
  const notes = new Map<number, string>();
  for (const number of numbers) {
    const note = readOptional(join(root, notePath(number)));
    if (note === undefined) continue;
    const entry = `note-${cacheKey(config.site, config.markdown, number, note)}.json`;
    const stored = cache?.read<{ web: string; links: LocalLinks["resolved"] }>(entry);
    const noteResolve = noteResolver(root, number, resolve);
    if (stored !== undefined && resolvesAsBefore(noteResolve, notePath(number), stored.links)) {
      notes.set(number, stored.web);
      continue;
    }
    const { file, html, links } = await renderNote(number, note, config, noteResolve);
    files.push(file);
    notes.set(number, html.web);
    if (file.messages.length === 0) cache?.write(entry, { web: html.web, links: links.resolved });
  }
  return notes;
}

/**
 * MJML's HTML remembered by a hash of its source, which holds an issue's
 * outline but neither its articles' bodies nor its date (see issueHtml in
 * issues/render.ts): an edit to an article's text recompiles the issue
 * without loading MJML, and a send takes the result (see mjmlAfterBuild).
 * The names of the results it uses are added to `used`.
 */
function rememberedMjml(cache: DocumentFolder | undefined, thread: MjmlThread | undefined, used: string[]): MjmlCompile {
  return async (source) => {
    const name = mjmlEntry(source);
    used.push(name);
    const stored = cache?.read<string>(name);
    if (typeof stored === "string") return stored;
    const html = thread ? await thread.toHtml(source) : await (await import("../issues/mjml.js")).mjmlToHtml(source);
    cache?.write(name, html);
    return html;
  };
}

/**
 * MJML for a send: the HTML the project's last build remembered for the same
 * source, else MJML in this thread. The outline of the issue a build
 * previews is the send's (see issueHtml in issues/render.ts), so a send
 * after a build (the workflow's send job restores the build job's cache)
 * loads no MJML. Reads the cache and writes nothing to it.
 */
export function mjmlAfterBuild(root: string): MjmlCompile {
  const issues = CacheStore.reader(join(root, CACHE_DIR));
  return async (source) => {
    const stored = issues?.read<string>(`${ISSUES_FOLDER}/${mjmlEntry(source)}`);
    return typeof stored === "string" ? stored : (await import("../issues/mjml.js")).mjmlToHtml(source);
  };
}

/** Where the issues folder of the cache keeps MJML's HTML for `source`. */
function mjmlEntry(source: string): string {
  return `mjml-${cacheKey(source)}.json`;
}

/** An editor's note decoded as an article is, with its messages; undefined when there is none. */
function readNote(root: string, path: string): { text: string; file: VFile } | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(root, path));
  } catch {
    return undefined;
  }
  return decodeSource(path, bytes);
}

/** An issue compiled without its note and without the cache: for a build that fails, so its other messages still show. */
async function compileIssueOf(plan: IssuePlan, config: Config, newsletter: NewsletterConfig, templates: TemplateSources, thread: MjmlThread | undefined): Promise<CompiledIssue> {
  const { compileIssue } = await import("../issues/render.js");
  return compileIssue(plan, config, newsletter, templates, rememberedMjml(undefined, thread, []));
}

/**
 * The Markdown files in newsletter/notes/ that no issue reads: `03.md`,
 * `issue-3.md`, `3.markdown`, `next.md`. The issue goes out without the
 * note its editor wrote; each is a warning naming the file it must be.
 * Files starting with `_` or `.`, and a README, are the editor's own.
 */
function misnamedNotes(root: string): VFile[] {
  let names: string[];
  try {
    names = readdirSync(join(root, NOTES_DIR), { withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name);
  } catch {
    return [];
  }
  // Markdown files only (a backup such as 3.md~ is none), and not a README about the folder.
  return names
    .filter((name) => /\.(?:md|markdown)$/i.test(name) && !/^[1-9]\d*\.md$/.test(name) && !/^[_.]/.test(name) && !/^readme\./i.test(name))
    .sort()
    .map((name) => {
      const numbers = name.match(/\d+/g) ?? [];
      const number = numbers.length === 1 ? Number(numbers[0]) : 0;
      const file = new VFile({ path: `${NOTES_DIR}/${name}` });
      const rename = number > 0 && !names.includes(`${number}.md`) ? `: rename it ${number}.md` : ", like 3.md for issue #3";
      fileWarning(file, "note-name", `is no editor's note, and no issue shows it: a note is named for its issue's number${rename}`, { place: { line: 1, column: 1 } });
      return file;
    });
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function sizeReport(issue: CompiledIssue): VFile {
  const file = new VFile({ path: `${EMAIL_TEMPLATES}/issue.mjml.liquid` });
  const size = Buffer.byteLength(issue.html);
  const kb = (size / 1024).toFixed(1);
  if (size > CLIP_BYTES) {
    fileError(file, "email-size", `issue #${issue.plan.number} is ${kb} KB of HTML even with one article in summary: Gmail clips mail over 102 KB and hides the unsubscribe link. Shorten the templates or the editor's note`);
  } else if (size > WARN_BYTES) {
    fileWarning(file, "email-size", `issue #${issue.plan.number} is ${kb} KB of HTML, close to Gmail's 102 KB clipping limit`);
  }
  if (issue.shortened !== "no") {
    // The article whose body weighs most, for the editor to look at first.
    const sized = issue.plan.articles.map((article) => ({ article, bytes: Buffer.byteLength(article.body.html.email) }));
    const largest = sized.reduce<(typeof sized)[number] | undefined>((a, b) => (a && a.bytes >= b.bytes ? a : b), undefined);
    const culprit = largest ? `; the largest body is ${largest.article.source.path}'s, ${(largest.bytes / 1024).toFixed(1)} KB: a long table or many pictures are better linked from the email than carried in it` : "";
    fileWarning(file, "email-size", `issue #${issue.plan.number} was too large for Gmail at full length and was shortened (${issue.shortened}) to ${kb} KB${culprit}`);
  }
  return file;
}

/** A digest of everything the preview files are made from: a rebuild that leaves the issue alone keeps them. */
export function previewKey(issue: CompiledIssue, config: Config, newsletter: NewsletterConfig): string {
  const { plan, ...compiled } = issue;
  return cacheKey(config.site, newsletter, plan.number, plan.date, compiled);
}
