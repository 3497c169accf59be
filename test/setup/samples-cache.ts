import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { NOW, REPO, removeProjects, tempProject } from "../helpers/project.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The cache folder a build of the sample project at NOW left (see tempProject's `built`). */
    samplesCache: string;
  }
}

/**
 * Builds the sample project once for the whole run, with the CLI as a user
 * runs it, and keeps the cache it leaves: a test project made with `built`
 * starts from a copy of it. Runs after lib/ is compiled.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = await tempProject({ samples: true });
  const out = await mkdtemp(join(tmpdir(), "presswork-samples-dist-"));
  execFileSync(process.execPath, [join(REPO, "bin/presswork.js"), "build", "--now", NOW.toISOString(), "--out", out], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  project.provide("samplesCache", join(root, ".presswork-cache"));
  return async () => {
    await removeProjects();
    await rm(out, { recursive: true, force: true });
  };
}
