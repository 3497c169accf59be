// A throwaway PostgreSQL cluster on a free loopback port, for the tests, the
// smoke run and the service bench. initdb and postgres refuse to run as root,
// so as root they run as the `postgres` user (runuser).
import { spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { userInfo } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./free-port.js";

/**
 * Starts a cluster whose files are in `dir` (made if missing); with
 * `database`, one database of that name. `fast` turns durability off, for
 * runs that never crash the server but through `stop`, after which it
 * recovers from its WAL. Resolves to undefined when PostgreSQL is not
 * installed (Debian's postgresql puts it under /usr/lib/postgresql). Throws,
 * with the server's last words, when it is installed but does not start;
 * the server is stopped then.
 */
export async function startCluster(dir, { database, fast = false, maxConnections = 100 } = {}) {
  const root = "/usr/lib/postgresql";
  const version = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, "bin/initdb"))).sort((a, b) => Number(a) - Number(b)).pop() : undefined;
  if (!version) return undefined;
  const bin = join(root, version, "bin");
  await mkdir(dir, { recursive: true });
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const id = (flag) => spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
    const [uid, gid] = [id("-u"), id("-g")];
    if (uid.status !== 0) throw new Error("running as root and there is no postgres user to run the server as");
    chownSync(dir, Number(uid.stdout.trim()), Number(gid.stdout.trim()));
  }
  const as = (command, args) => (asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args]);
  const data = join(dir, "data");
  const init = spawnSync(...as(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", ...(fast ? ["--no-sync"] : [])]), { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`initdb failed: ${(init.stderr || init.stdout || String(init.error)).trim().split("\n").slice(-2).join(" ")}`);
  const port = await freePort();
  const settings = ["listen_addresses=127.0.0.1", `max_connections=${maxConnections}`, ...(fast ? ["fsync=off", "synchronous_commit=off", "full_page_writes=off"] : [])];
  /** The pid postgres wrote, or 0 before it wrote one. */
  const serverPid = () => {
    try {
      return Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]) || 0;
    } catch {
      return 0;
    }
  };
  let server;
  let running = false;
  let exited = Promise.resolve();
  /** A fast shutdown, keeping the data: signalled to postgres itself by its pid (a signal to runuser would not reach it), else to the child. */
  const stop = async () => {
    if (!running) return;
    const pid = serverPid();
    if (pid > 0) process.kill(pid, "SIGINT");
    else server.kill("SIGINT");
    await exited;
  };
  /** Starts the server on the cluster's data and port, and waits up to 30 s for it to take connections. */
  const start = async () => {
    let log = "";
    server = spawn(...as(join(bin, "postgres"), ["-D", data, "-p", String(port), "-k", dir, ...settings.flatMap((s) => ["-c", s])]), { stdio: ["ignore", "ignore", "pipe"] });
    server.stderr.on("data", (chunk) => (log = (log + chunk).slice(-2000)));
    running = true;
    exited = new Promise((resolve) => server.once("exit", () => resolve((running = false))));
    let last;
    for (let i = 0; i < 300 && running; i++) {
      const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" });
      try {
        await client.connect();
        await client.end();
        return;
      } catch (error) {
        last = error;
        await client.end().catch(() => {});
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await stop();
    throw new Error(`PostgreSQL did not start: ${log.trim().split("\n").slice(-3).join(" ") || last?.message}`);
  };
  await start();
  if (database) {
    const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" });
    try {
      await client.connect();
      await client.query(`create database ${database}`);
    } catch (error) {
      await stop();
      throw error;
    } finally {
      await client.end().catch(() => {});
    }
  }
  return { port, url: database ? `postgres://postgres@127.0.0.1:${port}/${database}` : undefined, pid: serverPid(), stop, start };
}
