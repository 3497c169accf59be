import { Ledger } from "../../src/state/ledger.js";
import { openStore, readSuppressed, stateSettings } from "../../src/state/state.js";
import type { StateSummary } from "../../src/state/store.js";

/** The state of a project's local state branch, as a send would read it. */
export async function readState(root: string): Promise<{ summary: StateSummary; ledger: (issue: number) => Promise<Ledger>; suppressed: () => Promise<Set<string>> }> {
  const store = await openStore(root, stateSettings(undefined, {}), process.env);
  if (!store) throw new Error(`${root} is not a git repository`);
  return { summary: await store.summary(), ledger: (issue) => Ledger.read(issue, store.ledger(issue)), suppressed: () => readSuppressed(store) };
}
