// A small stand-in for GitHub Actions, enough to run .github/workflows/publish.yml
// as written on this machine: jobs in the order their `needs` give, `if:`
// conditions, `${{ }}` expressions, `env:`, step and job outputs
// ($GITHUB_OUTPUT, $GITHUB_ENV), concurrency groups (one job of a group at a
// time; one pending, which a newer one cancels, or with `queue: max` up to 100
// in order), "Re-run failed jobs" (same run and commit, next attempt, the failed
// jobs and those that depend on them run again, the others kept with their
// outputs), "Re-run all jobs" (the same, every
// job run again), and `run:` steps run with bash as GitHub runs them
// (`bash -e`). Steps that use actions are emulated by local equivalents with
// the documented behaviour of the action: checkout of `github.sha` unless
// `ref` is set, Pages' configure/upload/deploy (the site as one artifact.tar;
// deploy-pages lists the whole run's artifacts and refuses a name two
// attempts uploaded), upload-artifact with its hidden-file rule (a name is
// unique within an attempt, and every attempt keeps its own), download-artifact
// (by name, the newest attempt's, or pattern; without github-token it reaches
// the current attempt's artifacts only, as it has since July 2026, with it
// the whole run's through the REST API, which needs the job's
// `actions: read`), and the cache (restore by key, then by the newest key
// with a restore-key prefix; actions/cache saves in its post step when the
// job succeeded and the key was not hit). The runner's `gh workflow run`
// is checked as the REST API checks a dispatch (the job's token with
// `actions: write`, a branch or tag that exists, inputs the workflow
// declares, a choice among its options); the run it asks for is started
// once the run that asked is over, with that run's clock (GitHub queues it
// at once; its jobs would meet the asking run's only in their concurrency
// groups). A bare repository stands in for the repository on
// GitHub; its hooks can refuse pushes as a protected branch would.
import { spawn, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, cp, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { parse } from "yaml";

const GIT_IDENTITY = { GIT_AUTHOR_NAME: "github-actions", GIT_AUTHOR_EMAIL: "actions@example.org", GIT_COMMITTER_NAME: "github-actions", GIT_COMMITTER_EMAIL: "actions@example.org" };

function git(cwd, ...args) {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...GIT_IDENTITY } }).trim();
}

// ---------------------------------------------------------------- expressions

const TOKEN = /\s*(?:(\d+(?:\.\d+)?)|'((?:[^']|'')*)'|(==|!=|<=|>=|&&|\|\||[!<>().,[\]*])|([A-Za-z_][\w-]*))/y;

function tokenize(text) {
  const tokens = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) throw new Error(`cannot read the expression "${text}" at ${at}`);
    if (m[1] !== undefined) tokens.push({ type: "value", value: Number(m[1]) });
    else if (m[2] !== undefined) tokens.push({ type: "value", value: m[2].replace(/''/g, "'") });
    else if (m[3] !== undefined) tokens.push({ type: "op", value: m[3] });
    else tokens.push({ type: "name", value: m[4] });
  }
  return tokens;
}

/** GitHub's loose equality: strings without case, mixed types as numbers. */
function equal(a, b) {
  if (typeof a === "string" && typeof b === "string") return a.toLowerCase() === b.toLowerCase();
  if (typeof a === typeof b) return a === b;
  const n = (v) => (v === null || v === undefined ? 0 : v === true ? 1 : v === false ? 0 : v === "" ? 0 : Number(v));
  return n(a) === n(b);
}

const truthy = (v) => !(v === false || v === 0 || v === "" || v === null || v === undefined || Number.isNaN(v));
const text = (v) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));

