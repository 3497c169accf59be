import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

interface Step {
  uses: string;
  with: Record<string, unknown>;
}
interface Emulator {
  uploads: Array<{ runId: string; name: string; attempt: number }>;
  action(step: Step, ctx: unknown, options: { run: { id: string; attempt: number }; workspace: string; posts: unknown[]; permissions: Record<string, string> }): Promise<Record<string, string>>;
}

// scripts/ is plain JavaScript; a path in a variable keeps the type checker out of it.
const script = "../../scripts/github-emulator.js";
const { GitHub } = (await import(script)) as { GitHub: new (options: Record<string, unknown>) => Emulator };

const base = await mkdtemp(join(tmpdir(), "presswork-emulator-"));
afterAll(() => rm(base, { recursive: true, force: true }));

/** A folder with a bare repository standing for GitHub's, whose main has one commit. */
async function repository(prefix: string): Promise<{ dir: string; remote: string }> {
  const dir = await mkdtemp(join(base, prefix));
  const remote = join(dir, "remote.git");
  const work = join(dir, "work");
  execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", remote]);
  execFileSync("git", ["init", "--quiet", "--initial-branch=main", work]);
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "--allow-empty", "-m", "x"], { cwd: work });
  execFileSync("git", ["push", "--quiet", remote, "main"], { cwd: work });
  return { dir, remote };
}

/** A run whose first attempt uploaded send-state-1000-1; the second attempt downloads with `with`. */
async function download(attempt: number, inputs: Record<string, unknown>, permissions: Record<string, string> = { actions: "read" }) {
  const github = new GitHub({ base, log: () => {} });
  await mkdir(join(base, "artifacts/1000/1/send-state-1000-1/attempts/a"), { recursive: true });
  await writeFile(join(base, "artifacts/1000/1/send-state-1000-1/attempts/a/ledger.txt"), "x\n");
  github.uploads.push({ runId: "1000", name: "send-state-1000-1", attempt: 1 });
  const workspace = await mkdtemp(join(base, "workspace-"));
  const ctx = { status: "success", contexts: { github: { token: "ghs_rehearsal-token", run_id: "1000" } } };
  const step = { uses: "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", with: { path: ".presswork-state", ...inputs } };
  await github.action(step, ctx, { run: { id: "1000", attempt }, workspace, posts: [], permissions });
  return workspace;
}

describe("the emulator's download-artifact, as GitHub serves it", () => {
  const rest = { pattern: "send-state-1000-*", "merge-multiple": true, "github-token": "${{ github.token }}", "run-id": "1000" };

  it("gives a re-run an earlier attempt's artifacts with github-token and run-id, merged into the path", async () => {
    const workspace = await download(2, rest);
    expect(await readdir(join(workspace, ".presswork-state/attempts/a"))).toEqual(["ledger.txt"]);
  });

  it("fails without github-token (the current attempt's API: workflow run not found), and with it when the job lacks actions: read", async () => {
    await expect(download(2, { pattern: "send-state-1000-*", "merge-multiple": true })).rejects.toThrow(/\(404\) Not Found: workflow run not found/);
    await expect(download(2, rest, { contents: "write" })).rejects.toThrow(/403/);
  });

  it("downloads nothing and succeeds when the pattern matches nothing", async () => {
    const workspace = await download(2, { ...rest, pattern: "send-state-999-*" });
    expect(await readdir(workspace)).toEqual([]);
  });
});

