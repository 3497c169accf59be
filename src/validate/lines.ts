import type { VFile } from "vfile";

type VFileMessage = VFile["messages"][number];

/** One message of a run, as a line `path:line:column  severity  reason  rule`. */
export interface ProblemLine {
  text: string;
  path: string;
  message: VFileMessage;
}

/** Every message of every file as a line, sorted by file, line and column: what `check` prints, and the preview too. */
export function problemLines(files: readonly VFile[]): ProblemLine[] {
  return files
    .flatMap((file) => file.messages.map((message) => ({ path: file.path ?? "?", message })))
    .sort((a, b) => a.path.localeCompare(b.path) || (a.message.line ?? 0) - (b.message.line ?? 0) || (a.message.column ?? 0) - (b.message.column ?? 0))
    .map(({ path, message }) => ({
      path,
      message,
      text: `${path}:${message.line ?? 1}:${message.column ?? 1}  ${message.fatal ? "error" : "warning"}  ${message.reason}  ${message.ruleId ?? ""}`.trimEnd(),
    }));
}
