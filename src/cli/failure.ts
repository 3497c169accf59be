import { isPressworkError } from "../errors/error.js";
import { ERRORS } from "../errors/catalogue.js";
import { io } from "./io.js";
import { report } from "./report.js";
import { isUsageError } from "./usage.js";

/** Node's own error for a refused system call (EACCES, ENOSPC, ENOENT…): the environment, not a bug. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === "string" && /^E[A-Z]+$/.test(String((error as NodeJS.ErrnoException).code));
}

/**
 * Prints an error the one way every command prints them, and sets the exit
 * code from the catalogue: content problems as `check` prints them (file,
 * line, rule), anything else as `presswork <command>: message [id]` and its
 * hint. A refused system call is `system`; any other error outside the
 * catalogue is a bug, and says so.
 */
export function printFailure(error: unknown, command: string | undefined): void {
  const prefix = command ? `presswork ${command}` : "presswork";
  if (isUsageError(error)) {
    io.err(`${prefix}: ${(error as Error).message.replace(/\x1b\[[0-9;]*m/g, "")} [usage]`);
    io.err(`Run presswork ${command ? `${command} ` : ""}--help for usage.`);
    io.fail(ERRORS.usage.exit);
    return;
  }
  if (isPressworkError(error)) {
    if (error.files.length > 0) report(error.files, io.err);
    else io.err(`${prefix}: ${error.message} [${error.id}]`);
    if (error.hint) io.err(`  ${error.hint}`);
    io.fail(error.exitCode);
  } else if (isSystemError(error)) {
    io.err(`${prefix}: ${error.message} [system]`);
    io.fail(ERRORS.system.exit);
  } else {
    io.err(`${prefix}: ${error instanceof Error ? error.message : String(error)} [internal]`);
    io.err(`  ${ERRORS.internal.hint}`);
    io.fail(ERRORS.internal.exit);
  }
  if (process.env["PRESSWORK_DEBUG"] && error instanceof Error) io.err(String(error.stack));
}
