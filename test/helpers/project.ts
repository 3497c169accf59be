import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { inject } from "vitest";
import { report } from "../../src/cli/report.js";
import { assemble } from "../../src/pipeline/build.js";

/** The repository root. */
export const REPO = resolve(import.meta.dirname, "../..");

const created: string[] = [];

/** What a temporary project holds beyond the repository's templates. */
export interface ProjectSpec {
  /** Files under articles/, by path relative to it. */
  articles?: Record<string, string | Uint8Array>;
  /** Replaces presswork.config.yaml; by default the repository's sample config. */
  config?: string;
  /** Copy the sample articles and the newsletter record and notes too. */
  samples?: boolean;
  /**
   * With `samples`: start with the cache a build of the samples (their
   * config, at NOW) left, as a project built before does. Its first command
   * renders no article again, nor runs MJML on an email it compiled before,
   * though the test changed the config's delivery settings: for tests of
   * what comes after a build (a send, a relay), not of a first build.
   */
  built?: boolean;
  /** Extra or replaced files under templates/, by path relative to it (site/…, email/…). */
  templates?: Record<string, string>;
  /** Extra or replaced files under newsletter/. */
  newsletter?: Record<string, string>;
}

/** A throwaway project folder with the sample config and templates, and the given articles. */
export async function tempProject(spec: ProjectSpec = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "presswork-test-"));
  created.push(root);
  await cp(join(REPO, "templates"), join(root, "templates"), { recursive: true });
  await writeFile(join(root, "presswork.config.yaml"), spec.config ?? (await readFile(join(REPO, "presswork.config.yaml"), "utf8")));
  await mkdir(join(root, "articles"), { recursive: true });
  if (spec.samples) {
    await cp(join(REPO, "articles"), join(root, "articles"), { recursive: true });
    await cp(join(REPO, "newsletter"), join(root, "newsletter"), { recursive: true });
  }
  if (spec.built) {
    const cache = inject("samplesCache");
    if ("reason" in cache) throw new Error(cache.reason);
    await cp(cache.path, join(root, ".presswork-cache"), { recursive: true });
    // Kept out of the project's commits, as a repository keeps it.
    await writeFile(join(root, ".gitignore"), ".presswork-cache/\n");
  }
  for (const [path, data] of Object.entries(spec.articles ?? {})) await put(join(root, "articles", path), data);
  for (const [path, data] of Object.entries(spec.templates ?? {})) await put(join(root, "templates", path), data);
  for (const [path, data] of Object.entries(spec.newsletter ?? {})) await put(join(root, "newsletter", path), data);
  return root;
}

/** Writes a file, creating its folder. */
export async function put(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
}

/** Removes every project made by tempProject. */
export async function removeProjects(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** An article with the given front matter lines and body. */
export function article(front: string, body = "Body text with a [link](https://example.org/)."): string {
  return `---\n${front.trim()}\n---\n\n${body}\n`;
}

/** A fixed clock for builds in tests. */
export const NOW = new Date("2026-11-29T12:00:00Z");

/** Every file under `dir` with its bytes, by path relative to it. */
export async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  const out = new Map<string, Buffer>();
  for (const e of files) out.set(join(e.parentPath, e.name).slice(dir.length + 1), await readFile(join(e.parentPath, e.name)));
  return out;
}

/** The lines `presswork check` prints for the project at `root` (drafts and scheduled articles too), at `now`. */
export async function checkLines(root: string, now: Date = NOW): Promise<string[]> {
  const result = await assemble({ root, now, cacheDir: false, includeUnpublished: true });
  const lines: string[] = [];
  report(result.files, (line) => lines.push(line), false);
  return lines;
}
