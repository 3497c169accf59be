import { isUtf8 } from "node:buffer";
import type { VFile } from "vfile";
import { fileError } from "../errors/rules.js";

/**
 * The lines (from 1) of `bytes` that hold bytes that are not UTF-8, the
 * first `limit` of them: a file saved as Latin-1 or Windows-1252 shows on
 * the lines with accented letters.
 */
export function invalidUtf8Lines(bytes: Uint8Array, limit: number): number[] {
  const bad: number[] = [];
  let line = 1;
  for (let start = 0; start <= bytes.length && bad.length < limit; line++) {
    const end = bytes.indexOf(10, start);
    const stop = end < 0 ? bytes.length : end;
    if (!isUtf8(bytes.subarray(start, stop))) bad.push(line);
    start = stop + 1;
  }
  return bad;
}

/**
 * Reports on `file` the lines of `bytes` that are not UTF-8 (the first five),
 * as errors that say to save the file as UTF-8.
 */
export function reportInvalidUtf8(bytes: Uint8Array, file: VFile): void {
  for (const at of invalidUtf8Lines(bytes, 5)) {
    fileError(file, "encoding", "bytes that are not UTF-8; save the file as UTF-8", { place: { line: at, column: 1 } });
  }
}

/** The text of a file other than an article (the config, a template), as it is; bytes that are not UTF-8 are errors on `file`. */
export function decodeUtf8(bytes: Buffer, file: VFile): string {
  if (!isUtf8(bytes)) reportInvalidUtf8(bytes, file);
  return bytes.toString("utf8");
}
