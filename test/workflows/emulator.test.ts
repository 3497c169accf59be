import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

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
    const dir = await mkdtemp(join(base, "dispatch-"));
    const remote = join(dir, "remote.git");
    const work = join(dir, "work");
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", remote]);
    execFileSync("git", ["init", "--quiet", "--initial-branch=main", work]);
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "--allow-empty", "-m", "x"], { cwd: work });
    execFileSync("git", ["push", "--quiet", remote, "main"], { cwd: work });
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
