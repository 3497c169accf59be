import { readFileSync } from "node:fs";

/**
 * Whether a process of this machine still runs. A process that was killed
 * but not yet reaped (a zombie, which a container's first process may
 * never reap) does not run: on Linux its state in /proc says so.
 */
export function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // The state follows the command name, which is in parentheses and may hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}
