import { existsSync } from "node:fs";
import { cp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { report } from "../../src/cli/report.js";
import { assemble } from "../../src/pipeline/build.js";
import { NOW, put, REPO, removeProjects, tempProject } from "../helpers/project.js";

/**
 * The bad-input corpus: each folder of test/fixtures/bad-input/ is a case
 * (see the README there). Its files are laid over a project with the
 * sample config and templates, `presswork check` runs on it, and the lines
 * it prints must be exactly those in the case's expected.txt.
 */
const CORPUS = join(REPO, "test/fixtures/bad-input");
const CASE_FILES = new Set(["expected.txt", "case.json", "README.md"]);

interface CaseOptions {
  /** Start from the sample project (articles, newsletter record and notes) rather than an empty one. */
  samples?: boolean;
  /** Symbolic links to make, path to target, both relative to the project. */
  links?: Record<string, string>;
  /** The clock of the check; 2026-11-29T12:00:00Z by default. */
  now?: string;
  /** Files or folders of the project to remove, relative to it (templates/site). */
  remove?: string[];
}

afterAll(removeProjects);

const cases = (await readdir(CORPUS, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();

/** What `presswork check` prints for a case, line by line. */
async function check(name: string): Promise<string[]> {
  const dir = join(CORPUS, name);
  const options: CaseOptions = existsSync(join(dir, "case.json")) ? JSON.parse(await readFile(join(dir, "case.json"), "utf8")) : {};
  const root = await tempProject({ samples: options.samples ?? false });
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || (entry.parentPath === dir && CASE_FILES.has(entry.name))) continue;
    const path = join(entry.parentPath, entry.name).slice(dir.length + 1);
    await rm(join(root, path), { force: true });
    await cp(join(dir, path), join(root, path));
  }
  for (const path of options.remove ?? []) await rm(join(root, path), { recursive: true });
  for (const [path, target] of Object.entries(options.links ?? {})) {
    await put(join(root, path), "");
    await rm(join(root, path));
    await symlink(target, join(root, path));
  }
  const result = await assemble({ root, now: options.now ? new Date(options.now) : NOW, cacheDir: false, includeUnpublished: true });
  const lines: string[] = [];
  report(result.files, (line) => lines.push(line), false);
  return lines;
}

describe("the bad-input corpus", () => {
  it("has cases, each with the lines it expects", async () => {
    expect(cases.length).toBeGreaterThan(40);
    for (const name of cases) expect(existsSync(join(CORPUS, name, "expected.txt")), name).toBe(true);
  });

  it.each(cases)("%s", async (name) => {
    const expected = (await readFile(join(CORPUS, name, "expected.txt"), "utf8")).split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#"));
    expect(await check(name)).toEqual(expected);
  });

  it("words every message for an editor: no schema jargon, no doubled phrase, no long value repeated whole", async () => {
    const lines = (await Promise.all(cases.map((name) => readFile(join(CORPUS, name, "expected.txt"), "utf8")))).flatMap((text) => text.split("\n")).filter((line) => /^\S+:\d+:\d+ {2}(error|warning) {2}/.test(line));
    expect(lines.length).toBeGreaterThan(50);
    for (const line of lines) {
      const reason = line.split("  ")[2] ?? "";
      expect(reason, line).not.toMatch(/Invalid input|expected \w+, received|Too (big|small)|Invalid (string|option)|Unrecognized key/);
      expect(reason, line).not.toMatch(/\b(\w+(?: \w+)?:) \1/);
      expect(reason, line).not.toMatch(/\ba (author|email|image|id|article|object|array|integer|issue)\b/);
      for (const [quoted] of reason.matchAll(/"[^"]*"/g)) expect(quoted.length, line).toBeLessThanOrEqual(64);
      expect(reason.trim(), line).toBe(reason);
    }
  });
});
