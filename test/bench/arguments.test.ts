import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
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
});
