// npm run rehearse: runs .github/workflows/publish.yml itself, with GitHub's
// semantics (scripts/github-emulator.js), against a bare repository standing
// in for GitHub (its main branch protected: a pre-receive hook refuses every
// push to it but the editor's) and an SMTP server on loopback:
//   1. a scheduled run whose send is killed (SIGKILL) half way, and its
//      WebSub ping too;
//   2. an editor's push, and its run (build and deploy, no send);
//   3. "Re-run failed jobs" of the first run, on its commit: the send resumes,
//      and the ping job, re-run alone, reads the site the first attempt built;
//   4. the next week's scheduled run, killed half way, then "Re-run all jobs":
//      the site is built and deployed again, and the send resumes;
//   5. a scheduled and a manual run of one commit at once;
//   6. a scheduled run while the state branch refuses pushes (as a ruleset
//      or an outage would): its send and the save after it fail; once pushes
//      are taken again, "Re-run failed jobs" restores the journal from the
//      failed attempt's artifact before it sends;
//   7. the same refusal, and no re-run: the next day's scheduled run finds
//      the stopped run by its lock and restores that run's journal from its
//      artifact before it sends.
// Every subscriber must get each issue exactly once (at most one more copy
// per connection of a killed attempt), each issue's "view in browser" link
// must resolve in the deployed site, and once a send is over the deployed
// issues feed must list its issue (the publish-only run the send starts).
import { execFileSync } from "node:child_process";
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { GitHub } from "./github-emulator.js";

const REPO = join(import.meta.dirname, "..");
const PAGES_URL = "https://signal-noise.example";
const EDITOR = { GIT_AUTHOR_NAME: "Editor", GIT_AUTHOR_EMAIL: "editor@example.org", GIT_COMMITTER_NAME: "Editor", GIT_COMMITTER_EMAIL: "editor@example.org" };

function git(cwd, ...args) {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...EDITOR } }).trim();
}

/** An SMTP server on loopback that accepts everything and counts, per issue, the copies each recipient got. */
async function smtpServer() {
  const copies = new Map();
  const first = new Map();
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    onData(stream, session, callback) {
      const chunks = [];
      stream.on("data", (d) => chunks.push(d));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks);
        const issue = Number(/^Message-ID: <issue-(\d+)\./im.exec(raw.subarray(0, 4096).toString("latin1"))?.[1] ?? 0);
        const counts = copies.get(issue) ?? new Map();
        copies.set(issue, counts);
        for (const r of session.envelope.rcptTo) counts.set(r.address, (counts.get(r.address) ?? 0) + 1);
        if (!first.has(issue)) first.set(issue, raw);
        callback(null, "queued");
      });
    },
  });
  // A killed sender resets its connections; that is part of the rehearsal, not an error.
  server.on("error", () => {});
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const delivered = (issue) => [...(copies.get(issue)?.values() ?? [])].reduce((a, b) => a + b, 0);
  return { url: `smtp://127.0.0.1:${server.server.address().port}`, copies, first, delivered, close: () => new Promise((r) => server.close(r)) };
}

/** Stand-ins for the runner's tools: npm ci links this repository's packages and build, npx runs the checked-out presswork, date gives the run's clock. */
async function shims(dir) {
  await mkdir(dir, { recursive: true });
  const files = {
    npm: `#!/bin/sh\nif [ "$1" = ci ]; then ln -sfn "${REPO}/node_modules" node_modules && ln -sfn "${REPO}/lib" lib && echo "npm ci: packages and build linked from the repository"; exit 0; fi\necho "npm $1: not available in the rehearsal" >&2; exit 127\n`,
    npx: `#!/bin/sh\nif [ "$1" = presswork ]; then shift; exec node "$PWD/bin/presswork.js" "$@"; fi\necho "npx $1: not available in the rehearsal" >&2; exit 127\n`,
    date: `#!/bin/sh\nif [ "$1" = -u ] && [ "$2" = "+%Y-%m-%dT%H:%M:%SZ" ] && [ -n "$REHEARSAL_CLOCK" ]; then echo "$REHEARSAL_CLOCK"; exit 0; fi\nexec /bin/date "$@"\n`,
  };
  for (const [name, text] of Object.entries(files)) {
    await writeFile(join(dir, name), text);
    await chmod(join(dir, name), 0o755);
  }
}

/**
 * The rehearsal. Returns what happened, for the test that runs it; `log`
 * narrates each job and step.
 */
