import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // One compile of lib/ and one PostgreSQL cluster for the whole run, not one per file.
    globalSetup: ["test/setup/compile.ts", "test/setup/postgres.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
