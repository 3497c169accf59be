import { access, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import type { Config } from "../config/schema.js";
import { slugify } from "./article.js";
import { PLACEHOLDERS } from "./placeholders.js";
import { calendarDate } from "./dates.js";
import { tagUri } from "./ids.js";
import { ARTICLES_DIR } from "./read.js";

/**
 * Creates `articles/<slug>/index.md` for a new article dated `now`, as a draft
 * with its permanent id pinned. The slug gets -2, -3… when taken. Returns the path.
 */
export async function scaffoldArticle(root: string, title: string, config: Config, now: Date): Promise<string> {
  const base = slugify(title) || "article";
  let slug = base;
  for (let n = 2; await exists(join(root, ARTICLES_DIR, slug)) || (await exists(join(root, ARTICLES_DIR, `${slug}.md`))); n++) slug = `${base}-${n}`;
  const date = calendarDate(now, config.site.timezone);
  const front = {
    title,
    date,
    id: tagUri(config, date, slug),
    ...(config.defaultAuthor ? { authors: [config.defaultAuthor] } : {}),
    tags: [],
    summary: PLACEHOLDERS.summary,
    draft: true,
  };
  const points = PLACEHOLDERS.points.map((p) => `- ${p}\n`).join("");
  const text = `---\n${stringify(front)}---\n\n## Quick Reads\n\n${points}\n${PLACEHOLDERS.opening}\n`;
  const path = `${ARTICLES_DIR}/${slug}/index.md`;
  await mkdir(join(root, ARTICLES_DIR, slug), { recursive: true });
  await writeFile(join(root, path), text, { flag: "wx" });
  return path;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