/** Evaluates a GitHub Actions expression (what is inside `${{ }}`, or an `if:`) against contexts and status functions. */
export function evaluate(source, ctx) {
  const tokens = tokenize(source);
  let i = 0;
  const peek = () => tokens[i];
  const take = (value) => {
    const t = tokens[i];
    if (value !== undefined && t?.value !== value) throw new Error(`expected ${value} in "${source}"`);
    i++;
    return t;
  };
  const functions = {
    always: () => true,
    success: () => ctx.status === "success",
    failure: () => ctx.status === "failure",
    cancelled: () => ctx.status === "cancelled",
    contains: (hay, needle) => (Array.isArray(hay) ? hay.some((x) => equal(x, needle)) : text(hay).toLowerCase().includes(text(needle).toLowerCase())),
    startswith: (a, b) => text(a).toLowerCase().startsWith(text(b).toLowerCase()),
    endswith: (a, b) => text(a).toLowerCase().endsWith(text(b).toLowerCase()),
    format: (f, ...args) => text(f).replace(/\{(\d+)\}/g, (_, n) => text(args[Number(n)])),
    tojson: (v) => JSON.stringify(v, null, 2),
    fromjson: (v) => JSON.parse(text(v)),
    join: (a, sep = ",") => (Array.isArray(a) ? a.map(text).join(sep) : text(a)),
    // Paths only, no glob patterns (the workflows name files); "" when none exists, as on GitHub.
    hashfiles: (...patterns) => {
      const workspace = ctx.contexts.github?.workspace ?? "";
      const found = patterns.map(text).filter((p) => {
        if (/[*?[\]]/.test(p)) throw new Error(`hashFiles: the rehearsal takes file paths, not the pattern ${p}`);
        return existsSync(join(workspace, p));
      });
      if (found.length === 0) return "";
      const all = createHash("sha256");
      for (const p of found) all.update(createHash("sha256").update(readFileSync(join(workspace, p))).digest());
      return all.digest("hex");
    },
  };
  const primary = () => {
    const t = take();
    if (!t) throw new Error(`unexpected end of "${source}"`);
    if (t.type === "value") return t.value;
    if (t.type === "op" && t.value === "(") {
      const v = or();
      take(")");
      return v;
    }
    if (t.type === "op" && t.value === "!") return !truthy(primary());
    if (t.type !== "name") throw new Error(`unexpected ${t.value} in "${source}"`);
    const name = t.value;
    if (name === "true") return true;
    if (name === "false") return false;
    if (name === "null") return null;
    if (peek()?.value === "(") {
      take("(");
      const args = [];
      while (peek()?.value !== ")") {
        args.push(or());
        if (peek()?.value === ",") take(",");
      }
      take(")");
      const f = functions[name.toLowerCase()];
      if (!f) throw new Error(`unknown function ${name} in "${source}"`);
      return f(...args);
    }
    let value = ctx.contexts[name];
    for (;;) {
      if (peek()?.value === ".") {
        take(".");
        const key = take().value;
        value = value === null || value === undefined ? undefined : value[key];
      } else if (peek()?.value === "[") {
        take("[");
        const key = or();
        take("]");
        value = value === null || value === undefined ? undefined : value[key];
      } else break;
    }
    return value ?? null;
  };
  const compare = () => {
    let left = primary();
    while (["==", "!=", "<", ">", "<=", ">="].includes(peek()?.value)) {
      const op = take().value;
      const right = primary();
      if (op === "==") left = equal(left, right);
      else if (op === "!=") left = !equal(left, right);
      else {
        const [a, b] = [Number(left), Number(right)];
        left = op === "<" ? a < b : op === ">" ? a > b : op === "<=" ? a <= b : a >= b;
      }
    }
    return left;
  };
  const and = () => {
    let left = compare();
    while (peek()?.value === "&&") {
      take();
      const right = compare();
      left = truthy(left) ? right : left;
    }
    return left;
  };
  const or = () => {
    let left = and();
    while (peek()?.value === "||") {
      take();
      const right = and();
      left = truthy(left) ? left : right;
    }
    return left;
  };
  const value = or();
  if (i < tokens.length) throw new Error(`cannot read the rest of "${source}"`);
  return value;
}

/** A string with its `${{ }}` expressions replaced by their values. */
export function interpolate(value, ctx) {
  if (typeof value !== "string") return value;
  return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, expr) => text(evaluate(expr, ctx)));
}

/**
 * A job's concurrency block as GitHub reads it: a group name (a string alone is the group), `queue` single
 * (the default) or max, and `queue: max` refused beside `cancel-in-progress: true`, as GitHub's workflow
 * validation refuses it. Undefined for a job without one.
 */
function concurrencyOf(spec, ctx) {
  if (!spec.concurrency) return undefined;
  const block = typeof spec.concurrency === "string" ? { group: spec.concurrency } : spec.concurrency;
  const queue = block.queue ?? "single";
  if (queue !== "single" && queue !== "max") throw new Error(`concurrency.queue must be single or max, not ${queue}`);
  if (queue === "max" && block["cancel-in-progress"] === true) throw new Error("concurrency: queue: max cannot be combined with cancel-in-progress: true");
  if (block["cancel-in-progress"] === true) throw new Error("concurrency: cancel-in-progress: true is not emulated");
  return { group: interpolate(block.group, ctx), queue };
}

