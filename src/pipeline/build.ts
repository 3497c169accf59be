import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { cacheKey } from "../cache/key.js";
import { ShownDates } from "../cache/shown-dates.js";
import { displayKey } from "../site/scope.js";
import type { WarmFiles } from "../cache/warm.js";
import { MetaCache } from "../cache/meta.js";
import { OutputState } from "../cache/output.js";
import { RenderCache, type CachedBody } from "../cache/renders.js";
import { SourceIndex } from "../cache/sources.js";
import { CACHE_DIR, CacheStore } from "../cache/store.js";
import { loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { fieldLine, toArticle, type Article, type ArticleMeta } from "../content/article.js";
import { aliasLine, collectArticles, groupByAuthor, groupByTag, isPublished } from "../content/collection.js";
import { absoluteUrl, fileFor, paths } from "../content/paths.js";
import { readContent, type ContentTree } from "../content/read.js";
import type { IssueItem } from "../feeds/issues.js";
import { reviewArticles } from "../content/review.js";
import { allFeedSpecs, feedKey, ITEM_CONTENT_MAX } from "../feeds/spec.js";
import type { ArchivedIssue } from "../issues/archive.js";
import { COPY_SUFFIX, emailImage, resizeImage } from "../issues/images.js";
import { issuePath } from "../issues/plan.js";
import { emptyPlan, impossiblePaths, MARKER, planned, writeOutput, type OutputPlan, type WriteReport } from "../output/write.js";
import { planPages, SITE_TEMPLATES, type PageSpec } from "../site/pages.js";
import { oldSitePath, planRedirects, redirectFile, redirectPage, type GoneLink, type Redirect } from "../site/redirects.js";
import { robots, sitemap } from "../site/sitemap.js";
import { type TemplateSources } from "../templates/liquid.js";
import { missingTemplates, templateSources } from "../templates/sources.js";
import type { MjmlThread } from "./mjml-thread.js";
import type { OpenState } from "../state/state.js";
import { noteFiles, prepareNewsletter, previewKey, type NewsletterState } from "./newsletter.js";
import { previewFiles, PREVIEW_FILES } from "../issues/preview.js";
import { forkRenderProcesses, PARALLEL_FROM, renderAll } from "./render-all.js";
import { renderPagesShared } from "./render-pages.js";
import { assetSitePath, checkArticleFragments, checkSiteLinks, linkTargets, siteTemplateIds, type LinkTarget } from "./resolve.js";
import { stage } from "./timings.js";
import { contentError, isPressworkError, PressworkError } from "../errors/error.js";
import { fieldRule, fileError, fileWarning } from "../errors/rules.js";
import { RECORD_FILE } from "../issues/limits.js";
import { listOf } from "../validate/words.js";
import { VFile } from "vfile";

/** Options shared by `build` and `check`. */
export interface ProjectOptions {
  /** Project root: holds the config, `articles/` and `templates/`. */
  root: string;
  /** The build's clock: articles dated after it are left out. */
  now: Date;
  /** The cache folder (default: `.presswork-cache/` in the root); false keeps nothing between runs. */
  cacheDir?: string | false;
  /** Also render drafts and scheduled articles, to report their problems (`check`). */
  includeUnpublished?: boolean;
  /** The output folder, whose unchanged pages a build can keep. */
  out?: string;
  /** Stop after the articles and the newsletter: for `issue` and `send`, which need no pages or feeds. */
  withoutSite?: boolean;
  /** Runs MJML for the issues in a thread of its own; without it, MJML runs here. */
  mjml?: MjmlThread;
  /** A send's state as it opened it: the record of sent issues is read from it. */
  state?: OpenState;
  /** Go on without the record of sent issues when its database is not given, with a warning (`check`, which CI runs without secrets). */
  stateOptional?: boolean;
  /** The cache files a process that builds again and again keeps parsed between its builds (see CacheStore.open). */
  warm?: WarmFiles;
}

/** Everything a run found: the files with their messages and, when nothing was fatal, what to write. */
export interface Assembly {
  files: VFile[];
  config?: Config;
  articles: Article[];
  plan?: OutputPlan;
  /** The newsletter's record, past issues and next issue, when the config has a newsletter. */
  newsletter?: NewsletterState;
  /** What to record about the output once the plan is written. */
  state?: { output: OutputState };
  /** How many article bodies this run rendered, and how many it took from the cache. */
  bodies: { rendered: number; cached: number };
}

/**
 * Reads, validates and renders the whole project, stage by stage; writes
 * nothing but the cache. Each stage's messages land on the files; a stage
 * after one with an error is not run.
 */
export async function assemble(options: ProjectOptions): Promise<Assembly> {
  return withStore(options, (store) => assembleIn(store, options));
}

/** Assembles the project and, when it has no errors, writes `dist/` (or `out`) and records what it wrote. */
export async function build(options: ProjectOptions & { out: string }): Promise<Assembly & { written?: WriteReport }> {
  return withStore(options, async (store) => {
    const result = await assembleIn(store, options);
    if (!result.plan) return result;
    const { plan, state } = result;
    const written = writeOutput(options.out, plan, state?.output.existing);
    state?.output.save();
    stage("write");
    return { ...result, written };
  });
}

/** Runs `run` with the project's cache store; a run without errors then records the dates the site shows (see ShownDates). */
async function withStore<T extends Assembly>(options: ProjectOptions, run: (store: CacheStore) => Promise<T>): Promise<T> {
  stage("start");
  const store = CacheStore.open(options.cacheDir === false ? undefined : (options.cacheDir ?? join(options.root, CACHE_DIR)), options.warm);
  try {
    const dates = ShownDates.open(store);
    const result = await run(store);
    if (result.config && !result.files.some((f) => f.messages.some((m) => m.fatal))) dates.save(siteDates(result.config, result));
    return result;
  } finally {
    store.close();
  }
}

/** The keys of the dates the site shows (see displayKey): each article's, published and updated, each sent issue's and its articles' as it shows them, and the next issue's. */
function siteDates(config: Config, { articles, newsletter }: Assembly): Set<string> {
  const past = newsletter?.past ?? [];
  const dates = [...articles.flatMap((a) => [a.published, a.updated]), ...past.flatMap((issue) => [issue.date, ...issue.articles.map((a) => a.published)]), ...(newsletter?.next ? [newsletter.next.plan.date] : [])];
  return new Set(dates.map((date) => displayKey(date, config)));
}

async function assembleIn(store: CacheStore, options: ProjectOptions): Promise<Assembly> {
  let renderers: ChildProcess[] = [];
  try {
    // 1. The config.
    const { config, file: configFile } = await loadConfig(options.root, store);
    stage("config");
    if (!config) return { files: [configFile], articles: [], bodies: { rendered: 0, cached: 0 } };

    // 2. The article sources. With no renders stored, every body will be rendered: a project large
    //    enough to share them starts the render processes now, so they load while the front matter is read.
    const sources = new SourceIndex(store);
    const tree = readContent(options.root, sources, (count) => {
      if (count >= PARALLEL_FROM && !RenderCache.stored(store)) renderers = forkRenderProcesses();
    });
    sources.save();
    stage("sources");

    // 3. Front matter, validated.
    const { metas, metaDigest } = await readFrontMatter(store, config, tree, options.mjml);
    const files = [configFile, ...tree.sources.map((s) => s.file), ...tree.layout];
    stage("front matter");

    // 4. Article bodies: rendered, or from the cache.
    // What links lead to, from a body or an editor's note: every article, drafts too, and the files whose front matter failed.
    const targets = linkTargets(metas, tree.sources.map((s) => s.path));
    const { articles, bodies } = await renderBodies(store, config, tree, metas, targets, options, renderers);
    stage("bodies");
    const failed = () => files.some((f) => f.messages.some((m) => m.fatal));
    if (failed()) return { files, config, articles, bodies };

    // 5. The newsletter: past issues and the next one, compiled.
    let letter: NewsletterState | undefined;
    try {
      letter = await prepareNewsletter(options.root, config, articles, targets, options.now, { cache: store, mjml: options.mjml, state: options.state, stateOptional: options.stateOptional });
    } catch (error) {
      if (isPressworkError(error, "content")) return { files: [...files, ...error.files], config, articles, bodies };
      throw error;
    } finally {
      void options.mjml?.close();
    }
    if (letter) files.push(...letter.files);
    stage("newsletter");
    const assembly = { files, config, articles, bodies, ...(letter ? { newsletter: letter } : {}) };
    if (failed() || options.withoutSite) return assembly;

    // 6. The site: pages, feeds, issue pages, sitemap, static files and assets, each made only when its key changed.
    try {
      const output = OutputState.open(store, options.out);
      const { redirects, gone } = planRedirects(articles, letter?.past ?? []);
      // The pictures each email a send started shows, read once for the copies they need and for those gone.
      const shown = (letter?.issues ?? []).map(({ issue }) => ({ number: issue.number, urls: picturesIn(issue.content?.html ?? "") }));
      const plan = await planSite(store, options.root, config, articles, output, metaDigest, redirects, shown, letter);
      checkSiteLinks(articles, (path) => planned(plan, path), config.site.url);
      const warnings = sentIssueWarnings(gone, picturesGone(plan, shown, config.site.url));
      if (warnings.messages.length > 0) files.push(warnings);
      // An old address where the site has a file of its own.
      if (failed()) return assembly;
      // Every path is known before anything is written: one no file system can hold fails check and build alike.
      // The marker is added once the paths are known good: its own path is checked with them (an alias or a static file of that name).
      // The paths the last build wrote, when they are all this one's and no other, were checked then.
      const outputPaths = [...plan.files.keys(), ...plan.copies.keys(), ...plan.reuse];
      const marker = output.marker(outputPaths);
      const impossible = output.pathsAsBefore() ? [] : impossiblePaths([...outputPaths, MARKER]);
      if (impossible.length > 0) {
        reportPaths(impossible, articles, configFile);
        return assembly;
      }
      plan.checked = true;
      plan.files.set(MARKER, marker);
      return { ...assembly, plan, state: { output } };
    } catch (error) {
      if (isPressworkError(error, "content")) return { files: [...files, ...error.files], config, articles, bodies };
      throw error;
    }
  } finally {
    // renderAll stops them; this is for a run that ends before renderAll.
    for (const child of renderers) child.kill();
  }
}

/**
 * Every article's front matter, validated (or recalled while its text, the
 * config and the assets are unchanged), and a digest of each article's
 * meta by path. Changed front matter may well change the next issue's
 * outline: MJML's thread then starts loading beside the bodies.
 */
async function readFrontMatter(store: CacheStore, config: Config, tree: ContentTree, mjml: MjmlThread | undefined): Promise<{ metas: ArticleMeta[]; metaDigest: (path: string) => string | undefined }> {
  const cache = new MetaCache(store);
  const metas = collectArticles(tree, config, await cache.reader(config, tree.sources, tree.assets));
  cache.save();
  if (cache.parsedAny) mjml?.prepare();
  return { metas, metaDigest: (path) => cache.digestOf(path) };
}

/** The bodies of the articles to render (all of them for `check`), and the published articles with their bodies. */
async function renderBodies(
  store: CacheStore,
  config: Config,
  tree: ContentTree,
  metas: readonly ArticleMeta[],
  targets: readonly LinkTarget[],
  options: ProjectOptions,
  renderers: readonly ChildProcess[],
): Promise<{ articles: Article[]; bodies: Assembly["bodies"] }> {
  const wanted = metas.filter((m) => options.includeUnpublished || isPublished(m, options.now));
  const cache = new RenderCache(store);
  const { bodies, rendered } = await renderAll(wanted, targets, tree, config, options.now, cache, renderers);
  cache.save();
  const withBodies = wanted.map((meta) => ({ meta, body: bodies.get(meta.id) as CachedBody }));
  // The ids the site's templates give a page are read only when some link names a part.
  checkArticleFragments(withBodies, () => siteTemplateIds(join(options.root, SITE_TEMPLATES)));
  // Problems only the rendered body shows (placeholder text left in, a body too large for a feed item).
  reviewArticles(withBodies, options.now, { fullContent: config.feeds.fullContent, itemMax: ITEM_CONTENT_MAX });
  const articles = wanted
    .filter((meta) => isPublished(meta, options.now))
    .map((meta) => toArticle(meta, bodies.get(meta.id) as CachedBody, config.site.url, meta.image ? assetSitePath(meta, meta.image.path) : undefined));
  return { articles, bodies: { rendered, cached: wanted.length - rendered } };
}

/**
 * What the site's output folder should hold: the files to write, the files
 * to copy, and the files to keep as they are. Pages and feeds are kept in
 * the store's scratch packs from when they are made until they are written.
 */
async function planSite(store: CacheStore, root: string, config: Config, articles: readonly Article[], output: OutputState, metaDigest: (path: string) => string | undefined, redirects: readonly Redirect[], shown: readonly SentPictures[], letter?: NewsletterState): Promise<OutputPlan> {
  const plan = emptyPlan();
  const templates = await readTemplates(root);
  const sent: IssueItem[] | undefined = letter?.past.map((p) => ({ number: p.number, subject: p.subject, date: p.date, url: p.url, articles: p.articles.map((a) => ({ title: a.title, url: a.url, description: a.summary })) }));
  // A file is made only when its key changed since the build that wrote it, and is still there.
  const kept = (files: readonly string[], key: string) => {
    const same = files.map((file) => output.keep(file, key)).every(Boolean);
    if (same) for (const file of files) plan.reuse.add(file);
    return same;
  };

  // Pages.
  const { specs, carried, signature, bodiesChanged } = plannedPages(config, articles, templates.liquid, output, metaDigest, letter?.past, letter?.upcoming);
  const { render, reuse } = output.sort(specs, templates.liquid);
  for (const path of [...carried, ...reuse]) plan.reuse.add(path);
  stage("page keys");
  // Held in memory, the feeds of a large archive (each archived page carries its items' bodies) would outweigh
  // everything else a build holds: 470 MB at 20,000 articles.
  const spilled = store.scratch("output");
  const spill = (file: string, made: string) => {
    const place = spilled.append(made);
    plan.files.set(file, () => {
      const bytes = spilled.readBytes(place);
      if (bytes === undefined) throw new PressworkError("internal", `the file ${file} was lost before it was written`);
      return bytes;
    });
  };
  // Feeds: each feed's three files, made only when its key changed; the feed writers load only then.
  // An article is what its validated front matter and its body make of it, with the config, which each feed's key holds.
  const articleKey = (a: Article) => {
    const meta = metaDigest(a.source.path);
    return meta && `${meta} ${a.body.digest} ${a.body.statsDigest}`;
  };
  const changedFeeds = allFeedSpecs(config, articles, groupByTag(articles), groupByAuthor(articles)).filter(({ prefix, spec }) => {
    const { rss, atom, json } = paths.feeds(prefix);
    const names = [rss, atom, json];
    // Planned from the last build's signature, a feed whose articles' bodies are all as they were is as that build made it:
    // its key is carried over, not made again (hundreds of archive pages over thousands of articles).
    if (bodiesChanged && !spec.articles.some((article) => bodiesChanged.has(article.id))) {
      for (const file of names) {
        output.carry(file);
        plan.reuse.add(file);
      }
      return false;
    }
    return !kept(names, feedKey(spec, articleKey));
  });
  const makeFeeds: Array<() => void> = [];
  if (changedFeeds.length > 0) {
    const { feedFiles } = await import("../feeds/index.js");
    for (const { prefix, spec } of changedFeeds) makeFeeds.push(() => feedFiles(spec, prefix).forEach((text, path) => spill(path, text)));
  }
  // In the plan in the order of the specs, whichever thread renders each. This thread makes the feeds
  // while the page thread starts on the pages (a tenth of a first build, on one core otherwise).
  for (const spec of render) plan.files.set(spec.file, "");
  await renderPagesShared(render, templates.liquid, config.site, spill, makeFeeds);
  stage(`pages (${render.length}), feeds (${changedFeeds.length})`);

  // The newsletter's feeds and the next issue's preview (its pages are planned with the site's pages).
  if (letter && sent) {
    const issueFeedFiles = paths.feeds("issues/");
    if (!kept(Object.values(issueFeedFiles), cacheKey(config.site, config.feeds, config.newsletter?.name, sent))) {
      const { issueFeeds } = await import("../feeds/issues.js");
      const feeds = issueFeeds(config, sent);
      plan.files.set(issueFeedFiles.rss, feeds.rss);
      plan.files.set(issueFeedFiles.atom, feeds.atom);
      plan.files.set(issueFeedFiles.json, feeds.json);
    }
    if (letter.next && !kept(PREVIEW_FILES, previewKey(letter.next, config, letter.newsletter))) {
      for (const [path, data] of await previewFiles(letter.next, config, letter.newsletter)) plan.files.set(path, data);
    }
  }

  // The sitemap and robots.txt follow from the config and the articles without their bodies: the pages' signature.
  if (!kept(["sitemap.xml", "robots.txt"], signature)) {
    plan.files.set("sitemap.xml", sitemap(config, articles, newsletterPages(config, letter?.past)));
    plan.files.set("robots.txt", robots(config));
  }

  // Files copied as they are: the templates' static files, and each article's images.
  for (const [name, path] of templates.statics) plan.copies.set(name, path);
  for (const article of articles) for (const { source, sitePath } of articleFiles(article)) plan.copies.set(decodeURIComponent(sitePath), join(root, source));
  // The files beside the editor's notes, at the address of each issue that shows them (the next one's too: its page is up before its send).
  for (const [path, source] of noteFiles(root, config.site.url, [...(letter?.past ?? []), ...(letter?.upcoming ? [letter.upcoming] : [])])) {
    if (!planned(plan, path)) plan.copies.set(path, source);
  }
  stage("sitemap, copies");

  // Old addresses: a page that sends readers on, where the site has no file of its own.
  for (const redirect of redirects) {
    const file = redirectFile(redirect);
    const { to } = redirect;
    // The page's file, or a folder on its way that is a file of the site's (a template's logo.png).
    const taken = file.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/")).find((path) => planned(plan, path));
    if (taken !== undefined) {
      if (to.aliases?.includes(redirect.from)) {
        fileError(to.source.file, fieldRule("front-matter", "aliases"), `'aliases' has ${redirect.from}, where the site has ${taken} of its own: take it out of aliases`, { place: { line: aliasLine(to.source, redirect.from), column: 1 } });
      }
      continue;
    }
    if (!kept([file], cacheKey("redirect", to.url, to.title, config.site.language))) plan.files.set(file, redirectPage(redirect, config.site.language, new URL(config.site.url).pathname));
    // The article's pictures at the old address too: sent emails show them from there, and no page can redirect a picture.
    for (const { source, sitePath } of articleFiles(to)) {
      const old = oldSitePath(redirect, sitePath);
      const path = old === undefined ? undefined : decodeURIComponent(old);
      if (path !== undefined && !planned(plan, path)) plan.copies.set(path, join(root, source));
    }
  }

  // The email-size copies of pictures wider than twice the email's slot, for the emails that link to them
  // (the next issue's and every issue a send started): kept in the output while their name (the source's
  // content and the copy's width) is the same, else from the cache, else made.
  const copies = store.folder("email-images");
  const linked = new Set([...picturesIn(letter?.next?.html ?? ""), ...shown.flatMap((issue) => issue.urls)].filter((url) => COPY_SUFFIX.test(url)));
  // A copy's URL is its original's with the width and hash before the extension: only those pictures are read.
  const originals = linked.size > 0 ? emailPictures(articles, redirects, config.site.url) : new Map<string, ArticleFile>();
  for (const url of linked) {
    const original = originals.get(url.replace(COPY_SUFFIX, "."));
    const image = original ? emailImage(root, original.source, original.sitePath, config.site.url) : undefined;
    const copy = image?.copy;
    if (!copy || image.url !== url || plan.copies.has(copy.file) || plan.files.has(copy.file)) continue;
    const key = cacheKey(copy.file);
    const entry = `${key}.json`;
    if (kept([copy.file], key)) {
      copies?.keep(entry);
      continue;
    }
    const cached = copies?.read<string>(entry);
    const bytes = cached !== undefined ? Buffer.from(cached, "base64") : await resizeImage(copy);
    if (cached === undefined) copies?.write(entry, Buffer.from(bytes).toString("base64"));
    plan.files.set(copy.file, bytes);
  }
  copies?.prune();
  stage("email images");
  return plan;
}

/** The pictures a sent issue's email shows: the URL of each `<img>`. */
interface SentPictures {
  number: number;
  urls: string[];
}

/** The URLs of an email's pictures, as its `<img>` elements give them. */
function picturesIn(html: string): string[] {
  return [...html.matchAll(/<img\b[^>]*?\bsrc="([^"]+)"/gi)].map(([, src = ""]) => src.replaceAll("&amp;", "&"));
}

/**
 * The pictures of the site that sent issues' emails show and the plan no
 * longer publishes, with the issues that show each: blank in those emails
 * for every reader who opens them from now on. An email-size copy stands
 * for its original, the file to put back.
 */
function picturesGone(plan: OutputPlan, shown: readonly SentPictures[], siteUrl: string): Map<string, number[]> {
  const gone = new Map<string, number[]>();
  const base = new URL(siteUrl).pathname;
  for (const { number, urls } of shown) {
    for (const url of urls) {
      if (!url.startsWith(siteUrl)) continue;
      let path: string;
      try {
        path = decodeURIComponent(new URL(url).pathname.slice(base.length));
      } catch {
        continue;
      }
      if (planned(plan, path)) continue;
      const issues = gone.get(path.replace(COPY_SUFFIX, ".")) ?? [];
      if (!issues.includes(number)) issues.push(number);
      gone.set(path.replace(COPY_SUFFIX, "."), issues);
    }
  }
  return gone;
}

/** What sent issues show that the site no longer has, as warnings on the record of sent issues: links to pages gone, pictures gone. */
function sentIssueWarnings(links: readonly GoneLink[], pictures: ReadonlyMap<string, number[]>): VFile {
  const file = new VFile({ path: RECORD_FILE });
  const place = { place: { line: 1, column: 1 } };
  const which = (issues: readonly number[], verb: string) => (issues.length === 1 ? `issue #${issues[0]} ${verb}s` : `issues ${listOf(issues.map((n) => `#${n}`))} ${verb}`);
  for (const { path, title, issues } of links) {
    fileWarning(file, "issue-link-gone", `${which(issues, "link")} to ${path} ("${title}"), where no page is now: readers who follow it from their inbox find nothing. If the article moved, list its old address in its front matter: aliases: [${path}]`, place);
  }
  for (const [path, issues] of pictures) {
    fileWarning(file, "issue-picture-gone", `${which(issues, "show")} the picture ${path}, which the site no longer has: it is blank in those emails for every reader who opens them from now on. Put the file back where it was (a renamed article that keeps its id keeps its pictures at the old address)`, place);
  }
  return file;
}

/** A file an article publishes: its source (relative to the project root) and its path in the site (URL-encoded). */
interface ArticleFile {
  source: string;
  sitePath: string;
}

/** The pictures an email may show, by their original's URL: each article's picture and the local files its body links to, at its address and at its old ones. */
function emailPictures(articles: readonly Article[], redirects: readonly Redirect[], siteUrl: string): Map<string, ArticleFile> {
  const pictures = new Map<string, ArticleFile>();
  for (const article of articles) for (const { source, sitePath } of articleFiles(article)) pictures.set(absoluteUrl(sitePath, siteUrl), { source, sitePath });
  for (const redirect of redirects) {
    for (const { source, sitePath } of articleFiles(redirect.to)) {
      const old = oldSitePath(redirect, sitePath);
      if (old !== undefined && !pictures.has(absoluteUrl(old, siteUrl))) pictures.set(absoluteUrl(old, siteUrl), { source, sitePath: old });
    }
  }
  return pictures;
}

/** The files an article publishes beside its page (its body's pictures and files, its cover image), each with its source and its site path, URL-encoded. */
function articleFiles(article: Article): ArticleFile[] {
  const files = [...article.body.assets].map(([source, sitePath]) => ({ source, sitePath }));
  const cover = article.image ? assetSitePath(article, article.image.path) : undefined;
  if (article.image && cover) files.push({ source: article.image.path, sitePath: cover });
  return files;
}

/**
 * The site's pages to key: all of them, or, when nothing but article bodies
 * changed since the last build, the article pages of the changed bodies
 * (every other page carries its key over and stays as it is). The upcoming
 * issue's page, which no other page links to, is keyed on every build and
 * left out of what is carried over. Planned from the last build's
 * signature, it also gives the ids of the articles whose bodies changed.
 */
function plannedPages(
  config: Config,
  articles: readonly Article[],
  templates: TemplateSources,
  output: OutputState,
  metaDigest: (path: string) => string | undefined,
  sent?: readonly ArchivedIssue[],
  upcoming?: ArchivedIssue,
): { specs: PageSpec[]; carried: string[]; signature: string; bodiesChanged?: ReadonlySet<string> } {
  // An article without its body's HTML is its meta (toArticle adds only what follows from it and the config) and its body's stats.
  const withoutBodies = articles.map((a) => `${metaDigest(a.source.path) ?? JSON.stringify({ ...a, source: a.source.path, body: null })} ${a.body.statsDigest}`);
  // An issue's page follows from its own fields and its articles as it shows them; the bodies it shows in full are planned with the article pages they change.
  const issues =
    sent?.map((i) => [i.number, i.subject, i.date, i.description, i.full, i.noteHtml, i.source, i.articles.map((a) => [a.id, a.title, a.subtitle, a.path, a.tag, a.authors, a.published, a.readingMinutes, a.keyPoints, a.keyPointsHtml, a.summary, a.image ?? null])]) ?? null;
  const signature = cacheKey(templates, config, issues, withoutBodies);
  const bodies: Record<string, string> = {};
  for (const a of articles) bodies[a.id] = a.body.digest;
  const upcomingFile = upcoming ? fileFor(issuePath(upcoming.number)) : undefined;
  const last = output.plannedFrom(signature);
  if (last) {
    const bodiesChanged = new Set(articles.filter((a) => last.bodies[a.id] !== a.body.digest).map((a) => a.id));
    const specs = planPages(config, articles, sent, bodiesChanged, upcoming);
    const planned = new Set(specs.map((s) => s.file));
    const carried = last.pages.filter((file) => !planned.has(file));
    for (const file of carried) output.carry(file);
    output.planned({ signature, pages: last.pages, bodies });
    return { specs, carried, signature, bodiesChanged };
  }
  const specs = planPages(config, articles, sent, undefined, upcoming);
  output.planned({ signature, pages: specs.map((s) => s.file).filter((file) => file !== upcomingFile), bodies });
  return { specs, carried: [], signature };
}

/** The newsletter's pages for the sitemap: its index, each sent issue, the subscribe page. */
function newsletterPages(config: Config, past: readonly ArchivedIssue[] | undefined): Array<{ path: string; lastmod?: Date }> {
  if (!past) return [];
  const newest = past.at(-1)?.date;
  return [
    { path: "issues/", ...(newest ? { lastmod: newest } : {}) },
    ...past.map((issue) => ({ path: issuePath(issue.number), lastmod: issue.date })),
    ...(config.newsletter?.subscribe ? [{ path: paths.subscribe }] : []),
  ];
}

/**
 * Output paths no file system can hold, as messages on what they come from:
 * the article of a slug, the first article with a tag or an author, or the
 * config.
 */
function reportPaths(problems: ReadonlyArray<{ path: string; reason: string }>, articles: readonly Article[], configFile: VFile): void {
  for (const { path, reason } of problems) {
    const [kind, key] = path.split("/");
    const owner =
      kind === "articles" ? articles.find((a) => a.slug === key) : kind === "tags" ? articles.find((a) => a.tags.some((t) => t.slug === key)) : kind === "authors" ? articles.find((a) => a.authors.some((t) => t.key === key)) : undefined;
    const field = kind === "articles" ? "slug" : kind === "tags" ? "tags" : "authors";
    const file = owner?.source.file ?? configFile;
    fileError(file, "output-path", `the output file ${path} ${reason}`, { place: { line: owner ? fieldLine(owner.source, field) : 1, column: 1 } });
  }
}

/** The site templates folder: Liquid templates by name, and static files (CSS, XSL, icons) to copy as they are. */
interface SiteFiles {
  liquid: TemplateSources;
  statics: Map<string, string>;
}

async function readTemplates(root: string): Promise<SiteFiles> {
  const dir = join(root, SITE_TEMPLATES);
  if (!existsSync(dir)) throw contentError(missingTemplates(SITE_TEMPLATES, "the site's pages are"));
  const names = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1).split("\\").join("/"))
    .sort();
  const liquid = new Map<string, Buffer>();
  const statics = new Map<string, string>();
  for (const name of names) {
    if (name.endsWith(".liquid")) liquid.set(name, await readFile(join(dir, name)));
    else statics.set(name, join(dir, name));
  }
  return { liquid: templateSources(SITE_TEMPLATES, liquid), statics };
}
