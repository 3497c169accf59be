import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { defineCommand } from "citty";
import { maskAddress, parseAddress, type Address } from "../../audience/address.js";
import { nameProblem } from "../../audience/audience.js";
import { IMPORT_FORMATS, type ImportFormat } from "../../audience/export-format.js";
import { checkListFile } from "../../audience/list-file.js";
import { loadProjectConfig } from "../../config/load.js";
import { openStore } from "../../store/database.js";
import type { SubscriberStatus } from "../../store/schema.js";
import { SubscriberList, type History } from "../../store/subscribers.js";
import { exportLines, importFile } from "../../store/transfer.js";
import { report } from "../report.js";
import { io } from "../io.js";
import { isPressworkError, PressworkError } from "../../errors/error.js";
import { ABOUT } from "./about.js";

const ACTIONS = ["import", "export", "add", "remove", "forget", "count", "show"] as const;
type Action = (typeof ACTIONS)[number];
const STATUSES: readonly SubscriberStatus[] = ["pending", "active", "unsubscribed", "bounced", "complained"];

/** `presswork subscribers`: the list in the database (DATABASE_URL), from the command line. */
export const subscribersCommand = defineCommand({
  meta: { name: "subscribers", description: ABOUT.subscribers },
  args: {
    action: { type: "positional", description: `One of ${ACTIONS.join(", ")}`, required: false },
    target: { type: "positional", description: "The file to import, or the address", required: false },
    format: { type: "string", description: `import: ${IMPORT_FORMATS.join(", ")} (default: told by the file's columns); export: csv or jsonl (default csv)`, valueHint: "F" },
    status: { type: "string", description: `export: ${STATUSES.join(", ")} or all (default active)`, valueHint: "S" },
    name: { type: "string", description: "add: the subscriber's name", valueHint: "NAME" },
    json: { type: "boolean", description: "count, show: print JSON", default: false },
  },
  async run({ args }) {
    const action = args.action as Action | undefined;
    if (!action || !ACTIONS.includes(action)) throw new PressworkError("usage", `say what to do: presswork subscribers ${ACTIONS.join(" | ")}`);
    const needsTarget = ["import", "add", "remove", "forget", "show"].includes(action);
    if (needsTarget && !args.target) throw new PressworkError("usage", `presswork subscribers ${action} needs ${action === "import" ? "a file" : "an email address"}`);
    if (!needsTarget && args.target) throw new PressworkError("usage", `presswork subscribers ${action} takes no ${args.target.includes("@") ? "address" : "argument"}`);
    const format = args.format;
    if (action === "import" && format !== undefined && !IMPORT_FORMATS.includes(format as ImportFormat)) throw new PressworkError("usage", `--format is "${format}": import reads ${IMPORT_FORMATS.join(", ")}`);
    if (action === "export" && format !== undefined && format !== "csv" && format !== "jsonl") throw new PressworkError("usage", `--format is "${format}": export writes csv or jsonl`);
    const status = args.status ?? "active";
    if (status !== "all" && !STATUSES.includes(status as SubscriberStatus)) throw new PressworkError("usage", `--status is "${status}": one of ${STATUSES.join(", ")} or all`);
    let address: Address | undefined;
    if (needsTarget && action !== "import") {
      const parsed = parseAddress(args.target ?? "");
      if ("reason" in parsed) throw new PressworkError("usage", `"${args.target}" is not an email address: ${parsed.reason}`);
      address = parsed;
    }
    const nameRefused = action === "add" && args.name !== undefined ? nameProblem(args.name) : undefined;
    if (nameRefused) throw new PressworkError("usage", `--name: ${nameRefused}; give the name on one line`);

    const root = io.root();
    const { config, file } = await loadProjectConfig(root);
    if (!config) {
      report([file], io.err);
      io.fail(1);
      return;
    }
    if (!config.newsletter) throw new PressworkError("setup", "no newsletter is configured: add a newsletter section to presswork.config.yaml");
    const secret = process.env["PRESSWORK_SECRET"];
    if (!secret) throw new PressworkError("setup", "PRESSWORK_SECRET is not set: the list keys addresses with it, as the send and the service do; set the same value");
    let store;
    try {
      store = await openStore({ url: process.env["DATABASE_URL"], root });
    } catch (error) {
      throw isPressworkError(error) ? error : new PressworkError("database-unavailable", `cannot open the database: ${(error as Error).message}`, { cause: error });
    }
    const list = new SubscriberList(store, config.newsletter.listId, secret);
    const now = new Date();
    try {
      switch (action) {
        case "import": {
          const target = args.target as string;
          const path = isAbsolute(target) ? target : join(root, target);
          if (!existsSync(path)) throw new PressworkError("subscriber-list", `${target} does not exist`);
          checkListFile(path, target);
          const counts = await importFile(list, path, format as ImportFormat | undefined, now, (line, reason, severity) => io.err(`${target}:${line}  ${severity}  ${reason}`));
          io.out(`Imported ${target}: ${counts.added} added, ${counts.stopped} stopped (unsubscribed or bounced there), ${counts.unchanged} already known, ${counts.suppressed} erased here before and left out, ${counts.skipped} skipped, ${counts.invalid} invalid.`);
          if (counts.invalid > 0) io.fail(1);
          return;
        }
        case "export": {
          const statuses = status === "all" ? STATUSES : [status as SubscriberStatus];
          for await (const line of exportLines(list, statuses, format === "jsonl" ? "jsonl" : "csv")) {
            if (!process.stdout.write(line)) await new Promise((resolve) => process.stdout.once("drain", resolve));
          }
          return;
        }
        case "add": {
          const outcome = await list.add(address as Address, args.name, now);
          io.out(`${maskAddress((address as Address).address)}: ${{ added: "added, active", activated: "was waiting for confirmation, now active", exists: "already active" }[outcome]}.`);
          return;
        }
        case "remove": {
          const outcome = await list.unsubscribe(list.keyOf((address as Address).identity), "cli", now);
          io.out(`${maskAddress((address as Address).address)}: ${{ unsubscribed: "unsubscribed", already: "was not receiving mail already", unknown: "not on the list; put on the suppression list all the same" }[outcome]}.`);
          return;
        }
        case "forget": {
          const known = await list.forget((address as Address).identity, now);
          io.out(`${maskAddress((address as Address).address)}: ${known ? "erased with its consent records and history" : "was not on the list"}; its keyed hash stays on the suppression list, so nothing mails it again.`);
          return;
        }
        case "count": {
          const counts = await list.counts();
          if (args.json) io.out(JSON.stringify(counts));
          else for (const [name, n] of Object.entries(counts)) io.out(`${String(n).padStart(9)}  ${name}`);
          return;
        }
        case "show": {
          const history = await list.history((address as Address).identity);
          if (args.json) io.out(JSON.stringify(history, null, 2));
          else for (const line of describe(maskAddress((address as Address).address), history)) io.out(line);
          return;
        }
      }
    } finally {
      await store.close();
    }
  },
});

