import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // One compile of lib/ and one PostgreSQL cluster for the whole run, not one per file.
    globalSetup: ["test/setup/compile.ts", "test/setup/postgres.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Two files at a time at least (vitest's default leaves a core free, so one on a 2-core machine): the suite's
    // tests wait on processes, servers and browsers much of the time. 9.5 min instead of 13-14 on 2 cores.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
