import { copyFile, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** What a build writes: generated files by output path, and files copied from the project. */
export interface OutputPlan {
  files: Map<string, string | Uint8Array>;
  /** Output path to the absolute path of the file to copy there. */
  copies: Map<string, string>;
}

/** An empty plan to fill. */
export function emptyPlan(): OutputPlan {
  return { files: new Map(), copies: new Map() };
}

/**
 * Writes a plan to `outDir` atomically: everything goes to a sibling temporary
 * folder, which then replaces `outDir` in two renames, so a reader or a
 * deployment never sees a half-written site.
 */
export async function writeOutput(outDir: string, plan: OutputPlan): Promise<number> {
  const staging = `${outDir}.tmp-${process.pid}`;
  const previous = `${outDir}.old-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  const targets = [...plan.files.keys(), ...plan.copies.keys()];
  const folders = new Set(targets.map((path) => dirname(join(staging, path))));
  for (const folder of [...folders].sort()) await mkdir(folder, { recursive: true });
  const jobs: Array<() => Promise<void>> = [
    ...[...plan.files].map(([path, data]) => () => writeFile(join(staging, path), data)),
    ...[...plan.copies].map(([path, from]) => () => copyFile(from, join(staging, path))),
  ];
  await inBatches(jobs, 64);
  const hadPrevious = await rename(outDir, previous).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return false;
      throw error;
    },
  );
  await rename(staging, outDir);
  if (hadPrevious) await rm(previous, { recursive: true, force: true });
  return targets.length;
}

async function inBatches(jobs: ReadonlyArray<() => Promise<void>>, size: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]?.();
  };
  await Promise.all(Array.from({ length: Math.min(size, jobs.length) }, worker));
}
