import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { REPO } from "../helpers/project.js";

describe("npm run bench", () => {
  it.each([
    ["--short", "0"],
    ["--real", "5k"],
  ])("refuses %s %s, naming the option and the value, before it generates or builds anything", (option, value) => {
    const result = spawnSync(process.execPath, [join(REPO, "bench/run.js"), option, value], { encoding: "utf8", timeout: 30_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${option} takes a number of articles of at least 1, not "${value}"`);
    expect(existsSync(join(REPO, "bench/.work", `project-${option.slice(2)}-${value}`))).toBe(false);
  });

  it.each([
    ["--bin", "/nowhere/bin/presswork.js"],
    ["--against", "/nowhere/bin/presswork.js"],
    ["--against", "bench"],
  ])("refuses %s %s, not a file, before it generates or builds anything", (option, path) => {
    const result = spawnSync(process.execPath, [join(REPO, "bench/run.js"), "--real", "4", option, path], { cwd: REPO, encoding: "utf8", timeout: 30_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${option} names ${resolve(REPO, path)}, which is not a file`);
    expect(existsSync(join(REPO, "bench/.work/project-real-4"))).toBe(false);
  });

  it("times --against (a path from where it was started) beside --bin, round by round, each on its own copy of the project", { timeout: 60_000 }, async () => {
    const projects = ["project-real-3", "project-real-3-against"].map((name) => join(REPO, "bench/.work", name));
    // Another version: this checkout's, through a script that notes where each of its builds ran.
    const other = await mkdtemp(join(tmpdir(), "presswork-bench-test-"));
    await writeFile(join(other, "against.mjs"), `import { appendFileSync } from "node:fs";\nappendFileSync(${JSON.stringify(join(other, "ran.txt"))}, process.cwd() + "\\n");\nawait import(${JSON.stringify(pathToFileURL(join(REPO, "bin/presswork.js")).href)});\n`);
    try {
      const result = spawnSync(process.execPath, [join(REPO, "bench/run.js"), "--real", "3", "--repeat", "3", "--builds-only", "--against", "against.mjs"], { cwd: other, encoding: "utf8", timeout: 60_000 });
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`3 real articles, 3 alternated rounds of --bin ${join(REPO, "bin/presswork.js")} and --against ${join(other, "against.mjs")}:`);
      const figures = String.raw`bin [\d.]+ s \([\d.]+–[\d.]+\), CPU [\d.]+ s, \d+ MB; against [\d.]+ s \([\d.]+–[\d.]+\), CPU [\d.]+ s, \d+ MB; bin minus against, per round: [+-]?\d\.\d{3} s \([+-]?\d\.\d{3} to [+-]?\d\.\d{3}\)`;
      expect(result.stdout).toMatch(new RegExp(`^ {2}one article changed: ${figures}$`, "m"));
      expect(result.stdout).toMatch(new RegExp(`^ {2}nothing changed: ${figures}$`, "m"));
      // The other version built its copy alone: cold, once to settle, then twice a round.
      expect((await readFile(join(other, "ran.txt"), "utf8")).split("\n").filter(Boolean)).toEqual(Array(2 + 2 * 3).fill(projects[1]));
      // Each copy was built, and each holds the article the rounds changed, as the last round left it.
      for (const project of projects) expect(await readFile(join(project, "articles/story-1.md"), "utf8")).toContain("## What comes next, updated\n");
      for (const project of projects) expect(existsSync(join(project, "dist/articles/story-1/index.html"))).toBe(true);
    } finally {
      for (const dir of [...projects, other]) await rm(dir, { recursive: true, force: true });
    }
  });
});