describe("the emulator's Pages artifacts, as GitHub keeps them across attempts", () => {
  const sha = "fc324d3547104276b827a68afc52ff2a11cc49c9";
  /** A site folder in a fresh workspace, uploaded by attempt `attempt` of run 2000 under `name`. */
  async function uploadSite(github: Emulator, attempt: number, name?: string) {
    const workspace = await mkdtemp(join(base, "workspace-"));
    await mkdir(join(workspace, "dist"), { recursive: true });
    await writeFile(join(workspace, "dist/index.html"), `attempt ${attempt}\n`);
    const step = { uses: `actions/upload-pages-artifact@${sha}`, with: { path: "dist", ...(name ? { name } : {}) } };
    await github.action(step, { status: "success", contexts: {} }, { run: { id: "2000", attempt }, workspace, posts: [], permissions: {} });
  }
  const deploy = (github: Emulator, attempt: number, name?: string) =>
    github.action({ uses: `actions/deploy-pages@${sha}`, with: name ? { artifact_name: name } : {} }, { status: "success", contexts: {} }, { run: { id: "2000", attempt }, workspace: base, posts: [], permissions: {} });

  it("refuses to deploy a name two attempts uploaded, as deploy-pages v5 does on a re-run of every job", async () => {
    const github = new GitHub({ base: await mkdtemp(join(base, "pages-")), pagesUrl: "https://example.org", log: () => {} });
    await uploadSite(github, 1);
    await uploadSite(github, 2);
    await expect(deploy(github, 2)).rejects.toThrow(/Multiple artifacts named "github-pages" were unexpectedly found for this workflow run\. Artifact count is 2/);
  });

  it("deploys an earlier attempt's artifact by its own name, and refuses a name uploaded twice in one attempt", async () => {
    const dir = await mkdtemp(join(base, "pages-"));
    const github = new GitHub({ base: dir, pagesUrl: "https://example.org", log: () => {} });
    await uploadSite(github, 1, "github-pages-1");
    await uploadSite(github, 2, "github-pages-2");
    await deploy(github, 3, "github-pages-1");
    expect(await readFile(join(dir, "pages/index.html"), "utf8")).toBe("attempt 1\n");
    await expect(uploadSite(github, 2, "github-pages-2")).rejects.toThrow(/\(409\) Conflict/);
  });
});

describe("the emulator's `gh workflow run`, as the REST API takes a dispatch", () => {
  interface Run {
    inputs: Record<string, string>;
    jobs: Record<string, { result: string }>;
    dispatched: Run[];
  }
  /** Runs a one-job workflow, dispatched by hand with mode "start", whose step runs `gh workflow run w.yml …` with `args`. */
  async function dispatchWith(permissions: string, args: string): Promise<Run> {
    const { dir, remote } = await repository("dispatch-");
    const workflow = join(dir, "w.yml");
    await writeFile(
      workflow,
      [
        "on:",
        "  workflow_dispatch:",
        "    inputs:",
        "      mode: { type: choice, options: [start, publish], default: start }",
        "permissions: {}",
        "jobs:",
        "  start:",
        "    if: inputs.mode == 'start'",
        "    runs-on: ubuntu-24.04",
        `    permissions: { actions: ${permissions} }`,
        "    steps:",
        "      - env: { GH_TOKEN: '${{ github.token }}', GH_REPO: '${{ github.repository }}' }",
        `        run: gh workflow run w.yml --ref main ${args}`,
        "",
      ].join("\n"),
    );
    const github = new GitHub({ base: dir, remote, workflow, shims: dir, log: () => {} }) as unknown as { run(options: Record<string, unknown>): Promise<Run> };
    return github.run({ event: "workflow_dispatch", inputs: { mode: "start" } });
  }

  it("starts a run of the workflow with the inputs given, once the run that asked is over", async () => {
    const run = await dispatchWith("write", "-f mode=publish");
    expect(run.jobs["start"]?.result).toBe("success");
    expect(run.dispatched.map((r) => [r.inputs, r.jobs["start"]?.result])).toEqual([[{ mode: "publish" }, "skipped"]]);
  });

  it("refuses a token without actions: write, and a value the choice does not offer, starting nothing", async () => {
    for (const [permissions, args] of [
      ["read", "-f mode=publish"],
      ["write", "-f mode=deploy"],
      ["write", "-f stage=publish"],
    ] as const) {
      const run = await dispatchWith(permissions, args);
      expect(run.jobs["start"]?.result, `${permissions} ${args}`).toBe("failure");
      expect(run.dispatched).toEqual([]);
    }
  });
});

