import { isMainThread } from "node:worker_threads";
import { stripVTControlCharacters } from "node:util";
import { defineCommand, renderUsage, runCommand, type CommandDef } from "citty";
import { runBounded, SEND_HEAP_MB } from "./bounded.js";
import { io } from "./io.js";
import { printFailure } from "./failure.js";
import { rejectUnknownFlags } from "./usage.js";
import { PressworkError } from "../errors/error.js";
import { ABOUT } from "./commands/about.js";

// Each command is loaded when it runs: `build` need not load the SMTP client, nor `send` the preview server.
const subCommands: Record<keyof typeof ABOUT, () => Promise<CommandDef<any>>> = {
  build: async () => (await import("./commands/build.js")).buildCommand,
  check: async () => (await import("./commands/check.js")).checkCommand,
  new: async () => (await import("./commands/new.js")).newCommand,
  issue: async () => (await import("./commands/issue.js")).issueCommand,
  send: async () => (await import("./commands/send.js")).sendCommand,
  state: async () => (await import("./commands/state.js")).stateCommand,
  preview: async () => (await import("./commands/preview.js")).previewCommand,
  mailbox: async () => (await import("./commands/mailbox.js")).mailboxCommand,
  serve: async () => (await import("./commands/serve.js")).serveCommand,
  subscribers: async () => (await import("./commands/subscribers.js")).subscribersCommand,
  websub: async () => (await import("./commands/websub.js")).websubCommand,
};

const meta = { name: "presswork", version: "0.1.0", description: "Markdown articles to a web archive, feeds and email issues" };
const main = defineCommand({ meta, subCommands });

/** What `presswork --help` lists, and what refuses an unknown command: each command by its line in ABOUT, so that neither loads any. */
const listing = defineCommand({
  meta,
  subCommands: Object.fromEntries(Object.entries(ABOUT).map(([name, description]) => [name, { meta: { name, description } }])),
});

/** A reader that stops early (`presswork issue | head`) is not an error. */
function endQuietlyOnEpipe(error: NodeJS.ErrnoException): void {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
}

/**
 * Runs the CLI with `argv` (without node and script). Exit codes come from
 * the error catalogue (src/errors/catalogue.ts). A send runs in a worker
 * thread whose heap is capped (see bounded.ts), unless
 * PRESSWORK_SEND_HEAP_MB is 0: then here, under Node's own heap limit.
 */
export async function run(argv: string[]): Promise<void> {
  if (!process.stdout.listeners("error").includes(endQuietlyOnEpipe)) process.stdout.on("error", endQuietlyOnEpipe);
  const name = argv[0];
  const heapMb = process.env["PRESSWORK_SEND_HEAP_MB"];
  if (name === "send" && isMainThread && heapMb !== "0") {
    try {
      await runBounded(argv, Number(heapMb) || SEND_HEAP_MB);
    } catch (error) {
      printFailure(error, name);
    }
    return;
  }
  const sub = name && Object.hasOwn(subCommands, name) ? await subCommands[name as keyof typeof ABOUT]() : undefined;
  try {
    if (argv.includes("--help") || argv.includes("-h") || argv.length === 0) {
      const usage = sub ? await renderUsage(sub, main) : await renderUsage(listing);
      // Colour for a person at a terminal only, and never under NO_COLOR (any value, as no-color.org has it).
      io.out(`${io.colour() ? usage : stripVTControlCharacters(usage)}\n`);
      if (argv.length === 0) io.fail(2);
      return;
    }
    if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
      io.out("0.1.0");
      return;
    }
    if (sub) await rejectUnknownFlags(sub, argv.slice(1));
    // Flags go after the command's name: one before it is none of presswork's own (those were answered above).
    else if (name?.startsWith("-")) throw new PressworkError("usage", `unknown option ${name.split("=")[0]}`);
    // A name that is no command is refused by the listing, which (unlike main) has no command to load looking for aliases.
    await runCommand(sub ? main : listing, { rawArgs: argv });
  } catch (error) {
    printFailure(error, sub ? name : undefined);
  }
}
