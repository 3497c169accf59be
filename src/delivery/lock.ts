import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";

/** Another send of the same issue is running. */
export class LockedError extends Error {}

/**
 * Takes an exclusive lock file for one issue's send. A second send refuses
 * while the first runs; a lock left by a process that no longer exists on
 * this host (killed with SIGKILL) is taken over. Returns the release function.
 */
export function acquireLock(path: string): () => void {
  mkdirSync(dirname(path), { recursive: true });
  const mine = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, mine);
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = readHolder(path);
      if (holder && holder.host === hostname() && !alive(holder.pid)) {
        unlinkSync(path);
        continue;
      }
      throw new LockedError(
        `another send of this issue is running${holder ? ` (process ${holder.pid} on ${holder.host}, since ${holder.since})` : ""}: wait for it to finish. If it is gone, delete ${path}`,
      );
    }
  }
  throw new LockedError(`cannot take the lock ${path}`);
}

function readHolder(path: string): { pid: number; host: string; since: string } | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as { pid: number; host: string; since: string };
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