describe("the emulator's secrets, as GitHub scopes them", () => {
  it("gives a job the repository's secrets, and an environment's only to a job that names it, over the repository's of the same name", async () => {
    const { dir, remote } = await repository("secrets-");
    const workflow = join(dir, "w.yml");
    const job = (extra: string[], check: string) => ["    runs-on: ubuntu-24.04", ...extra, "    steps:", "      - env: { SMTP: '${{ secrets.SMTP_URL }}', DB: '${{ secrets.DATABASE_URL }}' }", `        run: ${JSON.stringify(check)}`];
    await writeFile(
      workflow,
      ["on: workflow_dispatch", "permissions: {}", "jobs:", "  build:", ...job([], 'test -z "$SMTP" && test "$DB" = repository'), "  send:", ...job(["    environment: newsletter"], 'test "$SMTP" = smtp://relay && test "$DB" = environment'), ""].join("\n"),
    );
    const github = new GitHub({ base: dir, remote, workflow, shims: dir, secrets: { DATABASE_URL: "repository" }, environments: { newsletter: { SMTP_URL: "smtp://relay", DATABASE_URL: "environment" } }, log: () => {} }) as unknown as {
      run(options: Record<string, unknown>): Promise<{ jobs: Record<string, { result: string }> }>;
    };
    const run = await github.run({ event: "workflow_dispatch" });
    expect([run.jobs["build"]?.result, run.jobs["send"]?.result]).toEqual(["success", "success"]);
  });
});

describe("the emulator's job conditions, as GitHub evaluates them", () => {
  it("skips a job after one that ran with always() past a failure, unless its own condition says otherwise: a failure counts down the whole chain", async () => {
    const { dir, remote } = await repository("chain-");
    const workflow = join(dir, "w.yml");
    const job = (extra: string[], script: string) => ["    runs-on: ubuntu-24.04", ...extra, "    steps:", `      - run: ${JSON.stringify(script)}`];
    await writeFile(
      workflow,
      [
        "on: workflow_dispatch",
        "permissions: {}",
        "jobs:",
        "  shard:",
        ...job([], "exit 1"),
        "  finalize:",
        ...job(["    needs: shard", "    if: always()"], "true"),
        "  republish:",
        ...job(["    needs: finalize"], "true"),
        "  republishAnyway:",
        ...job(["    needs: finalize", "    if: \"!cancelled() && needs.finalize.result == 'success'\""], "true"),
        "",
      ].join("\n"),
    );
    const github = new GitHub({ base: dir, remote, workflow, shims: dir, log: () => {} }) as unknown as { run(options: Record<string, unknown>): Promise<{ jobs: Record<string, { result: string }> }> };
    const { jobs } = await github.run({ event: "workflow_dispatch" });
    expect(Object.fromEntries(Object.entries(jobs).map(([name, job]) => [name, job.result]))).toEqual({ shard: "failure", finalize: "success", republish: "skipped", republishAnyway: "success" });
  });
});

describe("the emulator's cancellation, as GitHub cancels a run", () => {
  it("signals the step's shell alone, so a command it runs hears the SIGINT only when the shell execs it; the always() steps run after", async () => {
    const { dir, remote } = await repository("cancel-");
    // Stops on SIGINT, saying so; without one, ends by itself after 3 s. It says it started once it listens for
    // the signal: the cancellation waits for that, and a signal before would end it without a word.
    await writeFile(
      join(dir, "sig.mjs"),
      `import { writeFileSync } from "node:fs";
const [, , out] = process.argv;
process.on("SIGINT", () => { writeFileSync(out, "stopped on SIGINT"); process.exit(130); });
writeFileSync(out + ".started", "");
setTimeout(() => { writeFileSync(out, "ended without a signal"); process.exit(0); }, 3000);
`,
    );
    const workflow = join(dir, "w.yml");
    const job = (command: string, out: string) => [
      "    runs-on: ubuntu-24.04",
      "    steps:",
      "      - name: Send",
      `        run: ${command} node ${join(dir, "sig.mjs")} ${out}`,
      "      - if: always()",
      `        run: echo saved > ${out}.saved`,
      `      - run: echo ran > ${out}.after`,
    ];
    const execd = join(dir, "execd");
    const child = join(dir, "child");
    await writeFile(workflow, ["on: workflow_dispatch", "permissions: {}", "jobs:", "  execd:", ...job("exec", execd), "  child:", ...job("", child), ""].join("\n"));
    const github = new GitHub({ base: dir, remote, workflow, shims: dir, log: () => {} }) as unknown as { run(options: Record<string, unknown>): Promise<{ jobs: Record<string, { result: string }> }> };
    const started = (out: string) => () => existsSync(`${out}.started`);
    const { jobs } = await github.run({ event: "workflow_dispatch", cancel: [{ job: "execd", step: "Send", attempt: 1, when: started(execd) }, { job: "child", step: "Send", attempt: 1, when: started(child) }] });
    expect([jobs["execd"]?.result, jobs["child"]?.result]).toEqual(["cancelled", "cancelled"]);
    expect(await readFile(execd, "utf8")).toBe("stopped on SIGINT");
    expect(await readFile(child, "utf8")).toBe("ended without a signal");
    for (const out of [execd, child]) {
      expect(existsSync(`${out}.saved`), out).toBe(true);
      expect(existsSync(`${out}.after`), out).toBe(false);
    }
  });
});

