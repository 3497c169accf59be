import type { TestProject } from "vitest/node";
import { startPostgres } from "../helpers/postgres.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The shared cluster's port, or why it could not start. */
    postgres: { port: number } | { reason: string };
  }
}

/** One PostgreSQL cluster for the whole run (initdb and a server start once, not per test file); stopped and removed after it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = await startPostgres();
  if ("reason" in started) {
    project.provide("postgres", { reason: started.reason });
    return async () => {};
  }
  project.provide("postgres", { port: started.port });
  return () => started.stop();
}
