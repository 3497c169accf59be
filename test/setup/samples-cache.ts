import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { runCli } from "../helpers/cli.js";
import { NOW, removeProjects, tempProject } from "../helpers/project.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The cache folder a build of the sample project at NOW left (see tempProject's `built`), or why the build failed. */
    samplesCache: { path: string } | { reason: string };
  }
}

/**
 * Builds the sample project once for the whole run, with the CLI as a user
 * runs it, and keeps the cache it leaves: a test project made with `built`
 * starts from a copy of it. Runs after lib/ is compiled. A build that fails
 * fails the tests that need its cache, with its output, and no others.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const out = await mkdtemp(join(tmpdir(), "presswork-samples-dist-"));
  const cleanUp = async () => {
    await removeProjects();
    await rm(out, { recursive: true, force: true });
  };
  try {
    const root = await tempProject({ samples: true });
    const { code, stderr } = runCli(["build", "--now", NOW.toISOString(), "--out", out], root);
    project.provide("samplesCache", code === 0 ? { path: join(root, ".presswork-cache") } : { reason: `the build of the samples that tests start from failed (exit ${code}):\n${stderr}` });
  } catch (error) {
    await cleanUp();
    throw error;
  }
  return cleanUp;
}
