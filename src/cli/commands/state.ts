import { defineCommand } from "citty";
import { loadProjectConfig } from "../../config/load.js";
import { holderOf, openStore, readStateView, saveJournals, stateSettings } from "../../state/state.js";
import { type StateStore } from "../../state/store.js";
import { report } from "../report.js";
import { parseShard } from "../usage.js";
import { io } from "../io.js";
import { PressworkError } from "../../errors/error.js";
import { ABOUT } from "./about.js";

const ACTIONS = ["fetch", "save", "show", "runs"] as const;

/**
 * `presswork state fetch|save|show|runs`: the send's state, on its branch or
 * in the database. fetch brings the shared branch (a build then plans from
 * it); save writes what attempts on this machine journalled and the store
 * lacks (a send killed before its last save: GitHub's "always" step runs
 * it); show prints the issues, their sends and the locks; runs prints the
 * GitHub runs, other than this one, whose sends (of the whole list, or of
 * `--shard i/N`) still hold a lock, newest first, one id a line: a send
 * that could not save left what it mailed since its last save only in its
 * run's artifact, which the next run restores before it sends.
 */
export const stateCommand = defineCommand({
  meta: { name: "state", description: ABOUT.state },
  args: {
    action: { type: "positional", description: "fetch, save, show or runs", required: true, valueHint: "fetch|save|show|runs" },
    shard: { type: "string", description: "runs: the locks of this shard of a split send (i/N); without it, those of unsharded sends", valueHint: "i/N" },
  },
  async run({ args }) {
    const action = args.action as (typeof ACTIONS)[number];
    if (!ACTIONS.includes(action)) throw new PressworkError("usage", `presswork state ${args.action}: use one of ${ACTIONS.join(", ")}`);
    const shard = parseShard(args.shard);
    if (shard && action !== "runs") throw new PressworkError("usage", `--shard is for presswork state runs, not ${action}`);
    const root = io.root();
    const { config, file } = await loadProjectConfig(root);
    if (!config) {
      report([file], io.err);
      io.fail(1);
      return;
    }
    let store: StateStore | undefined;
    try {
      const settings = stateSettings(config, process.env);
      if (action === "fetch" && settings.backend === "database") {
        io.out("The state is in the database (state.store: database): there is nothing to fetch; a build reads it from there.");
        return;
      }
      store = await openStore(root, settings, process.env);
      if (!store) {
        if (action !== "show") throw new PressworkError("state-setup", `${root} is not in a git repository, so there is no state branch to ${action}: run it in the project's clone`);
        io.out(`${root} is not in a git repository: no state branch; a build reads newsletter/ as earlier versions did.`);
        return;
      }
      if (action === "fetch") {
        if (!settings.remote) {
          io.out(`No remote is set for the state (state.remote or PRESSWORK_STATE_REMOTE): it is the local branch ${settings.branch}, and there is nothing to fetch.`);
          return;
        }
        await store.refresh();
        const { issues } = await store.summary();
        const last = issues.at(-1);
        io.out(`Fetched ${store.description}: ${issues.length} issue(s)${last ? `, the last #${last.issue.number} (${last.complete ? "complete" : "not complete"})` : ""}.`);
        return;
      }
      if (action === "runs") {
        await store.refresh();
        const mine = process.env["GITHUB_RUN_ID"];
        // One send of a shard (or of the whole list) at a time: another run's lock on it is one its send left behind.
        const sameShard = (lock: { shard?: { index: number; count: number } }) => (lock.shard ? lock.shard.index === shard?.index && lock.shard.count === shard.count : !shard);
        const locks = [...(await store.summary()).locks].filter(sameShard).sort((a, b) => (a.since < b.since ? 1 : a.since > b.since ? -1 : 0));
        for (const id of new Set(locks.map((lock) => lock.attempt.github?.runId))) if (id !== undefined && id !== mine) io.out(id);
        return;
      }
      if (action === "save") {
        await store.refresh();
        const { saved, released } = await saveJournals(store, root);
        io.out(saved || released ? `Saved ${saved} journal(s) of earlier attempts to ${store.description}${released ? `, released ${released} lock(s) they held` : ""}.` : `Nothing to save: ${store.description} has everything this machine journalled.`);
        return;
      }
      const view = await readStateView(root, { config, env: process.env });
      io.out(`State: ${view.description}${view.summary.migration ? `; carried over from newsletter/ on ${view.summary.migration.at.slice(0, 10)}` : view.legacy ? "; newsletter/sent.json and newsletter/ledger/ are read until a send carries them over" : ""}.`);
      for (const { issue, complete, shardsDone } of view.summary.issues) {
        const shards = shardsDone.size ? `, shards done: ${[...shardsDone.keys()].join(", ")}` : "";
        io.out(`  #${issue.number}  ${issue.date.slice(0, 10)}  ${complete ? `complete: ${complete.counts.sent} sent, ${complete.counts.failed} failed` : "started, not complete"}${shards}  ${issue.subject}`);
      }
      for (const lock of view.summary.locks) io.out(`  lock on issue #${lock.issue}: ${holderOf(lock)}`);
      report(view.files, io.err);
    } finally {
      await store?.close();
    }
  },
});
