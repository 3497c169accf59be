import type { ArgsDef, CommandDef } from "citty";
import { parseDate } from "../content/dates.js";
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

/** Parses an ISO 8601 `--now` value: a date alone is midnight UTC, a time without an offset is this machine's. */
export function parseNow(value: string | undefined): Date {
  if (value === undefined || value === "") return new Date();
  const date = new Date(value);
  // Date rolls a day that does not exist (2026-02-30) into the next month and takes any offset: parseDate refuses both.
  if (Number.isNaN(date.getTime()) || !parseDate(value, "UTC")) {
    throw new PressworkError("usage", `--now is "${value}", not an ISO 8601 date-time. Write it like 2026-11-29T09:00:00Z`);
  }
  return date;
}

/** Parses a `--shard` value, `i/N` with 1 <= i <= N; undefined when none is given. */
export function parseShard(value: string | undefined): { index: number; count: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) throw new PressworkError("usage", `--shard is "${value}": write it as i/N with 1 <= i <= N, e.g. 2/4`);
  return { index, count };
}

/** Whether an error is one the command line caused (bad flag, missing argument). */
export function isUsageError(error: unknown): boolean {
  return isPressworkError(error, "usage") || (error instanceof Error && error.name === "CLIError");
}
