// A smoke run of the command line on the Node that runs this script: .ci/run
// runs it on Node 22 and 24 (installed from the npm registry's `node`
// package), after the test suite ran on the machine's Node. In a temporary
// copy of the sample project it builds, builds again from the cache (nothing
// written), checks that Node's compile cache was used where Node has one,
// sends the due issue to an SMTP server on loopback from a git checkout
// (its state on the state branch), and sends again without mailing anyone twice.
// Then `presswork serve`, its list in a throwaway PostgreSQL cluster (whose
// client is plain JavaScript; the SQLite driver is built for the machine's
// Node alone), takes a subscription and its confirmation.
// Usage: node scripts/smoke.js   (exit code 1 and the reason on failure)
import { execFile, execFileSync, spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import module from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { freePort } from "./free-port.js";
import { startCluster } from "./postgres-cluster.js";

const REPO = join(import.meta.dirname, "..");
const NOW = "2026-11-29T12:00:00Z";
const dir = await mkdtemp(join(tmpdir(), "presswork-smoke-"));
const root = join(dir, "project");
const temp = join(dir, "tmp");
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
};

/** How presswork runs in the project: with this Node, in a temporary folder of its own, which holds Node's compile cache. */
const run = (args, env = {}) => [process.execPath, [join(REPO, "bin/presswork.js"), ...args], { cwd: root, encoding: "utf8", env: { ...process.env, TMPDIR: temp, NODE_COMPILE_CACHE: "", GITHUB_ACTIONS: "", ...env } }];
const presswork = (args) => execFileSync(...run(args));
/** The same without blocking this process, whose SMTP server must answer it. */
const pressworkAsync = async (args, env) => (await promisify(execFile)(...run(args, env))).stdout;

/**
 * Runs `presswork serve` against a new PostgreSQL cluster and the loopback
 * SMTP server: a form's subscription is answered with a redirect, its
 * confirmation mail arrives, and its link confirms. Without PostgreSQL the
 * step is skipped, saying so, but under PRESSWORK_CI=1 (.ci/run installs it).
 */
async function serve(smtpUrl, received) {
  // A folder of its own: the server's user (postgres, when this runs as root) cannot enter this run's.
  const pgDir = await mkdtemp(join(tmpdir(), "presswork-smoke-pg-"));
  try {
    const cluster = await startCluster(pgDir, { database: "smoke", fast: true });
    if (!cluster) {
      if (process.env.PRESSWORK_CI === "1") check(false, "serve: PostgreSQL is not installed (Debian's postgresql), and PRESSWORK_CI=1 requires it");
      else console.log("SKIPPED serve: PostgreSQL is not installed (Debian's postgresql)");
      return;
    }
    try {
      await serveOn(cluster.url, smtpUrl, received);
    } finally {
      await cluster.stop();
    }
  } finally {
    await rm(pgDir, { recursive: true, force: true });
  }
}

/** The subscription and its confirmation through `presswork serve` on `databaseUrl`, which is stopped after. */
async function serveOn(databaseUrl, smtpUrl, received) {
  const port = await freePort();
  const service = `http://127.0.0.1:${port}`;
  const [node, args, options] = run(["serve", "--port", String(port)], { DATABASE_URL: databaseUrl, SMTP_URL: smtpUrl, SMTP_TLS_INSECURE: "1", PRESSWORK_SECRET: "smoke", PRESSWORK_PUBLIC_URL: `${service}/` });
  const child = spawn(node, args, { ...options, stdio: ["ignore", "ignore", "pipe"] });
  let said = "";
  child.stderr.on("data", (chunk) => (said += chunk));
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  const timeout = () => ({ signal: AbortSignal.timeout(30_000) });
  try {
    const listening = (await until(() => said.includes("listening on") || ended())) && !ended();
    check(listening, `serve: ${said.trim().split("\n").at(-1) || "no answer in 30 s"}`);
    if (!listening) return;
    const answer = await fetch(`${service}/subscribe`, { method: "POST", body: new URLSearchParams({ email: "reader@example.org" }), redirect: "manual", ...timeout() });
    check(answer.status === 303, `serve: a subscription is answered ${answer.status} ${answer.headers.get("location") ?? ""}`);
    const mail = () => received.find((message) => message.to.includes("reader@example.org"));
    await until(() => mail() !== undefined);
    const text = (await simpleParser(mail()?.raw ?? "")).text ?? "";
    const link = /https?:\/\/[^\s"<>]+\/confirm\?token=[^\s"<>]+/.exec(text)?.[0];
    check(link?.startsWith(`${service}/confirm?token=`) ?? false, "serve: the confirmation mail reached the loopback server, with its link");
    // The link shows a button (a GET confirms nothing: mail scanners open every link); the button posts to it.
    const confirmed = link ? await fetch(link, { method: "POST", ...timeout() }) : undefined;
    const page = (await confirmed?.text()) ?? "";
    check(confirmed?.status === 200 && page.includes("You are subscribed"), `serve: the link's button confirms (${confirmed?.status ?? "no link"})`);
  } finally {
    child.kill("SIGTERM");
    if (!(await until(ended))) child.kill("SIGKILL");
  }
}

