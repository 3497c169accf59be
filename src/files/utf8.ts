import { isUtf8 } from "node:buffer";

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
