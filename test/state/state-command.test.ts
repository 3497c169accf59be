import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { openStore, stateSettings, takeLock } from "../../src/state/state.js";
import type { LockRecord, Shard } from "../../src/state/store.js";
import { runCliHere } from "../helpers/cli.js";
import { initRepo } from "../helpers/git.js";
import { removeProjects, tempProject } from "../helpers/project.js";
import { stateBackends } from "../helpers/state.js";

afterAll(removeProjects);

describe("presswork state, set up wrong", () => {
  it("says a project outside git has no state branch to fetch or save (exit 3), and shows that it has none", async () => {
    const root = await tempProject();
    for (const action of ["fetch", "save"]) {
      const result = await runCliHere(["state", action], root);
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toMatch(new RegExp(`is not in a git repository, so there is no state branch to ${action}: run it in the project's clone \\[state-setup\\]`));
    }
    const shown = await runCliHere(["state", "show"], root);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain("is not in a git repository: no state branch");
  });

  it("names a state remote the repository does not have as a setting to fix (exit 3), not an outage to wait out", async () => {
    const root = await tempProject();
    initRepo(root);
    const result = await runCliHere(["state", "show"], root, { PRESSWORK_STATE_REMOTE: "nosuch" });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/the state's remote "nosuch" is not a remote of this repository .*\[state-setup\]/);
    expect(result.stderr).not.toContain("Run the same send again");
  });
});

for (const backend of await stateBackends("presswork state runs tests")) {
  describe(`presswork state runs, with the state in ${backend.name}`, () => {
    it("names the other GitHub runs whose sends of this shard, or of the whole list, still hold a lock", async () => {
      const root = await tempProject();
      initRepo(root);
      const env = await backend.env("runs");
      const { config } = await loadConfig(root);
      if (!config) throw new Error("the sample config did not load");
      const store = await openStore(root, stateSettings(config, env), { ...process.env, ...env });
      if (!store) throw new Error("no state store");
      const at = new Date().toISOString();
      const lock = (runId: string, shard: Shard): LockRecord => ({ issue: 3, attempt: { name: `gh-${runId}-1-send-s${shard.index}`, started: at, host: "runner", pid: 1, github: { runId, runAttempt: 1, job: "send" } }, since: at, heartbeat: at, shard });
      await takeLock(store, lock("900", { index: 1, count: 2 }), () => new Date());
      await takeLock(store, lock("901", { index: 2, count: 2 }), () => new Date());
      await store.close();
      const runs = async (run: string, ...shard: string[]) => await runCliHere(["state", "runs", ...shard], root, { ...env, GITHUB_RUN_ID: run });
      expect(await runs("950", "--shard", "1/2")).toMatchObject({ code: 0, stdout: "900\n" });
      expect(await runs("950", "--shard", "2/2")).toMatchObject({ code: 0, stdout: "901\n" });
      // An unsharded send, this run's own shard, and another split's shard have none to restore.
      expect(await runs("950")).toMatchObject({ code: 0, stdout: "" });
      expect(await runs("900", "--shard", "1/2")).toMatchObject({ code: 0, stdout: "" });
      expect(await runs("950", "--shard", "1/3")).toMatchObject({ code: 0, stdout: "" });
      const misused = await runCliHere(["state", "show", "--shard", "1/2"], root, env);
      expect(misused.code).toBe(2);
      expect(misused.stderr).toContain("--shard is for presswork state runs, not show");
      expect((await runCliHere(["state", "runs", "--shard", "3/2"], root, env)).stderr).toContain('--shard is "3/2": write it as i/N with 1 <= i <= N');
    });
  });
}
