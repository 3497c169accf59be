/** The command line's contact with the process: the only place that reads cwd or sets the exit code. */
export const io = {
  root: (): string => process.env["PRESSWORK_ROOT"] || process.cwd(),
  out: (line: string): void => void process.stdout.write(`${line}\n`),
  err: (line: string): void => void process.stderr.write(`${line}\n`),
  fail: (code: number): void => {
    process.exitCode = code;
  },
};