/** Waits up to 30 s for `done` to be true; returns whether it came. */
async function until(done) {
  for (let i = 0; i < 300; i++) {
    if (done()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return done();
}

try {
  console.log(`smoke run on node ${process.version}`);
  for (const part of ["articles", "templates", "newsletter", "presswork.config.yaml"]) await cp(join(REPO, part), join(root, part), { recursive: true });
  await rm(join(root, "newsletter/ledger"), { recursive: true, force: true });
  await mkdir(temp);
  // A checkout: the send keeps its state on a git branch of the project's repository.
  const git = (...args) => execFileSync("git", ["-c", "user.name=Smoke", "-c", "user.email=smoke@example.invalid", ...args], { cwd: root, stdio: "pipe" });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-q", "-m", "sample project");

  const first = presswork(["build", "--now", NOW]);
  check(/Built \d+ article\(s\) into dist\/ \(\d+ file\(s\) written/.test(first), `build: ${first.trim()}`);
  const feed = await readFile(join(root, "dist/feed.xml"), "utf8");
  check(feed.startsWith("<?xml") && feed.includes("<rss"), "build: dist/feed.xml is an RSS feed");
  check((await readFile(join(root, "dist/index.html"), "utf8")).includes("</html>"), "build: dist/index.html is a page");
  const second = presswork(["build", "--now", NOW]);
  check(second.includes("(0 file(s) written"), `build again, from the cache: ${second.trim()}`);

  if (module.enableCompileCache) {
    const cached = await readdir(join(temp, "node-compile-cache"), { recursive: true }).catch(() => []);
    check(cached.length > 0, `Node's compile cache holds the command line's modules (${cached.length} entries)`);
  } else {
    check(true, "Node has no compile cache: the command line runs without one");
  }

  const received = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ["AUTH"],
    onData(stream, session, callback) {
      const chunks = [];
      stream.on("data", (chunk) => chunks.push(chunk));
      stream.on("end", () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString("utf8") });
        callback();
      });
    },
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address();
  try {
    const readers = ["ada@example.org", "tomas@example.org", "mei@example.org"];
    await writeFile(join(root, "subs.csv"), `email,name\n${readers.map((address) => `${address},Reader`).join("\n")}\n`);
    const sent = await pressworkAsync(["send", "--subscribers", "subs.csv", "--now", NOW], { SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_TLS_INSECURE: "1", PRESSWORK_SECRET: "smoke" });
    check(received.length === readers.length, `send: ${received.length} of ${readers.length} messages reached the loopback server`);
    check(readers.every((address) => received.some((message) => message.to.includes(address))), "send: one message to each reader");
    check(received.every((message) => /^List-Unsubscribe:/im.test(message.raw)), "send: every message has List-Unsubscribe");
    console.log(sent.trim().split("\n").at(-1));
    const again = await pressworkAsync(["send", "--subscribers", "subs.csv", "--now", NOW], { SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_TLS_INSECURE: "1", PRESSWORK_SECRET: "smoke" });
    check(received.length === readers.length, `send again: nobody mailed twice (${received.length} messages in all; ${again.trim().split("\n").at(-1)})`);
    await serve(`smtp://127.0.0.1:${port}`, received);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
} catch (error) {
  check(false, `${error.message}${error.stderr ? `\n${error.stderr}` : ""}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
if (failures.length > 0) {
  console.error(`smoke run on node ${process.version}: ${failures.length} failure(s)`);
  process.exitCode = 1;
}
