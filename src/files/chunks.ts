import { closeSync, openSync, readSync } from "node:fs";

/**
 * A file a megabyte at a time, so reading a large one holds one buffer, not
 * the file. Each chunk is only valid until the next is asked for. With
 * `missingOk`, a file that does not exist yields nothing.
 */
export function* fileChunks(path: string, missingOk = false): Generator<Buffer> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if (missingOk && (error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  try {
    const buffer = Buffer.alloc(1 << 20);
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer)) yield buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}