/** An `if:` as GitHub reads it: without a status function, `success() && (…)`. */
function condition(source, ctx, fallback = "success()") {
  if (source === undefined) return truthy(evaluate(fallback, ctx));
  const expr = String(source).replace(/^\s*\$\{\{([\s\S]*)\}\}\s*$/, "$1");
  const withStatus = /\b(always|success|failure|cancelled)\s*\(/.test(expr) ? expr : `success() && (${expr})`;
  return truthy(evaluate(withStatus, ctx));
}

/** Every job `name` needs, and every job those need, to the first. */
function upstream(jobs, name) {
  const found = new Set();
  const visit = (job) => {
    for (const need of [jobs[job]?.needs ?? []].flat()) {
      if (found.has(need)) continue;
      found.add(need);
      visit(need);
    }
  };
  visit(name);
  return [...found];
}

// ---------------------------------------------------------------- the runner

/**
 * A repository "on GitHub", its Pages site and artifacts, and runs of one
 * workflow file in it.
 */
export class GitHub {
  /**
   * `secrets` are the repository's, which every job sees; `environments` the secrets of each deployment
   * environment, which only a job that names the environment sees, over the repository's of the same name.
   */
  constructor({ base, remote, workflow, secrets = {}, environments = {}, vars = {}, pagesUrl, shims, env = {}, log = () => {} }) {
    Object.assign(this, { base, remote, workflowPath: workflow, secrets, environments, vars, pagesUrl, shims, env, log });
    this.pages = join(base, "pages");
    this.artifacts = join(base, "artifacts");
    this.caches = join(base, "caches");
    this.groups = new Map();
    this.nextRun = 1000;
    /** Every artifact uploaded: its run, name and attempt. */
    this.uploads = [];
  }

  /** Starts a run of the workflow for an event on a commit; resolves with what each job did. */
  async run({ event, sha = git(this.remote, "rev-parse", "refs/heads/main"), ref = "refs/heads/main", inputs = {}, clock, kill, cancel, hold }) {
    const run = { id: String(this.nextRun++), attempt: 1, event, sha, ref, inputs, clock, jobs: {} };
    return this.execute(run, { kill, cancel, hold });
  }

  /**
   * "Re-run failed jobs": the same run and commit, the next attempt; the failed jobs run again, and so do the
   * jobs that depend on them, succeeded or not ("GitHub also re-runs the jobs that depend on them"); the others
   * keep their results and outputs.
   */
  async rerunFailed(previous, { clock, kill, hold } = {}) {
    const { jobs } = parse(await readFile(this.workflowPath, "utf8"));
    const again = (name) => previous.jobs[name]?.result !== "success" || [jobs[name]?.needs ?? []].flat().some(again);
    const run = { ...previous, attempt: previous.attempt + 1, clock: clock ?? previous.clock, jobs: {} };
    for (const [name, job] of Object.entries(previous.jobs)) if (!again(name)) run.jobs[name] = job;
    return this.execute(run, { kill, hold });
  }

  /** "Re-run all jobs": the same run and commit, the next attempt, every job run again; earlier attempts' artifacts stay. */
  async rerunAll(previous, { clock, kill, hold } = {}) {
    return this.execute({ ...previous, attempt: previous.attempt + 1, clock: clock ?? previous.clock, jobs: {} }, { kill, hold });
  }

  async execute(run, options) {
    const workflow = parse(await readFile(this.workflowPath, "utf8"));
    await this.installTools();
    const order = topological(workflow.jobs);
    for (const name of order) {
      if (run.jobs[name]?.result === "success") continue;
      const spec = workflow.jobs[name];
      const needs = [spec.needs ?? []].flat();
      const needsCtx = Object.fromEntries(needs.map((n) => [n, { result: run.jobs[n]?.result ?? "skipped", outputs: run.jobs[n]?.outputs ?? {} }]));
      // success() holds while every job upstream succeeded, not only those it needs: GitHub applies a failure or a skip to
      // the whole chain after it, past a job between that ran with always() (docs: jobs.<job_id>.needs).
      const status = upstream(workflow.jobs, name).every((n) => run.jobs[n]?.result === "success") ? "success" : "failure";
      const ctx = { status, contexts: this.contexts(run, { needs: needsCtx, inputs: run.inputs, env: workflow.env ?? {} }) };
      if (!condition(spec.if, ctx)) {
        run.jobs[name] = { result: "skipped", outputs: {}, steps: {} };
        this.log(`run ${run.id}.${run.attempt} ${name}: skipped`);
        continue;
      }
      const job = await this.inGroup(concurrencyOf(spec, ctx), `run ${run.id}.${run.attempt} ${name}`, options.hold?.[name], () => this.job(run, name, spec, needsCtx, workflow, options));
      run.jobs[name] = job;
      this.log(`run ${run.id}.${run.attempt} ${name}: ${job.result}`);
    }
    // The runs its jobs started with `gh workflow run`, each once this one is over.
    run.dispatched = [];
    const asked = join(this.base, "runs", `${run.id}-${run.attempt}`, "dispatches.jsonl");
    const lines = existsSync(asked) ? (await readFile(asked, "utf8")).split("\n").filter(Boolean) : [];
    for (const line of lines) {
      const { inputs } = JSON.parse(line);
      this.log(`run ${run.id}.${run.attempt} dispatched a run with ${JSON.stringify(inputs)}`);
      run.dispatched.push(await this.run({ event: "workflow_dispatch", inputs, clock: run.clock }));
    }
    return run;
  }

  /** The runner's own tools: `gh workflow run`, checked as the REST API checks a dispatch. */
  async installTools() {
    this.tools = join(this.base, "tools");
    await mkdir(this.tools, { recursive: true });
    await writeFile(join(this.tools, "gh"), GH);
    await chmod(join(this.tools, "gh"), 0o755);
  }

  /** What the REST API checks of a dispatch made in a job: the token, its permissions, the workflow's declared inputs. */
  async grant(run, workflow, permissions, home) {
    const dispatch = workflow.on?.workflow_dispatch;
    const file = join(home, "grant.json");
    await writeFile(
      file,
      JSON.stringify({
        token: this.contexts(run, {}).github.token,
        actions: permissions.actions ?? "none",
        repository: "owner/presswork",
        remote: this.remote,
        workflow: basename(this.workflowPath),
        inputs: dispatch === undefined ? null : (dispatch?.inputs ?? {}),
        dispatches: join(this.base, "runs", `${run.id}-${run.attempt}`, "dispatches.jsonl"),
      }),
    );
    return file;
  }

  /**
   * A job in its concurrency group, as GitHub runs one: one job of a group runs at a time, and one that comes
   * meanwhile waits, pending. With `queue: single` (the default) a group keeps one pending job, and a newer one
   * cancels it and takes its place; with `queue: max` up to 100 wait, and run in the order they came (a full
   * queue cancels the newcomer). A cancelled job is not run: its result is "cancelled". Group names are
   * case-insensitive.
   */
  async inGroup(concurrency, label, hold, work) {
    if (!concurrency) {
      await hold;
      return work();
    }
    const key = concurrency.group.toLowerCase();
    const state = this.groups.get(key) ?? { running: false, waiting: [] };
    this.groups.set(key, state);
    if (state.running) {
      const turn = await new Promise((resolve) => {
        if (concurrency.queue === "single") for (const pending of state.waiting.splice(0)) pending(false);
        if (state.waiting.length >= 100) return resolve(false);
        state.waiting.push(resolve);
        this.log(`${label}: pending in concurrency group ${concurrency.group}`);
      });
      if (!turn) return { result: "cancelled", outputs: {}, steps: {} };
    }
    state.running = true;
    this.log(`${label}: runs in concurrency group ${concurrency.group}`);
    try {
      await hold;
      return await work();
    } finally {
      const next = state.waiting.shift();
      if (next) next(true);
      else state.running = false;
    }
  }

  contexts(run, extra) {
    return {
      github: {
        sha: run.sha,
        ref: run.ref,
        event_name: run.event,
        run_id: run.id,
        run_attempt: String(run.attempt),
        repository: "owner/presswork",
        server_url: "https://github.com",
        token: "ghs_rehearsal-token",
        workspace: extra.workspace ?? "",
        job: extra.job ?? "",
      },
      secrets: { ...this.secrets, ...(extra.environment ? this.environments[extra.environment] : {}) },
      vars: this.vars,
      inputs: extra.inputs ?? {},
      needs: extra.needs ?? {},
      env: extra.env ?? {},
      steps: extra.steps ?? {},
      matrix: {},
      runner: { os: "Linux", temp: extra.temp ?? "" },
      job: { status: "success" },
    };
  }

  async job(run, name, spec, needs, workflow, options) {
    // The token's permissions: the job's, else the workflow's; with neither, the repository's default (read and write).
    const permissions = spec.permissions ?? workflow.permissions ?? { actions: "write", contents: "write" };
    const home = join(this.base, "runs", `${run.id}-${run.attempt}`, name);
    const workspace = join(home, "workspace");
    const temp = join(home, "temp");
    await mkdir(workspace, { recursive: true });
    await mkdir(temp, { recursive: true });
    const grant = await this.grant(run, workflow, permissions, home);
    const environment = typeof spec.environment === "string" ? spec.environment : spec.environment?.name;
    const steps = {};
    // What each run step printed, kept apart from `steps`, which expressions read and which hold no log on GitHub.
    const logs = {};
    let env = { ...(workflow.env ?? {}), ...(spec.env ?? {}) };
    let status = "success";
    /** Post steps of the actions that ran (actions/cache saves there), run last to first. */
    const posts = [];
    for (const [index, step] of (spec.steps ?? []).entries()) {
      const ctx = { status, contexts: this.contexts(run, { needs, inputs: run.inputs, env, steps, workspace, job: name, temp, environment }) };
      const id = step.id ?? `__${index}`;
      if (!condition(step.if, ctx)) {
        steps[id] = { outcome: "skipped", conclusion: "skipped", outputs: {} };
        continue;
      }
      const stepEnv = Object.fromEntries(Object.entries({ ...env, ...(step.env ?? {}) }).map(([k, v]) => [k, interpolate(String(v), ctx)]));
      const files = { output: join(temp, `output-${index}`), env: join(temp, `env-${index}`), summary: join(temp, "summary.md"), path: join(temp, `path-${index}`) };
      for (const f of [files.output, files.env, files.path]) await writeFile(f, "");
      const runnerEnv = {
        ...process.env,
        ...this.env,
        PATH: `${this.tools}:${this.shims}:${process.env.PATH}`,
        EMULATOR_GRANT: grant,
        CI: "true",
        GITHUB_ACTIONS: "true",
        GITHUB_SHA: run.sha,
        GITHUB_REF: run.ref,
        GITHUB_EVENT_NAME: run.event,
        GITHUB_RUN_ID: run.id,
        GITHUB_RUN_ATTEMPT: String(run.attempt),
        GITHUB_JOB: name,
        GITHUB_WORKSPACE: workspace,
        GITHUB_REPOSITORY: "owner/presswork",
        GITHUB_OUTPUT: files.output,
        GITHUB_ENV: files.env,
        GITHUB_PATH: files.path,
        GITHUB_STEP_SUMMARY: files.summary,
        RUNNER_TEMP: temp,
        REHEARSAL_CLOCK: run.clock,
        PRESSWORK_ROOT: "",
        ...stepEnv,
      };
      let outcome;
      let outputs = {};
      let log = "";
      try {
        if (step.uses) outputs = await this.action(step, ctx, { run, workspace, posts, permissions });
        else {
          const at = (k) => k.job === name && k.step === step.name && k.attempt === run.attempt;
          const kill = [options.kill ?? []].flat().find(at);
          const cancel = [options.cancel ?? []].flat().find(at);
          const { code, cancelled, out } = await this.bash(interpolate(step.run, ctx), step["working-directory"] ? join(workspace, step["working-directory"]) : workspace, runnerEnv, kill, cancel);
          log = out;
          if (cancelled) throw Object.assign(new Error("the run was cancelled"), { cancelled });
          if (code !== 0) throw new Error(`exit code ${code}`);
        }
        outcome = "success";
      } catch (error) {
        outcome = error.cancelled ? "cancelled" : "failure";
        this.log(`run ${run.id}.${run.attempt} ${name}: step ${step.name ?? step.uses} ${outcome === "cancelled" ? "cancelled" : `failed: ${error.message}`}`);
      }
      outputs = { ...outputs, ...parseCommandFile(await readFile(files.output, "utf8")) };
      env = { ...env, ...parseCommandFile(await readFile(files.env, "utf8")) };
      steps[id] = { outcome, conclusion: outcome, outputs };
      logs[id] = log;
      if (outcome === "failure" && !step["continue-on-error"] && status !== "cancelled") status = "failure";
      // A cancelled run runs only the steps whose condition says always() or cancelled().
      if (outcome === "cancelled") status = "cancelled";
    }
    for (const post of posts.reverse()) {
      try {
        await post(status);
      } catch (error) {
        this.log(`run ${run.id}.${run.attempt} ${name}: a post step failed: ${error.message}`);
      }
    }
    const ctx = { status, contexts: this.contexts(run, { needs, inputs: run.inputs, env, steps, workspace, job: name, temp, environment }) };
    const outputs = Object.fromEntries(Object.entries(spec.outputs ?? {}).map(([k, v]) => [k, interpolate(String(v), ctx)]));
    return { result: status, outputs, steps, logs, workspace };
  }

  /**
   * Runs a script as GitHub runs a `run:` step without `shell:` (bash -e), in a process group of its own.
   * `kill` SIGKILLs the group when its `when()` holds (a runner lost); `cancel` cancels the run as GitHub
   * does (docs: workflow cancellation reference): SIGINT to the step's entry process, the shell, alone;
   * SIGTERM to it 7.5 s later; the whole tree killed 2.5 s after that. A command the shell runs as its
   * child hears none of it unless the shell `exec`s it.
   */
  async bash(script, cwd, env, kill, cancel) {
    const file = join(env.RUNNER_TEMP, `step-${Date.now()}-${Math.random().toString(36).slice(2)}.sh`);
    await writeFile(file, script);
    return new Promise((resolve) => {
      const child = spawn("bash", ["-e", file], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      let timer;
      let cancelled = false;
      const later = [];
      const signal = (pid, name) => {
        try {
          process.kill(pid, name);
        } catch {}
      };
      if (kill || cancel) {
        timer = setInterval(() => {
          if (kill?.when()) {
            clearInterval(timer);
            signal(-child.pid, "SIGKILL");
          } else if (cancel?.when()) {
            clearInterval(timer);
            cancelled = true;
            signal(child.pid, "SIGINT");
            later.push(setTimeout(() => signal(child.pid, "SIGTERM"), 7500), setTimeout(() => signal(-child.pid, "SIGKILL"), 10_000));
          }
        }, 5);
      }
      child.on("close", (code, name) => {
        clearInterval(timer);
        later.forEach(clearTimeout);
        this.log(out.trim().split("\n").map((l) => `    | ${l}`).join("\n"));
        resolve({ code: name ? 128 + (name === "SIGKILL" ? 9 : name === "SIGINT" ? 2 : 15) : (code ?? 1), cancelled, out });
      });
    });
  }

  /** The local equivalents of the actions the workflows use. */
  async action(step, ctx, { run, workspace, posts, permissions }) {
    const name = step.uses.replace(/@.*$/, "");
    const input = (key, fallback) => (step.with && key in step.with ? interpolate(String(step.with[key]), ctx) : fallback);
    switch (name) {
      case "actions/checkout": {
        // Checks out github.sha unless `ref` is set, at depth 1; with persist-credentials false no token stays in .git/config.
        const ref = input("ref", "");
        const path = join(workspace, input("path", "."));
        await mkdir(path, { recursive: true });
        git(path, "init", "--quiet");
        git(path, "remote", "add", "origin", this.remote);
        git(path, "fetch", "--quiet", "--no-tags", "--depth", input("fetch-depth", "1"), "origin", ref || run.sha);
        git(path, "checkout", "--quiet", "--detach", "FETCH_HEAD");
        if (input("persist-credentials", "true") !== "false") git(path, "config", "http.https://github.com/.extraheader", "AUTHORIZATION: basic ***");
        return {};
      }
      case "actions/setup-node": {
        if (!/^(22|24)(\.|$)/.test(input("node-version", ""))) throw new Error(`setup-node asks for Node ${input("node-version", "")}, not 22 or 24`);
        return { "node-version": process.version };
      }
      case "actions/configure-pages": {
        const url = new URL(this.pagesUrl);
        return { base_url: this.pagesUrl.replace(/\/$/, ""), origin: url.origin, host: url.host, base_path: url.pathname.replace(/\/$/, "") };
      }
      case "actions/upload-pages-artifact": {
        // One artifact.tar of the folder; hidden files stay out unless include-hidden-files is set, as the action's tar does.
        const site = join(this.base, "tmp", `pages-${run.id}-${run.attempt}`);
        await rm(site, { recursive: true, force: true });
        await mkdir(site, { recursive: true });
        const from = join(workspace, input("path", "_site/"));
        await this.copyTree(from, site, input("include-hidden-files", "false") === "true");
        const to = this.newArtifact(run, input("name", "github-pages"));
        await mkdir(to, { recursive: true });
        execFileSync("tar", ["-cf", join(to, "artifact.tar"), "-C", site, "."]);
        await rm(site, { recursive: true, force: true });
        return {};
      }
      case "actions/deploy-pages": {
        // As v5 does: list the run's artifacts (every attempt's) and take the one with the name.
        const wanted = input("artifact_name", "github-pages");
        const found = this.uploads.filter((a) => a.runId === run.id && a.name === wanted);
        if (found.length === 0) throw new Error(`deploy-pages: No artifacts named "${wanted}" were found for this workflow run`);
        if (found.length > 1) throw new Error(`deploy-pages: Multiple artifacts named "${wanted}" were unexpectedly found for this workflow run. Artifact count is ${found.length}.`);
        await rm(this.pages, { recursive: true, force: true });
        await mkdir(this.pages, { recursive: true });
        execFileSync("tar", ["-xf", join(this.artifactDir(found[0]), "artifact.tar"), "-C", this.pages]);
        return { page_url: `${this.pagesUrl.replace(/\/$/, "")}/` };
      }
      case "actions/download-artifact": {
        // As v8 does: list the run's artifacts, keep the named one or those the pattern matches, download each.
        // Without github-token the internal API lists this run but has served only this attempt's artifacts
        // (actions/download-artifact#486, since July 2026), the failure modelled here; with it, the REST API
        // serves the whole run given by run-id.
        const token = input("github-token", "");
        if (token && token !== ctx.contexts.github.token) throw new Error("download-artifact: Bad credentials (401)");
        if (token && !["read", "write"].includes(permissions.actions)) throw new Error("download-artifact: Resource not accessible by integration (403): the job's permissions lack actions: read");
        const runId = token ? input("run-id", run.id) : run.id;
        const name = input("name", "");
        const pattern = input("pattern", "");
        const listed = this.uploads.filter((a) => a.runId === runId);
        let artifacts = listed;
        if (name) {
          // Two attempts' artifacts of one name: the newest.
          artifacts = listed.filter((a) => a.name === name).sort((a, b) => b.attempt - a.attempt).slice(0, 1);
          if (artifacts.length === 0) throw new Error(`download-artifact: Artifact '${name}' not found`);
        } else if (pattern) {
          const glob = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]")}$`);
          artifacts = listed.filter((a) => glob.test(a.name));
        }
        const path = join(workspace, input("path", "."));
        const merge = Boolean(name) || input("merge-multiple", "false") === "true" || artifacts.length === 1;
        for (const artifact of artifacts) {
          if (!token && artifact.attempt !== run.attempt) throw new Error("download-artifact: Failed to GetSignedArtifactURL: Received non-retryable error: Failed request: (404) Not Found: workflow run not found");
          const to = merge ? path : join(path, artifact.name);
          await mkdir(to, { recursive: true });
          await cp(this.artifactDir(artifact), to, { recursive: true });
        }
        this.log(`    | Total of ${artifacts.length} artifact(s) downloaded`);
        return { "download-path": path };
      }
      case "actions/cache":
      case "actions/cache/restore": {
        const key = input("key", "");
        const path = join(workspace, input("path", ""));
        const hit = await this.restoreCache(key, input("restore-keys", "").split("\n").map((k) => k.trim()).filter(Boolean), path);
        if (name === "actions/cache") {
          posts.push(async (status) => {
            if (status === "success" && hit !== key) await this.saveCache(key, path);
          });
        }
        return { "cache-hit": String(hit === key), ...(hit ? { "cache-matched-key": hit } : {}) };
      }
      case "actions/cache/save": {
        await this.saveCache(input("key", ""), join(workspace, input("path", "")));
        return {};
      }
      case "actions/upload-artifact": {
        const found = await this.store(run, input("name", "artifact"), join(workspace, input("path", "")), workspace, input("include-hidden-files", "false") === "true");
        if (found === 0 && input("if-no-files-found", "warn") === "error") throw new Error("upload-artifact: no files found");
        return {};
      }
      default:
        throw new Error(`no local equivalent of the action ${name}`);
    }
  }

  /** Restores the cache saved under `key`, or else the newest whose key starts with a restore key; returns the key restored. */
  async restoreCache(key, restoreKeys, path) {
    if (!existsSync(this.caches)) return undefined;
    const saved = [];
    for (const name of await readdir(this.caches)) saved.push({ key: decodeURIComponent(name), time: (await stat(join(this.caches, name))).mtimeMs, dir: join(this.caches, name) });
    saved.sort((a, b) => b.time - a.time);
    const found = saved.find((c) => c.key === key) ?? restoreKeys.map((prefix) => saved.find((c) => c.key.startsWith(prefix))).find(Boolean);
    if (!found) return undefined;
    await rm(path, { recursive: true, force: true });
    await cp(found.dir, path, { recursive: true });
    return found.key;
  }

  /** Saves `path` under `key`; a key already saved is kept as it is (caches are immutable). */
  async saveCache(key, path) {
    const dir = join(this.caches, encodeURIComponent(key));
    if (existsSync(dir) || !existsSync(path)) return;
    await mkdir(this.caches, { recursive: true });
    await cp(path, dir, { recursive: true });
  }

  /** Copies a folder as an upload would take it: hidden files (a path component starting with a dot) only when asked. */
  async copyTree(from, to, hidden) {
    if (!existsSync(from)) return;
    for (const entry of await readdir(from, { withFileTypes: true })) {
      if (!hidden && entry.name.startsWith(".")) continue;
      const source = join(from, entry.name);
      if (entry.isDirectory()) {
        await mkdir(join(to, entry.name), { recursive: true });
        await this.copyTree(source, join(to, entry.name), hidden);
      } else await cp(source, join(to, entry.name));
    }
  }

  /** Where an artifact's files are kept. */
  artifactDir({ runId, attempt, name }) {
    return join(this.artifacts, runId, String(attempt), name);
  }

  /** Records a new artifact of this attempt and returns its folder; a name this attempt already uploaded is refused, as GitHub does. */
  newArtifact(run, name) {
    if (this.uploads.some((a) => a.runId === run.id && a.attempt === run.attempt && a.name === name)) {
      throw new Error("upload-artifact: Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact with this name already exists on the workflow run");
    }
    const artifact = { runId: run.id, name, attempt: run.attempt };
    this.uploads.push(artifact);
    return this.artifactDir(artifact);
  }

  /** Keeps the files under `from` as an artifact of the run (none when there are none); returns how many. Hidden means a path component, from the workspace down, starting with a dot. */
  async store(run, name, from, workspace, hidden) {
    const files = [];
    const walk = async (dir) => {
      if (!existsSync(dir)) return;
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (!hidden && relative(workspace, path).split("/").some((part) => part.startsWith("."))) continue;
        if (entry.isDirectory()) await walk(path);
        else files.push(relative(from, path));
      }
    };
    await walk(from);
    if (files.length === 0) return 0;
    const to = this.newArtifact(run, name);
    for (const file of files) {
      await mkdir(dirname(join(to, file)), { recursive: true });
      await cp(join(from, file), join(to, file));
    }
    return files.length;
  }

}

