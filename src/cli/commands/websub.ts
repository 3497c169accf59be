import { resolve } from "node:path";
import { defineCommand } from "citty";
import { loadProjectConfig } from "../../config/load.js";
import { builtFeeds, changedFeeds, NotifiedRecord, readNotified } from "../../websub/changes.js";
import { pingHub, PING_DEFAULTS } from "../../websub/ping.js";
import { report } from "../report.js";
import { io } from "../io.js";
import { PressworkError } from "../../errors/error.js";
import { ABOUT } from "./about.js";

/** How long a run pings at most by default: below the 10 minutes of the publish workflow's websub job, with its setup. */
const MAX_MINUTES = 6;

/** `presswork websub`: tells the WebSub hub about every feed of the built site that changed since it was last told. */
export const websubCommand = defineCommand({
  meta: { name: "websub", description: ABOUT.websub },
  args: {
    out: { type: "string", description: "The built site, as deployed", default: "dist", valueHint: "DIR" },
    state: { type: "string", description: "What the hub was last told (read, then rewritten as each ping is taken); without it every feed is pinged", valueHint: "FILE" },
    retries: { type: "string", description: "More tries for a hub that fails or does not answer", default: String(PING_DEFAULTS.retries), valueHint: "N" },
    "max-minutes": { type: "string", description: "Stop pinging after this long (below a CI job's own limit) and name the feeds left for the next run", default: String(MAX_MINUTES), valueHint: "N" },
    "dry-run": { type: "boolean", description: "List the feeds that would be pinged; ping nothing", default: false },
  },
  async run({ args }) {
    const root = io.root();
    const retries = Number(args.retries);
    if (!Number.isInteger(retries) || retries < 0 || retries > 10) throw new PressworkError("usage", "--retries must be a whole number from 0 to 10");
    const maxMinutes = Number(args["max-minutes"]);
    if (!Number.isFinite(maxMinutes) || maxMinutes <= 0 || maxMinutes > 1440) throw new PressworkError("usage", "--max-minutes must be a number of minutes above 0 and at most 1440, such as 6 or 0.5");
    const { config, file } = await loadProjectConfig(root);
    if (!config) {
      report([file], io.err);
      io.fail(1);
      return;
    }
    const hub = config.feeds.hub;
    if (!hub) {
      io.out("No WebSub hub: feeds.hub is not set in presswork.config.yaml, so there is nobody to ping.");
      return;
    }
    const out = resolve(root, args.out);
    let feeds;
    try {
      feeds = builtFeeds(out, config.site.url);
    } catch (error) {
      throw new PressworkError("site-unbuilt", `there is no built site in ${args.out}/: run presswork build first, or name the folder with --out`, { cause: error });
    }
    const statePath = args.state ? resolve(root, args.state) : undefined;
    const last = statePath ? readNotified(statePath, args.state) : undefined;
    const changed = changedFeeds(feeds, last);
    const why = !statePath ? "no --state given" : !last ? `nothing recorded in ${args.state} yet` : "";
    io.out(`${changed.length} of ${feeds.length} feed(s) to ping${why ? ` (every feed: ${why})` : " (changed since the last ping)"}.`);
    if (args["dry-run"]) {
      for (const feed of changed) io.out(`  ${feed.url}`);
      return;
    }
    // Each ping the hub takes is recorded as it is taken; a feed it did not take keeps its old digest, so the next run pings it again.
    const record = statePath ? new NotifiedRecord(statePath, feeds, last) : undefined;
    const results = await pingHub(hub, changed.map((f) => f.url), { ...PING_DEFAULTS, retries }, { signal: AbortSignal.timeout(maxMinutes * 60_000), onResult: (r) => { if (r.ok) record?.took(r.url); } });
    record?.write();
    const failed = results.filter((r) => !r.ok && !r.left);
    const left = results.filter((r) => !r.ok && r.left);
    for (const result of failed) if (!result.ok) io.err(`presswork websub: ${hub} did not take the ping for ${result.url}: ${result.reason} (${result.tries} ${result.tries === 1 ? "try" : "tries"})`);
    if (left.length > 0) {
      io.err(`presswork websub: stopped after ${maxMinutes} minute(s) (--max-minutes), with ${left.length} feed(s) the hub has not taken a ping for:`);
      for (const result of left) io.err(`  ${result.url}`);
      io.err(`WebSub: ${results.length - failed.length - left.length} of ${results.length} ping(s) taken, ${failed.length} failed, ${left.length} left when the time ran out; the next run pings those again.`);
      io.fail(1);
      return;
    }
    if (failed.length > 0) {
      io.err(`WebSub: ${failed.length} of ${results.length} ping(s) failed; the next run pings them again.`);
      io.fail(1);
      return;
    }
    io.out(`WebSub: ${hub} told of ${results.length} feed(s).`);
  },
});
