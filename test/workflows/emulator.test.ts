import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

interface Step {
  uses: string;
  with: Record<string, unknown>;
}
interface Emulator {
  uploads: Map<string, number>;
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
  await mkdir(join(base, "artifacts/1000/send-state-1000-1/attempts/a"), { recursive: true });
  await writeFile(join(base, "artifacts/1000/send-state-1000-1/attempts/a/ledger.txt"), "x\n");
  github.uploads.set("1000/send-state-1000-1", 1);
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
