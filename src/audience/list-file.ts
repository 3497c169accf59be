import { isUtf8 } from "node:buffer";
import { statSync } from "node:fs";
import { fileChunks } from "../files/chunks.js";
import { invalidUtf8Lines } from "../files/utf8.js";
import { PressworkError } from "../errors/error.js";

/**
 * Refuses a subscriber list file that cannot be read as one: a folder, a
 * file saved as UTF-16, or a file with bytes that are not UTF-8 (a list
 * saved as Latin-1 or Windows-1252), named by the line of the first. The
 * file is read through before any row of it is used, so nothing is sent to
 * or imported from a list refused here. `shown` is the path as the user
 * gave it.
 */
export function checkListFile(path: string, shown: string): void {
  if (statSync(path).isDirectory()) throw new PressworkError("subscriber-list", `the subscriber list ${shown} is a folder, not a file: give the path of the list's CSV, JSON or JSON Lines file`);
  // Whole lines at a time: a line break never falls inside a UTF-8 character, so each block is checked on its own.
  let line = 1;
  let rest: Buffer[] = [];
  let first = true;
  const check = (block: Buffer) => {
    if (isUtf8(block)) return;
    const at = line - 1 + (invalidUtf8Lines(block, 1)[0] ?? 1);
    throw new PressworkError("subscriber-list", `${shown}:${at}: the subscriber list has bytes that are not UTF-8 (saved as Latin-1 or Windows-1252?): save it as UTF-8 and run again; no row of it was used`);
  };
  for (const chunk of fileChunks(path)) {
    // UTF-16 (Excel's Unicode Text) starts with its byte order mark, and its ASCII letters come with a zero byte each.
    if (first && (chunk[0] === 0xff || chunk[0] === 0xfe || chunk.subarray(0, 4096).includes(0))) {
      throw new PressworkError("subscriber-list", `${shown}: the subscriber list is saved as UTF-16 (Excel's "Unicode Text"), not UTF-8: save it as "CSV UTF-8 (Comma delimited)" and run again; no row of it was used`);
    }
    first = false;
    const end = chunk.lastIndexOf(10) + 1;
    if (end === 0) {
      rest.push(Buffer.from(chunk));
      continue;
    }
    const block = Buffer.concat([...rest, chunk.subarray(0, end)]);
    check(block);
    for (let i = block.indexOf(10); i >= 0; i = block.indexOf(10, i + 1)) line++;
    rest = [Buffer.from(chunk.subarray(end))];
  }
  check(Buffer.concat(rest));
}
