// A throwaway PostgreSQL cluster on a free loopback port, for the smoke run
// and the service bench. initdb and postgres refuse to run as root, so as root
// they run as the `postgres` user (runuser).
import { spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { userInfo } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./free-port.js";

/**
 * Starts a cluster whose files are in `dir` (made if missing), with one
 * database named `database`; `fast` turns durability off, for runs that never
 * crash the server. Resolves to the database's URL, the server's pid and a
 * stop function, or to undefined when PostgreSQL is not installed (Debian's
 * postgresql puts it under /usr/lib/postgresql). Throws when it is installed
 * but does not start.
 */
export async function startCluster(dir, { database, fast = false }) {
  const root = "/usr/lib/postgresql";
  const version = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, "bin/initdb"))).sort((a, b) => Number(a) - Number(b)).pop() : undefined;
  if (!version) return undefined;
  const bin = join(root, version, "bin");
  await mkdir(dir, { recursive: true });
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const id = (flag) => Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout.trim());
    chownSync(dir, id("-u"), id("-g"));
  }
  const as = (command, args) => (asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args]);
  const data = join(dir, "data");
  const init = spawnSync(...as(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", ...(fast ? ["--no-sync"] : [])]), { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.error}`);
  const port = await freePort();
  const settings = ["listen_addresses=127.0.0.1", "max_connections=100", ...(fast ? ["fsync=off", "synchronous_commit=off", "full_page_writes=off"] : [])];
  const server = spawn(...as(join(bin, "postgres"), ["-D", data, "-p", String(port), "-k", dir, ...settings.flatMap((s) => ["-c", s])]), { stdio: "ignore" });
  // postgres itself, by the pid it wrote: a signal to runuser would not reach it.
  const pid = () => Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  const stop = async () => {
    if (server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once("exit", resolve));
    process.kill(pid(), "SIGINT");
    await exited;
  };
  for (let i = 0; i < 300 && server.exitCode === null; i++) {
    const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" });
    try {
      await client.connect();
      await client.query(`create database ${database}`);
      await client.end();
      return { url: `postgres://postgres@127.0.0.1:${port}/${database}`, pid: pid(), stop };
    } catch {
      await client.end().catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop().catch(() => {});
  throw new Error("PostgreSQL did not start");
}