/** The runner's `gh`, for `gh workflow run`: a dispatch is recorded for the emulator to run, or refused as the REST API refuses it. */
const GH = `#!/usr/bin/env node
const { execFileSync } = require("node:child_process");
const { appendFileSync, readFileSync } = require("node:fs");
const fail = (message, code = 1) => {
  process.stderr.write(message + "\\n");
  process.exit(code);
};
const args = process.argv.slice(2);
if (args[0] !== "workflow" || args[1] !== "run" || !args[2]) fail("gh " + args.join(" ") + ": not available in the emulator", 127);
const token = process.env.GH_TOKEN || process.env.GITHUB_TOKEN;
if (!token) fail("gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment variable. Example:\\n  env:\\n    GH_TOKEN: \${{ github.token }}", 4);
let repo = process.env.GH_REPO;
let ref;
const given = {};
for (let i = 3; i < args.length; i++) {
  const arg = args[i];
  if (arg === "--ref" || arg === "-r") ref = args[++i];
  else if (arg === "--repo" || arg === "-R") repo = args[++i];
  else if (arg === "-f" || arg === "--raw-field" || arg === "-F" || arg === "--field") {
    const field = args[++i] || "";
    given[field.slice(0, field.indexOf("="))] = field.slice(field.indexOf("=") + 1);
  } else fail("unknown argument " + arg);
}
// Without a checkout there is no git remote to take the repository from.
if (!repo) fail("failed to run git: fatal: not a git repository (or any of the parent directories): .git");
const grant = JSON.parse(readFileSync(process.env.EMULATOR_GRANT, "utf8"));
if (token !== grant.token) fail("HTTP 401: Bad credentials");
if (repo !== grant.repository) fail("HTTP 404: Not Found (" + repo + ")");
if (args[2] !== grant.workflow) fail("could not find any workflows named " + args[2]);
if (grant.actions !== "write") fail("could not create workflow dispatch event: HTTP 403: Resource not accessible by integration");
if (grant.inputs === null) fail("could not create workflow dispatch event: HTTP 422: Workflow does not have 'workflow_dispatch' trigger");
const exists = (name) => {
  try {
    execFileSync("git", ["--git-dir", grant.remote, "rev-parse", "--verify", "--quiet", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
if (!ref || !["refs/heads/", "refs/tags/"].some((prefix) => exists(prefix + ref))) fail("could not create workflow dispatch event: HTTP 422: No ref found for: " + ref);
const inputs = {};
for (const [name, spec] of Object.entries(grant.inputs)) inputs[name] = spec && spec.default !== undefined ? String(spec.default) : "";
for (const [name, value] of Object.entries(given)) {
  const spec = grant.inputs[name];
  if (spec === undefined) fail("could not create workflow dispatch event: HTTP 422: Unexpected inputs provided: [\\"" + name + "\\"]");
  if (spec && spec.type === "choice" && !spec.options.includes(value)) fail("could not create workflow dispatch event: HTTP 422: Provided value '" + value + "' for input '" + name + "' not in the list of allowed values");
  inputs[name] = value;
}
appendFileSync(grant.dispatches, JSON.stringify({ ref, inputs }) + "\\n");
process.stdout.write("✓ Created workflow_dispatch event for " + args[2] + " at " + ref + "\\n");
`;

/** Reads $GITHUB_OUTPUT or $GITHUB_ENV: `name=value` lines and `name<<DELIMITER` blocks. */
function parseCommandFile(content) {
  const out = {};
  const lines = content.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const block = /^([^=<]+)<<(.+)$/.exec(line);
    if (block) {
      const body = [];
      for (i++; i < lines.length && lines[i] !== block[2]; i++) body.push(lines[i]);
      out[block[1]] = body.join("\n");
    } else if (line.includes("=")) out[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
  }
  return out;
}

function topological(jobs) {
  const order = [];
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const need of [jobs[name].needs ?? []].flat()) visit(need);
    order.push(name);
  };
  for (const name of Object.keys(jobs)) visit(name);
  return order;
}
