import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { VFile } from "vfile";
import { loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import type { ArticleMeta } from "../content/article.js";
import { collectArticles, groupByTag, isPublished } from "../content/collection.js";
import { paths } from "../content/paths.js";
import { readContent, type ContentTree } from "../content/read.js";
import { allFeeds } from "../feeds/index.js";
import { toArticle, type Article } from "../markdown/article.js";
import { PIPELINE_VERSION, renderBody, type RenderedBody } from "../markdown/render.js";
import { emptyPlan, writeOutput, type OutputPlan } from "../output/write.js";
import { renderPages, SITE_TEMPLATES } from "../site/pages.js";
import { robots, sitemap } from "../site/sitemap.js";
import { TemplateError, type TemplateSources } from "../site/templates.js";
import { RenderCache } from "./cache.js";
import { assetSitePath, makeResolver } from "./resolve.js";

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
}

/** Everything a run found: the files with their messages and, when nothing was fatal, what to write. */
export interface Assembly {
  files: VFile[];
  config?: Config;
  articles: Article[];
  plan?: OutputPlan;
}

/** Reads, validates and renders the whole project in memory. Writes nothing but the render cache. */
export async function assemble(options: ProjectOptions): Promise<Assembly> {
  const { config, file: configFile } = await loadConfig(options.root);
  if (!config) return { files: [configFile], articles: [] };
  const tree = await readContent(options.root);
  const metas = collectArticles(tree, config);
  const files = [configFile, ...tree.sources.map((s) => s.file)];
  const wanted = metas.filter((m) => options.includeUnpublished || isPublished(m, options.now));
  const cache = new RenderCache(options.cacheDir === false ? undefined : (options.cacheDir ?? join(options.root, ".presswork-cache")));
  const bodies = await renderAll(wanted, tree, config, options.now, cache);
  const articles = wanted
    .filter((meta) => isPublished(meta, options.now))
    .map((meta) => toArticle(meta, bodies.get(meta.id) as RenderedBody, config.site.url, meta.image ? assetSitePath(meta, meta.image.path) : undefined));
  if (files.some((f) => f.messages.some((m) => m.fatal))) return { files, config, articles };

  const templates = await readTemplates(join(options.root, SITE_TEMPLATES));
  try {
    const plan = outputPlan(config, articles, templates, options.root);
    return { files, config, articles, plan };
  } catch (error) {
    if (error instanceof TemplateError) return { files: [...files, error.file], config, articles };
    throw error;
  }
}

/** Assembles the project and, when it has no errors, writes `dist/` (or `out`). */
export async function build(options: ProjectOptions & { out: string }): Promise<Assembly & { written: number }> {
  const result = await assemble(options);
  if (!result.plan) return { ...result, written: 0 };
  const written = await writeOutput(options.out, result.plan);
  return { ...result, written };
}

async function renderAll(metas: readonly ArticleMeta[], tree: ContentTree, config: Config, now: Date, cache: RenderCache): Promise<Map<string, RenderedBody>> {
  const resolve = makeResolver(metas, tree.assets, now);
  const basePath = new URL(config.site.url).pathname;
  const bodies = new Map<string, RenderedBody>();
  await Promise.all(
    metas.map(async (meta) => {
      const { file, text, path } = meta.source;
      const pageUrl = new URL(paths.article(meta.slug), config.site.url).href;
      const key = RenderCache.key([String(PIPELINE_VERSION), config.site.url, path, meta.slug, text]);
      const valid = (body: RenderedBody) => body.resolved.every(([url, was]) => JSON.stringify(resolve(path, url)) === JSON.stringify(was));
      let body = await cache.get(key, file, valid);
      if (!body) {
        const before = file.messages.length;
        body = renderBody(file, path, { basePath, siteUrl: config.site.url, pageUrl, resolve });
        await cache.set(key, body, file, before);
      }
      bodies.set(meta.id, body);
    }),
  );
  return bodies;
}

function outputPlan(config: Config, articles: readonly Article[], templates: SiteFiles, root: string): OutputPlan {
  const plan = emptyPlan();
  for (const [path, html] of renderPages(config, articles, templates.liquid)) plan.files.set(path, html);
  for (const [path, text] of allFeeds(config, articles, groupByTag(articles))) plan.files.set(path, text);
  plan.files.set("sitemap.xml", sitemap(config, articles));
  plan.files.set("robots.txt", robots(config));
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
