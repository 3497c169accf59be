import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
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

  it.each(["--bin", "--against"])("refuses %s naming a file that is not there, before it generates or builds anything", (option) => {
    const result = spawnSync(process.execPath, [join(REPO, "bench/run.js"), "--real", "4", option, "/nowhere/bin/presswork.js"], { encoding: "utf8", timeout: 30_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`--${option.slice(2)} names /nowhere/bin/presswork.js, which does not exist`);
    expect(existsSync(join(REPO, "bench/.work/project-real-4"))).toBe(false);
  });

  it("times --against (a path from where it was started) beside this checkout, round by round, each on its own copy of the project", { timeout: 60_000 }, async () => {
    const projects = ["project-real-3", "project-real-3-against"].map((name) => join(REPO, "bench/.work", name));
    try {
      const result = spawnSync(process.execPath, [join(REPO, "bench/run.js"), "--real", "3", "--repeat", "3", "--builds-only", "--against", "bin/presswork.js"], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/^3 real articles, 3 alternated rounds: cold [\d.]+ s .* against [\d.]+ s/m);
      expect(result.stdout).toMatch(/^ {2}one article changed: .* against .*; difference per round [+-]\d\.\d{3} s \(/m);
      expect(result.stdout).toMatch(/^ {2}nothing changed: .* against .*; difference per round [+-]\d\.\d{3} s \(/m);
      // Each copy was built, and each holds the article the rounds changed, as the last round left it.
      for (const project of projects) expect(await readFile(join(project, "articles/story-1.md"), "utf8")).toContain("## What comes next, updated\n");
      for (const project of projects) expect(existsSync(join(project, "dist/articles/story-1/index.html"))).toBe(true);
    } finally {
      for (const project of projects) await rm(project, { recursive: true, force: true });
    }
  });
});
