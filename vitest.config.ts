import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { defineConfig } from "vitest/config";

/**
 * The files that take 9 s or more (on 2 cores, four files at a time), longest first: the longest start
 * first and the short ones fill the gaps at the end. Without durations from an earlier run, as on a clean
 * checkout, vitest starts the largest files first, which left two 10-second files running at the end while
 * the other workers had nothing left. Most of the longest files' time is spent waiting (a relay's backoff, a
 * killed send, a browser), which overlaps the other files' work.
 */
const LONGEST = [
  "test/delivery/relay.test.ts",
  "test/workflows/rehearsal.test.ts",
  "test/delivery/send.test.ts",
  "test/delivery/crash.test.ts",
  "test/service/process.test.ts",
  "test/delivery/throttle.test.ts",
  "test/mailbox/imap.test.ts",
  "test/service/service.test.ts",
  "test/delivery/stop.test.ts",
  "test/pipeline/incremental.test.ts",
  "test/state/git-store.test.ts",
  "test/site/accessibility.test.ts",
  "test/audience/remote-sources.test.ts",
  "test/issues/images.test.ts",
  "test/e2e/subscribe-to-unsubscribe.test.ts",
  "test/issues/layout.test.ts",
  "test/site/newsletter.test.ts",
  "test/cli/cli.test.ts",
  "test/preview/preview.test.ts",
  "test/pipeline/render-worker.test.ts",
  "test/delivery/rcpt-replies.test.ts",
  "test/feeds/validity.test.ts",
  "test/state/store.test.ts",
  "test/store/store.test.ts",
  "test/cli/bad-input.test.ts",
  "test/site/redirects.test.ts",
  "test/site/browser.test.ts",
  "test/websub/websub.test.ts",
  "test/cache/dependencies.test.ts",
];

// A file renamed or removed would quietly lose its place at the front.
for (const path of LONGEST) if (!existsSync(new URL(path, import.meta.url))) throw new Error(`vitest.config.ts: ${path} in LONGEST does not exist`);

/** vitest's order, with the files in LONGEST first. */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const index = LONGEST.findIndex((path) => spec.moduleId.endsWith(`/${path}`));
      return index < 0 ? LONGEST.length : index;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // One compile of lib/, one PostgreSQL cluster and one build of the samples for the whole run, not one per file.
    globalSetup: ["test/setup/compile.ts", "test/setup/postgres.ts", "test/setup/samples-cache.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // A worker keeps the modules it loaded from one test file to the next, instead of loading the project and its
    // dependencies (MJML, unified, fastify, playwright) again for each of the 84 files: 15% of the suite's CPU.
    isolate: false,
    // Two files a core (vitest's default leaves a core free, so one on a 2-core machine): the suite's tests wait on
    // processes, servers, browsers and timers much of the time. On 2 cores, 228 s with 4 files at a time, 280 s with 2.
    // At most 8, for the memory (300-500 MB a worker) and the one PostgreSQL cluster they share.
    maxWorkers: Math.min(8, 2 * availableParallelism()),
    sequence: { sequencer: LongestFirst },
  },
});