export async function rehearse({ subscribers = 300, log = () => {} } = {}) {
  const base = await mkdtemp(join(tmpdir(), "presswork-rehearsal-"));
  const remote = join(base, "remote.git");
  const smtp = await smtpServer();
  try {
    // "GitHub": a bare repository whose main branch only the editor may push to.
    git(base, "init", "--quiet", "--bare", "--initial-branch=main", remote);
    git(remote, "config", "uploadpack.allowAnySHA1InWant", "true");
    await writeFile(
      join(remote, "hooks/pre-receive"),
      `#!/bin/sh\nwhile read old new ref; do\n  if [ "$ref" = refs/heads/main ] && [ ! -e "${remote}/editor-pushing" ]; then echo "refs/heads/main is protected: changes must go through a pull request" >&2; exit 1; fi\n  if [ "$ref" = refs/heads/presswork-state ] && [ -e "${remote}/state-refused" ]; then echo "refs/heads/presswork-state: pushes are refused by a ruleset" >&2; exit 1; fi\ndone\nexit 0\n`,
    );
    await chmod(join(remote, "hooks/pre-receive"), 0o755);
    const editor = join(base, "editor");
    await mkdir(editor);
    // The newsletter's repository, made from this one as a template, without Presswork's tests and benchmarks: no
    // step reads them (the cache key hashes src/, npm ci compiles it), and they are two thirds of its files, which
    // each of the rehearsal's checkouts would write again.
    for (const path of git(REPO, "ls-files").split("\n")) {
      if (path.startsWith("newsletter/ledger/") || /^(test|bench)\//.test(path)) continue;
      await mkdir(dirname(join(editor, path)), { recursive: true });
      await cp(join(REPO, path), join(editor, path));
    }
    git(editor, "init", "--quiet", "--initial-branch=main");
    git(editor, "remote", "add", "origin", remote);
    const push = async (message) => {
      git(editor, "add", ".");
      git(editor, "commit", "--quiet", "-m", message);
      await writeFile(join(remote, "editor-pushing"), "");
      git(editor, "push", "--quiet", "origin", "HEAD:main");
      await rm(join(remote, "editor-pushing"));
      return git(editor, "rev-parse", "HEAD");
    };
    const article = (slug, date, title) =>
      writeFile(join(editor, `articles/${slug}.md`), `---\ntitle: ${title}\ndate: ${date}\nid: tag:signal-noise.example,${date.slice(0, 10)}:${slug}\ntags: [Networks]\nsummary: ${title}.\n---\n\n${title}: the story.\n`);
    await push("Articles");

    const addresses = Array.from({ length: subscribers }, (_, i) => `subscriber${i}@example.org`);
    await shims(join(base, "bin"));
    const github = new GitHub({
      base,
      remote,
      workflow: join(editor, ".github/workflows/publish.yml"),
      // As README's setup has them: in the newsletter environment, which only the send job names.
      environments: { newsletter: { SMTP_URL: smtp.url, PRESSWORK_SECRET: "rehearsal-secret", PRESSWORK_SUBSCRIBERS: `email,name\n${addresses.map((a, i) => `${a},Subscriber ${i}`).join("\n")}\n` } },
      pagesUrl: PAGES_URL,
      shims: join(base, "bin"),
      log,
    });
    const killHalfWay = (issue) => ({ job: "send", step: "Send", attempt: 1, when: () => smtp.delivered(issue) >= subscribers / 2 });
    const sendResult = (run) => run.jobs.send?.result;
    // What the send step said of articles it rendered itself, which the build job had not: "" when it rendered none.
    // The notice's words are pinned by test/cli/loading.test.ts, so a rewording cannot make this pass unseen.
    const sendRendered = (run) => {
      const log = run.jobs.send?.logs?.send;
      return log === undefined ? undefined : (/^.*Rendered \d+ article.*$/m.exec(log)?.[0] ?? "");
    };
    const issues = {};
    const check = async (issue) => {
      const counts = addresses.map((a) => smtp.copies.get(issue)?.get(a) ?? 0);
      const mail = await simpleParser(smtp.first.get(issue) ?? Buffer.from(""));
      const link = /View in your browser: (\S+)/.exec(mail.text ?? "")?.[1] ?? "";
      const page = link.startsWith(`${PAGES_URL}/`) ? join(base, "pages", link.slice(PAGES_URL.length + 1), "index.html") : "";
      issues[issue] = {
        missing: counts.filter((c) => c === 0).length,
        duplicates: counts.filter((c) => c > 1).length,
        subject: mail.subject ?? "",
        link,
        linkResolves: page !== "" && existsSync(page) && (await readFile(page, "utf8")).includes(`#${issue}`),
        inFeed: (await readFile(join(base, "pages/issues/feed.xml"), "utf8")).includes(`<link>${PAGES_URL}/issues/${issue}/</link>`),
      };
    };

    // 1. Monday's scheduled run; its send is killed half way.
    const killPing = { job: "websub", step: "Ping the WebSub hub for the feeds that changed", attempt: 1, when: () => true };
    const first = await github.run({ event: "schedule", clock: "2026-11-30T07:17:00Z", kill: [killHalfWay(3), killPing] });
    const killedAt = smtp.delivered(3);
    // Its web version was deployed before the first message went out.
    const webBeforeSend = existsSync(join(base, "pages/issues/3/index.html"));
    // 2. An editor publishes an article; the push runs build and deploy.
    await article("exchange-outage", "2026-12-01T09:00:00Z", "An Exchange Goes Dark for Six Hours");
    await push("An article");
    const pushed = await github.run({ event: "push", clock: "2026-12-01T10:00:00Z" });
    // 3. Re-run failed jobs of Monday's run, after the push: the same commit, the state from its branch.
    const rerun = await github.rerunFailed(first, { clock: "2026-12-01T10:30:00Z" });
    await check(3);
    // The publish the send started built main as it now is: the pushed article stays on the site.
    const pushedArticleKept = existsSync(join(base, "pages/articles/exchange-outage/index.html"));
    // 4. The next Monday: issue #4, killed half way, then every job re-run.
    const second = await github.run({ event: "schedule", clock: "2026-12-07T07:17:00Z", kill: killHalfWay(4) });
    const secondKilledAt = smtp.delivered(4);
    const secondRerun = await github.rerunAll(second);
    await check(4);
    // 5. The Monday after: a scheduled run and a manual one of the same commit, at once.
    await article("satellite-backhaul", "2026-12-08T09:00:00Z", "Satellites Take On Rural Backhaul");
    await push("A new article");
    const [scheduled, manual] = await Promise.all([
      github.run({ event: "schedule", clock: "2026-12-14T07:17:00Z" }),
      github.run({ event: "workflow_dispatch", clock: "2026-12-14T07:17:00Z", inputs: { mode: "send", issue: "", "test-address": "" } }),
    ]);
    await check(5);
    /** A scheduled run during which the state branch refuses pushes from the send's first message of `issue` (its lock is taken) on; the rule is lifted once it is over. */
    const refusingRun = async (issue, clock) => {
      const refuse = setInterval(() => {
        if (smtp.delivered(issue) > 0) {
          clearInterval(refuse);
          writeFile(join(remote, "state-refused"), "").catch(() => {});
        }
      }, 5);
      const run = await github.run({ event: "schedule", clock });
      clearInterval(refuse);
      const sent = smtp.delivered(issue);
      await rm(join(remote, "state-refused"), { force: true });
      return { run, sent };
    };
    // 6. The Monday after, such a refusal; "Re-run failed jobs" then runs the send on a fresh runner.
    await article("fibre-cut", "2026-12-15T09:00:00Z", "A Trawler Cuts Two Fibres");
    await push("Another article");
    const { run: refused, sent: refusedSent } = await refusingRun(6, "2026-12-21T07:17:00Z");
    const refusedRerun = await github.rerunFailed(refused);
    await check(6);
    // 7. The Monday after, the same, and nobody re-runs the run: Tuesday's scheduled run sends the issue,
    //    restoring first what the stopped run journalled (its artifact), whose lock it finds on the state branch.
    await article("cable-landing", "2026-12-22T09:00:00Z", "A Cable Lands on a Quiet Beach");
    await push("One more article");
    const { run: stopped, sent: stoppedSent } = await refusingRun(7, "2026-12-28T07:17:00Z");
    const nextDay = await github.run({ event: "schedule", clock: "2026-12-29T07:17:00Z" });
    await check(7);

    const check2 = join(base, "check");
    git(base, "clone", "--quiet", remote, check2);
    return {
      subscribers,
      issues,
      runs: {
        first: { send: sendResult(first), websub: first.jobs.websub?.result, killedAt, webBeforeSend, sendFoundBuildCache: first.jobs.send?.steps["build-cache"]?.outputs["cache-hit"], sendRendered: sendRendered(first) },
        pushed: { build: pushed.jobs.build?.result, deploy: pushed.jobs.deploy?.result, send: sendResult(pushed) },
        rerun: {
          send: sendResult(rerun),
          sendFoundBuildCache: rerun.jobs.send?.steps["build-cache"]?.outputs["cache-hit"],
          sendRendered: sendRendered(rerun),
          websub: rerun.jobs.websub?.result,
          build: rerun.jobs.build === first.jobs.build,
          pushedArticleKept,
          republished: rerun.dispatched.map((run) => ({ event: run.event, mode: run.inputs.mode, build: run.jobs.build?.result, deploy: run.jobs.deploy?.result, send: sendResult(run), websub: run.jobs.websub?.result })),
        },
        // A killed send started its issue: its run starts a publish too.
        firstRepublished: first.dispatched.map((run) => run.inputs.mode),
        second: { send: sendResult(second), killedAt: secondKilledAt, rerun: { build: secondRerun.jobs.build?.result, deploy: secondRerun.jobs.deploy?.result, send: sendResult(secondRerun) } },
        together: { scheduled: sendResult(scheduled), manual: sendResult(manual) },
        refused: { send: sendResult(refused), sent: refusedSent, rerun: sendResult(refusedRerun) },
        stopped: { send: sendResult(stopped), sent: stoppedSent, nextDay: sendResult(nextDay) },
      },
      mainAuthors: [...new Set(git(check2, "log", "--format=%an", "main").split("\n"))],
      stateBranch: git(check2, "ls-remote", "origin", "presswork-state") !== "",
    };
  } finally {
    await smtp.close();
    await rm(base, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) {
  const result = await rehearse({ log: (line) => line && console.log(line) });
  console.log(JSON.stringify(result, null, 2));
  const ok = Object.values(result.issues).every((i) => i.missing === 0 && i.duplicates <= 5 && i.linkResolves) && result.mainAuthors.join() === "Editor";
  console.log(ok ? "Rehearsal passed." : "Rehearsal FAILED.");
  process.exitCode = ok ? 0 : 1;
}
