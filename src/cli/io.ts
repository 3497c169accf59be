import { isMainThread, workerData } from "node:worker_threads";

/** The command line's contact with the process: the only place that reads cwd or sets the exit code. */
export const io = {
  /** Whether stderr is a terminal; a command run in a worker thread (see bounded.ts) is told by the main thread. */
  terminal: (): boolean => (isMainThread ? Boolean(process.stderr.isTTY) : Boolean((workerData as { terminal?: boolean } | undefined)?.terminal)),
  /** Whether stdout may carry colour codes: a terminal, and NO_COLOR unset or empty. */
  colour: (): boolean => Boolean(process.stdout.isTTY) && !process.env["NO_COLOR"],
  root: (): string => process.env["PRESSWORK_ROOT"] || process.cwd(),
  out: (line: string): void => void process.stdout.write(`${line}\n`),
  err: (line: string): void => void process.stderr.write(`${line}\n`),
  fail: (code: number): void => {
    process.exitCode = code;
  },
};
