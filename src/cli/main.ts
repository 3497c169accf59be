import { defineCommand, runCommand, showUsage, type CommandDef } from "citty";
import { buildCommand } from "./commands/build.js";
import { checkCommand } from "./commands/check.js";
import { issueCommand } from "./commands/issue.js";
import { newCommand } from "./commands/new.js";
import { previewCommand } from "./commands/preview.js";
import { sendCommand } from "./commands/send.js";
import { io } from "./io.js";
import { isUsageError, rejectUnknownFlags } from "./usage.js";

const subCommands: Record<string, CommandDef<any>> = { build: buildCommand, check: checkCommand, new: newCommand, issue: issueCommand, send: sendCommand, preview: previewCommand };

const main = defineCommand({
  meta: { name: "presswork", version: "0.1.0", description: "Markdown articles to a web archive, feeds and email issues" },
  subCommands,
});

/** Runs the CLI with `argv` (without node and script). Usage mistakes exit 2, content problems 1. */
export async function run(argv: string[]): Promise<void> {
  // A reader that stops early (`presswork issue | head`) is not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  const name = argv[0];
  const sub = name ? subCommands[name] : undefined;
  const target = sub ?? main;
  try {
    if (argv.includes("--help") || argv.includes("-h") || argv.length === 0) {
      await showUsage(target, sub ? main : undefined);
      if (argv.length === 0) io.fail(2);
      return;
    }
    if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
      io.out("0.1.0");
      return;
    }
    if (sub) await rejectUnknownFlags(sub, argv.slice(1));
    await runCommand(main, { rawArgs: argv });
  } catch (error) {
    if (isUsageError(error)) {
      io.err(`presswork: ${(error as Error).message.replace(/\x1b\[[0-9;]*m/g, "")}`);
      io.err(`Run presswork ${sub ? `${name} ` : ""}--help for usage.`);
      io.fail(2);
      return;
    }
    io.err(`presswork: ${(error as Error).message}`);
    if (process.env["PRESSWORK_DEBUG"]) io.err(String((error as Error).stack));
    io.fail(1);
  }
}
