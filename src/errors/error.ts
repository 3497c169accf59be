import type { VFile } from "vfile";
import { ERRORS, type CatalogueEntry, type ErrorId } from "./catalogue.js";

/** Where in an editor's file a content problem is. */
export interface ErrorPlace {
  file: string;
  line: number;
  column: number;
}

/** What an error carries beyond its id and message. */
export interface PressworkErrorOptions {
  /** Replaces the catalogue's hint for this one error. */
  hint?: string;
  /** The files whose messages say what is wrong, with their places: printed as `check` prints them. */
  files?: readonly VFile[];
  cause?: unknown;
}

/**
 * The one error Presswork throws: an id from the catalogue (which gives the
 * exit code and a hint), a message that says what is wrong and how to fix
 * it (never a secret or an address), and for content problems the files
 * with their places.
 */
export class PressworkError extends Error {
  override readonly name = "PressworkError";
  readonly id: ErrorId;
  readonly hint: string | undefined;
  readonly files: readonly VFile[];

  constructor(id: ErrorId, message: string, options: PressworkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.id = id;
    const entry: CatalogueEntry = ERRORS[id];
    this.hint = options.hint ?? entry.hint;
    this.files = options.files ?? [];
  }

  /** The exit code of a command that ends with this error. */
  get exitCode(): number {
    return ERRORS[this.id].exit;
  }

  /** The place of the first fatal problem in the files, for content errors. */
  get place(): ErrorPlace | undefined {
    for (const file of this.files) {
      const m = file.messages.find((message) => message.fatal) ?? file.messages[0];
      if (m) return { file: file.path ?? "?", line: m.line ?? 1, column: m.column ?? 1 };
    }
    return undefined;
  }
}

/** A content error carrying `file`'s problems; its message is the first of them. */
export function contentError(file: VFile, id: ErrorId = "content"): PressworkError {
  return new PressworkError(id, file.messages[0]?.reason ?? "the file has errors", { files: [file] });
}

/** Whether `error` is a PressworkError, and when `ids` are given, one of those. */
export function isPressworkError(error: unknown, ...ids: ErrorId[]): error is PressworkError {
  return error instanceof PressworkError && (ids.length === 0 || ids.includes(error.id));
}

/** A broken assumption inside Presswork: a bug, never the user's input. */
export function internalError(message: string): PressworkError {
  return new PressworkError("internal", message);
}
