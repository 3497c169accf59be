import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { VFile } from "vfile";
import { loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { collectArticles, groupByAuthor, groupByTag, isPublished } from "../content/collection.js";
import { readContent, type ContentTree } from "../content/read.js";
import type { IssueItem } from "../feeds/issues.js";
import { allFeedSpecs, feedKey, ITEM_CONTENT_MAX } from "../feeds/spec.js";
import { reviewArticles } from "../content/review.js";
import { fieldLine } from "../content/article.js";
import { paths } from "../content/paths.js";
import type { ArchivedIssue } from "../issues/archive.js";
import { issuePath } from "../issues/plan.js";
import { toArticle, type Article } from "../markdown/article.js";
import type { RenderedBody } from "../markdown/render.js";
import { emptyPlan, impossiblePaths, MARKER, writeOutput, type OutputPlan, type WriteReport } from "../output/write.js";
import { planPages, SITE_TEMPLATES, type PageSpec } from "../site/pages.js";
import { robots, sitemap } from "../site/sitemap.js";
import { TemplateError, type TemplateSources } from "../templates/liquid.js";
import { PIPELINE_VERSION } from "../markdown/version.js";
import { RenderCache } from "./cache.js";
import type { MjmlThread } from "./mjml-thread.js";
import { prepareNewsletter, previewFiles, previewKey, PREVIEW_FILES, type NewsletterState } from "./newsletter.js";
import { CACHE_DIR } from "./json-file.js";
import { MetaCache } from "./meta-cache.js";
import { OutputState } from "./output-state.js";
import { SourceIndex } from "./source-index.js";
import { stage } from "./timings.js";
import { forkRenderWorker, PARALLEL_FROM, renderAll } from "./render-all.js";
import { renderPagesShared } from "./render-pages.js";
import { assetSitePath } from "./resolve.js";

/** Options shared by `build` and `check`. */
export interface ProjectOptions {
  /** Project root: holds the config, `articles/` and `templates/`. */
  root: string;
  /** The build's clock: articles dated after it are left out. */
  now: Date;
  /** Folder for cached renders; false turns caching off. */
  cacheDir?: string | false;
  /** Also render drafts and scheduled articles, to report their problems (`check`). */
  includeUnpublished?: boolean;
  /** The output folder, whose unchanged pages a build can keep. */
  out?: string;
  /** Stop after the articles and the newsletter: for `issue` and `send`, which need no pages or feeds. */
  withoutSite?: boolean;
  /** Runs MJML for the issues in a thread of its own; without it, MJML runs here. */
  mjml?: MjmlThread;
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
  state?: { output: OutputState; marker: string };
}

/** Reads, validates and renders the whole project in memory. Writes nothing but the render cache. */
export async function assemble(options: ProjectOptions): Promise<Assembly> {
  stage("start");
  const cacheDir = options.cacheDir === false ? undefined : (options.cacheDir ?? join(options.root, CACHE_DIR));
  const { config, file: configFile } = await loadConfig(options.root, cacheDir);
  stage("config");
  if (!config) return { files: [configFile], articles: [] };
  const sourceIndex = cacheDir ? new SourceIndex(join(cacheDir, "sources.journal")) : undefined;
  // With no renders stored, every body is rendered: a project large enough to share them starts the worker now.
  let worker: ChildProcess | undefined;
  const tree = readContent(options.root, sourceIndex, (count) => {
    if (cacheDir && count >= PARALLEL_FROM && !RenderCache.stored(join(cacheDir, "bodies"))) worker = forkRenderWorker();
  });
  sourceIndex?.save();
  try {
    return await assembleContent(options, config, configFile, tree, cacheDir, worker);
  } finally {
    // renderAll stops it; this is for a run that ends before renderAll.
    worker?.kill();
  }
}

async function assembleContent(options: ProjectOptions, config: Config, configFile: VFile, tree: ContentTree, cacheDir: string | undefined, worker: ChildProcess | undefined): Promise<Assembly> {
  stage("sources");
  const metaCache = new MetaCache(cacheDir && join(cacheDir, "meta.journal"));
  const metas = collectArticles(tree, config, await metaCache.reader(config, tree.sources, tree.assets));
  metaCache.save();
  // Changed front matter may well change the next issue's outline: MJML loads beside the bodies.
  if (metaCache.parsedAny) options.mjml?.prepare();
  stage("front matter");
  const files = [configFile, ...tree.sources.map((s) => s.file), ...tree.layout];
  const wanted = metas.filter((m) => options.includeUnpublished || isPublished(m, options.now));
  const cache = new RenderCache(cacheDir && join(cacheDir, "bodies"));
  const bodies = await renderAll(wanted, metas, tree, config, options.now, cache, worker);
  cache.save();
  stage("bodies");
  reviewArticles(
    wanted.map((meta) => ({ meta, body: bodies.get(meta.id) as RenderedBody })),
    options.now,
    { fullContent: config.feeds.fullContent, itemMax: ITEM_CONTENT_MAX },
  );
  const articles = wanted
    .filter((meta) => isPublished(meta, options.now))
    .map((meta) => toArticle(meta, bodies.get(meta.id) as RenderedBody, config.site.url, meta.image ? assetSitePath(meta, meta.image.path) : undefined));
  if (files.some((f) => f.messages.some((m) => m.fatal))) return { files, config, articles };

  let letter: NewsletterState | undefined;
  try {
    letter = await prepareNewsletter(options.root, config, articles, options.now, cacheDir, options.mjml);
  } catch (error) {
    if (error instanceof TemplateError) return { files: [...files, error.file], config, articles };
    throw error;
  } finally {
    void options.mjml?.close();
  }
  stage("newsletter");
  if (letter) files.push(...letter.files);
  if (files.some((f) => f.messages.some((m) => m.fatal)) || options.withoutSite) return { files, config, articles, ...(letter ? { newsletter: letter } : {}) };

  const templates = await readTemplates(join(options.root, SITE_TEMPLATES));
  const output = OutputState.open(cacheDir, options.out);
  try {
    const plan = await outputPlan(config, articles, templates, options.root, output, (path) => metaCache.digestOf(path), letter);
    // Every path is known before anything is written: one no file system can hold fails check and build alike.
    const impossible = impossiblePaths([...plan.files.keys(), ...plan.copies.keys(), ...plan.reuse]);
    if (impossible.length > 0) {
      reportPaths(impossible, articles, configFile);
      return { files, config, articles };
    }
    const marker = output.marker([...plan.files.keys(), ...plan.copies.keys(), ...plan.reuse].sort());
    plan.files.set(MARKER, marker);
    stage("feeds, sitemap");
    return { files, config, articles, plan, state: { output, marker }, ...(letter ? { newsletter: letter } : {}) };
  } catch (error) {
    if (error instanceof TemplateError) return { files: [...files, error.file], config, articles };
    throw error;
  }
}

/** Assembles the project and, when it has no errors, writes `dist/` (or `out`). */
export async function build(options: ProjectOptions & { out: string }): Promise<Assembly & { written?: WriteReport }> {
  const result = await assemble(options);
  if (!result.plan) return result;
  const { plan, state } = result;
  const written = writeOutput(options.out, plan, state?.output.existing);
  state?.output.save([...plan.files.keys(), ...plan.copies.keys(), ...plan.reuse], state.marker);
  stage("write");
  return { ...result, written };
}

async function outputPlan(config: Config, articles: readonly Article[], templates: SiteFiles, root: string, output: OutputState, metaDigest: (path: string) => string | undefined, letter?: NewsletterState): Promise<OutputPlan> {
  const plan = emptyPlan();
  const sent: IssueItem[] | undefined = letter?.past.map((p) => ({ number: p.number, subject: p.subject, date: p.date, url: p.url, articles: p.articles.map((a) => ({ title: a.title, url: a.url, description: a.summary })) }));
  const { specs, carried, signature } = plannedPages(config, articles, templates.liquid, output, metaDigest, letter?.past);
  const { render, reuse } = output.sort(specs, templates.liquid);
  for (const path of carried) plan.reuse.add(path);
  stage("page keys");
  for (const [path, html] of await renderPagesShared(render, templates.liquid)) plan.files.set(path, html);
  for (const path of reuse) plan.reuse.add(path);
  stage(`pages (${render.length})`);
  // Each feed's three files are made only when its key changed; the feed writers load only then.
  const made = (files: readonly string[], key: string) => {
    const kept = files.map((file) => output.keep(file, key)).every(Boolean);
    if (kept) for (const file of files) plan.reuse.add(file);
    return !kept;
  };
  // An article is what its validated front matter and its body make of it, with the config, which each feed's key holds.
  const articleKey = (a: Article) => {
    const meta = metaDigest(a.source.path);
    return meta && `${meta} ${a.body.digest} ${a.body.statsDigest}`;
  };
  for (const { prefix, spec } of allFeedSpecs(config, articles, groupByTag(articles), groupByAuthor(articles))) {
    const names = paths.feeds(prefix);
    if (!made([names.rss, names.atom, names.json], feedKey(spec, articleKey))) continue;
    const { feedFiles } = await import("../feeds/index.js");
    for (const [path, text] of feedFiles(spec, prefix)) plan.files.set(path, text);
  }
  if (letter && sent) {
    const issueFeedFiles = paths.feeds("issues/");
    if (made(Object.values(issueFeedFiles), createHash("sha1").update(JSON.stringify([PIPELINE_VERSION, config.site, config.feeds, config.newsletter?.name, sent])).digest("hex"))) {
      const { issueFeeds } = await import("../feeds/issues.js");
      const feeds = issueFeeds(config, sent);
      plan.files.set(issueFeedFiles.rss, feeds.rss);
      plan.files.set(issueFeedFiles.atom, feeds.atom);
      plan.files.set(issueFeedFiles.json, feeds.json);
    }
    if (letter.next && made(PREVIEW_FILES, previewKey(letter.next, config, letter.newsletter))) {
      for (const [path, data] of await previewFiles(letter.next, config, letter.newsletter)) plan.files.set(path, data);
    }
  }
  // The sitemap and robots.txt follow from the config and the articles without their bodies: the pages' signature.
  if (made(["sitemap.xml", "robots.txt"], signature)) {
    plan.files.set("sitemap.xml", sitemap(config, articles, newsletterPages(config, letter?.past)));
    plan.files.set("robots.txt", robots(config));
  }
  for (const [name, path] of templates.statics) plan.copies.set(name, path);
  for (const article of articles) {
    for (const [source, sitePath] of article.body.assets) plan.copies.set(decodeURIComponent(sitePath), join(root, source));
    if (article.image) {
      const sitePath = assetSitePath(article, article.image.path);
      if (sitePath) plan.copies.set(decodeURIComponent(sitePath), join(root, article.image.path));
    }
  }
  return plan;
}

/**
 * The site's pages to key: all of them, or, when nothing but article bodies
 * changed since the last build, the article pages of the changed bodies
 * (every other page carries its key over and stays as it is).
 */
function plannedPages(config: Config, articles: readonly Article[], templates: TemplateSources, output: OutputState, metaDigest: (path: string) => string | undefined, sent?: readonly ArchivedIssue[]): { specs: PageSpec[]; carried: string[]; signature: string } {
  // An article without its body's HTML is its meta (toArticle adds only what follows from it and the config) and its body's stats.
  const withoutBodies = articles.map((a) => `${metaDigest(a.source.path) ?? JSON.stringify({ ...a, source: a.source.path, body: null })} ${a.body.statsDigest}`);
  // A sent issue's page follows from its own fields and its articles' metas; the bodies it shows in full are planned with the article pages they change.
  const issues = sent?.map((i) => [i.number, i.subject, i.date, i.description, i.full, i.noteHtml, i.articles.map((a) => a.id)]) ?? null;
  const signature = createHash("sha1").update(JSON.stringify([PIPELINE_VERSION, templates, config, issues, withoutBodies])).digest("hex");
  const bodies = Object.fromEntries(articles.map((a) => [a.id, a.body.digest]));
  const last = output.plannedFrom(signature);
  if (last) {
    const specs = planPages(config, articles, sent, new Set(articles.filter((a) => last.bodies[a.id] !== a.body.digest).map((a) => a.id)));
    const planned = new Set(specs.map((s) => s.file));
    const carried = last.pages.filter((file) => !planned.has(file));
    for (const file of carried) output.carry(file);
    output.planned({ signature, pages: last.pages, bodies });
    return { specs, carried, signature };
  }
  const specs = planPages(config, articles, sent);
  output.planned({ signature, pages: specs.map((s) => s.file), bodies });
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
    file.message(`the output file ${path} ${reason}`, { place: { line: owner ? fieldLine(owner.source, field) : 1, column: 1 }, ruleId: "output-path", source: "output" }).fatal = true;
  }
}

/** The site templates folder: Liquid templates by name, and static files (CSS, XSL, icons) to copy as they are. */
interface SiteFiles {
  liquid: TemplateSources;
  statics: Map<string, string>;
}

async function readTemplates(dir: string): Promise<SiteFiles> {
  const names = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1).split("\\").join("/"))
    .sort();
  const liquid: Record<string, string> = {};
  const statics = new Map<string, string>();
  for (const name of names) {
    if (name.endsWith(".liquid")) liquid[name] = await readFile(join(dir, name), "utf8");
    else statics.set(name, join(dir, name));
  }
  return { liquid, statics };
}