/**
 * The event that stopped mail to an address: the one whose time is the
 * status's (a soft bounce only when it was the last straw), else the last
 * unsubscribe, complaint or hard bounce before it.
 */
function stoppedBy(history: History, status: string | undefined, since: string | undefined): History["events"][number] | undefined {
  const events = [...history.events].reverse();
  return (
    events.find((e) => e.type === status && e.at === since) ??
    events.find((e) => (e.type === "unsubscribed" || e.type === "complained" || (e.type === "bounced" && e.bounce !== "soft")) && (!since || e.at <= since))
  );
}

/** An address's story in a few lines: where it stands, why, and what happened. */
function describe(who: string, history: History): string[] {
  const lines: string[] = [];
  const s = history.subscriber;
  if (s) lines.push(`${who}: ${s.status} since ${s.statusAt}${s.name ? ` (${s.name})` : ""}; on the list since ${s.createdAt}.`);
  else if (history.suppression) lines.push(`${who}: not on the list; suppressed (${history.suppression.reason}) since ${history.suppression.at}.`);
  else lines.push(`${who}: not on the list.`);
  const status = s ? s.status : history.suppression?.reason;
  const stop = stoppedBy(history, status, s?.statusAt ?? history.suppression?.at);
  if (status && status !== "active" && status !== "pending" && stop) {
    lines.push(`Stopped getting mail on ${stop.at}: ${stop.type}${stop.bounce ? ` (${stop.bounce})` : ""}, reported by ${stop.source}${stop.issue ? ` for issue #${stop.issue}` : ""}${stop.detail ? `: ${stop.detail}` : ""}.`);
  }
  for (const c of history.consents) lines.push(`Consent: subscribed ${c.subscribedAt} through ${c.source}${c.wording ? ` (wording ${c.wording})` : ""}, ${c.confirmedAt ? `confirmed ${c.confirmedAt}` : "not confirmed"}.`);
  if (history.events.length > 0) lines.push("Events:");
  for (const e of history.events) lines.push(`  ${e.at}  ${e.type}${e.bounce ? ` (${e.bounce})` : ""}  ${e.source}${e.issue ? `  issue #${e.issue}` : ""}${e.detail ? `  ${e.detail}` : ""}`);
  return lines;
}
