// npm run rehearse: runs the steps of .github/workflows/publish.yml in order on
// this machine, against an SMTP server on loopback and a temporary git
// repository standing in for GitHub: build, plan, send (killed half way, then
// re-run from a fresh clone, as a job re-run would), persist the ledger by a
// push, and a second scheduled run, which must send nothing.
import { execFileSync, spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";

const REPO = join(import.meta.dirname, "..");
const CLI = join(REPO, "bin/presswork.js");
const CONTENT = ["articles", "templates", "newsletter", "presswork.config.yaml", ".gitignore"];

const IDENTITY = { GIT_AUTHOR_NAME: "presswork[bot]", GIT_AUTHOR_EMAIL: "bot@example.org", GIT_COMMITTER_NAME: "presswork[bot]", GIT_COMMITTER_EMAIL: "bot@example.org" };

function git(cwd, ...args) {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...IDENTITY } }).trim();
}

/** Runs presswork in `cwd`; resolves with its exit code and output, or when killed. */
function presswork(cwd, args, env, killWhen) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, GITHUB_ACTIONS: "", PRESSWORK_ROOT: "", ...env } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    let timer;
    if (killWhen) timer = setInterval(() => killWhen() && child.kill("SIGKILL"), 5);
    child.on("close", (code, signal) => {
      clearInterval(timer);
      resolve({ code, signal, out });
    });
  });
}

/** An SMTP server on loopback that accepts everything and counts each recipient. */
async function smtpServer() {
  const received = new Map();
  let total = 0;
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    onData(stream, session, callback) {
      stream.on("data", () => {});
      stream.on("end", () => {
        for (const r of session.envelope.rcptTo) received.set(r.address, (received.get(r.address) ?? 0) + 1);
        total++;
        callback(null, "queued");
      });
    },
  });
  // A killed sender resets its connections; that is part of the rehearsal, not an error.
  server.on("error", () => {});
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `smtp://127.0.0.1:${server.server.address().port}`, received, total: () => total, close: () => new Promise((r) => server.close(r)) };
}

/**
 * The rehearsal. Returns what happened, for the test that runs it; `log`
 * narrates each step.
 */
export async function rehearse({ subscribers = 400, log = () => {} } = {}) {
  const base = await mkdtemp(join(tmpdir(), "presswork-rehearsal-"));
  const remote = join(base, "remote.git");
  const smtp = await smtpServer();
  try {
    git(base, "init", "--quiet", "--bare", "--initial-branch=main", remote);
    const seed = join(base, "seed");
    await mkdir(seed);
    for (const part of CONTENT) await cp(join(REPO, part), join(seed, part), { recursive: true });
    await rm(join(seed, "newsletter/ledger"), { recursive: true, force: true });
    git(seed, "init", "--quiet", "--initial-branch=main");
    git(seed, "add", ".");
    git(seed, "commit", "--quiet", "-m", "Articles");
    git(seed, "push", "--quiet", remote, "main");
    const list = join(base, "subscribers.csv");
    const addresses = Array.from({ length: subscribers }, (_, i) => `subscriber${i}@example.org`);
    await writeFile(list, `email,name\n${addresses.map((a, i) => `${a},Subscriber ${i}`).join("\n")}\n`);
    const env = { PRESSWORK_SECRET: "rehearsal-secret", PRESSWORK_SUBSCRIBERS_FILE: list, SMTP_URL: smtp.url };
    const now = "2026-11-29T07:17:00Z";
    const runs = [];

    /** One run of publish.yml: the build job, then (when an issue is due) the send job in its own fresh clone. */
    const workflow = async (name, killAfter) => {
      const build = join(base, `${name}-build`);
      git(base, "clone", "--quiet", remote, build);
      const built = await presswork(build, ["build", "--now", now], env);
      if (built.code !== 0) throw new Error(`build failed:\n${built.out}`);
      const plan = JSON.parse((await presswork(build, ["issue", "--json", "--now", now], env)).out);
      log(`${name}: built; next issue ${plan.next ? `#${plan.next.number}, due` : "none due"}`);
      const run = { name, due: Boolean(plan.next), sends: [] };
      runs.push(run);
      if (!plan.next) return run;
      for (let attempt = 1; ; attempt++) {
        const job = join(base, `${name}-send-${attempt}`);
        git(base, "clone", "--quiet", remote, job);
        const before = smtp.total();
        const kill = attempt === 1 && killAfter ? () => smtp.total() - before >= killAfter : undefined;
        const sent = await presswork(job, ["send", "--now", now], env, kill);
        run.sends.push({ attempt, code: sent.code, signal: sent.signal, delivered: smtp.total() - before });
        log(`${name}: send job attempt ${attempt} ${sent.signal ? `killed (${sent.signal})` : `exited ${sent.code}`} after ${smtp.total() - before} messages`);
        // The persist step runs always(), also after a failed or killed send.
        git(job, "add", "newsletter");
        if (git(job, "diff", "--cached", "--name-only")) {
          git(job, "commit", "--quiet", "-m", "Record the newsletter send [skip ci]");
          git(job, "pull", "--quiet", "--rebase", "origin", "main");
          git(job, "push", "--quiet", "origin", "HEAD:main");
        }
        if (sent.code === 0) return run;
        if (attempt >= 3) throw new Error(`the send job kept failing:\n${sent.out}`);
      }
    };

    await workflow("scheduled run 1", Math.floor(subscribers / 2));
    await workflow("scheduled run 2");
    const check = join(base, "check");
    git(base, "clone", "--quiet", remote, check);
    const record = JSON.parse(await readFile(join(check, "newsletter/sent.json"), "utf8"));
    const counts = addresses.map((a) => smtp.received.get(a) ?? 0);
    return {
      runs,
      subscribers,
      missing: counts.filter((c) => c === 0).length,
      duplicates: counts.filter((c) => c > 1).length,
      record: record.issues.at(-1),
      ledgerCommitted: git(check, "ls-files", "newsletter/ledger").split("\n").filter(Boolean),
    };
  } finally {
    await smtp.close();
    await rm(base, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) {
  const result = await rehearse({ log: (line) => console.log(line) });
  console.log(`\n${result.subscribers} subscribers: ${result.missing} missed, ${result.duplicates} mailed twice (messages in flight at the kill).`);
  console.log(`Record: issue #${result.record.number}, counts ${JSON.stringify(result.record.counts)}; ledger committed: ${result.ledgerCommitted.join(", ")}`);
  const ok = result.missing === 0 && result.duplicates <= 5 && !result.runs[1].due;
  console.log(ok ? "Rehearsal passed." : "Rehearsal FAILED.");
  process.exitCode = ok ? 0 : 1;
}