describe("the emulator's concurrency groups, as GitHub queues jobs", () => {
  type Block = Record<string, unknown>;
  interface Runs {
    run(options: Record<string, unknown>): Promise<{ jobs: Record<string, { result: string }> }>;
  }
  /** An emulator of a two-job workflow (deploy, then send, which needs it) with the given concurrency blocks, and its log. */
  async function emulator(deploy: Block, send: Block): Promise<{ github: Runs; lines: string[] }> {
    const { dir, remote } = await repository("concurrency-");
    const workflow = join(dir, "w.yml");
    const job = (extra: string[]) => ["    runs-on: ubuntu-24.04", ...extra, "    steps:", "      - run: 'true'"];
    await writeFile(
      workflow,
      ["on: workflow_dispatch", "permissions: {}", "jobs:", "  deploy:", ...job([`    concurrency: ${JSON.stringify(deploy)}`]), "  send:", ...job(["    needs: deploy", `    concurrency: ${JSON.stringify(send)}`]), ""].join("\n"),
    );
    const lines: string[] = [];
    const github = new GitHub({ base: dir, remote, workflow, shims: dir, log: (line: string) => lines.push(line) }) as unknown as Runs;
    return { github, lines };
  }

  /**
   * Three runs of that workflow: the first run's deploy holds its group while the second's and then the
   * third's ask for it. Returns each run's [deploy, send] results, and the order the deploys took their group.
   */
  async function contend(deploy: Block, send: Block): Promise<{ results: string[][]; order: string[] }> {
    const { github, lines } = await emulator(deploy, send);
    const logged = async (text: string) => {
      while (!lines.some((line) => line.includes(text))) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = github.run({ event: "workflow_dispatch", hold: { deploy: held } });
    await logged("1000.1 deploy: runs in");
    const second = github.run({ event: "workflow_dispatch" });
    await logged("1001.1 deploy: pending");
    const third = github.run({ event: "workflow_dispatch" });
    await logged("1002.1 deploy: pending");
    release();
    const runs = await Promise.all([first, second, third]);
    const order = lines.filter((line) => / deploy: runs in /.test(line)).map((line) => line.split(" ")[1] ?? "");
    return { results: runs.map((run) => [run.jobs["deploy"]?.result ?? "", run.jobs["send"]?.result ?? ""]), order };
  }

  it("keeps one pending job in a group by default: a newer one cancels it, and the jobs that need it are skipped", async () => {
    const { results, order } = await contend({ group: "pages", "cancel-in-progress": false }, { group: "newsletter-send", "cancel-in-progress": false });
    expect(results).toEqual([
      ["success", "success"],
      ["cancelled", "skipped"],
      ["success", "success"],
    ]);
    expect(order).toEqual(["1000.1", "1002.1"]);
  });

  it("runs every pending job in the order they came with queue: max, as publish.yml's deploy and send ask", async () => {
    const publish = parse(await readFile(new URL("../../.github/workflows/publish.yml", import.meta.url), "utf8")) as { jobs: Record<string, { concurrency: Block }> };
    const { results, order } = await contend(publish.jobs["deploy"]?.concurrency ?? {}, publish.jobs["send"]?.concurrency ?? {});
    expect(results).toEqual([
      ["success", "success"],
      ["success", "success"],
      ["success", "success"],
    ]);
    expect(order).toEqual(["1000.1", "1001.1", "1002.1"]);
  });

  it("refuses queue: max beside cancel-in-progress: true, as GitHub's workflow validation does", async () => {
    const { github } = await emulator({ group: "pages", "cancel-in-progress": true, queue: "max" }, { group: "s" });
    await expect(github.run({ event: "workflow_dispatch" })).rejects.toThrow(/queue: max cannot be combined with cancel-in-progress: true/);
  });
});
