import type { ArgsDef, CommandDef } from "citty";
import { isPressworkError, PressworkError } from "../errors/error.js";


/** Rejects `--flags` that the command does not define, naming the closest one. */
export async function rejectUnknownFlags(cmd: CommandDef<any>, rawArgs: readonly string[]): Promise<void> {
  const defs: ArgsDef = (typeof cmd.args === "function" ? await cmd.args() : await cmd.args) ?? {};
  const known = new Set(["help", "h"]);
  for (const [name, def] of Object.entries(defs)) {
    known.add(name);
    const aliases = "alias" in def ? [def.alias ?? []].flat() : [];
    for (const alias of aliases) known.add(alias);
    if (def.type === "boolean") known.add(`no-${name}`);
  }
  for (const arg of rawArgs) {
    if (arg === "--") break;
    const match = /^--?([^=]+)/.exec(arg);
    if (!match || /^-\d/.test(arg)) continue;
    const name = match[1] ?? "";
    if (!known.has(name)) throw new PressworkError("usage", `unknown option ${arg.split("=")[0]}`);
  }
}

/** Parses an ISO 8601 `--now` value. */
export function parseNow(value: string | undefined): Date {
  if (value === undefined || value === "") return new Date();
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new PressworkError("usage", `--now is "${value}", not an ISO 8601 date-time. Write it like 2026-11-29T09:00:00Z`);
  }
  return date;
}

/** Whether an error is one the command line caused (bad flag, missing argument). */
export function isUsageError(error: unknown): boolean {
  return isPressworkError(error, "usage") || (error instanceof Error && error.name === "CLIError");
}
