import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { initRepo } from "../helpers/git.js";
import { removeProjects, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

describe("presswork state, set up wrong", () => {
  it("says a project outside git has no state branch to fetch or save (exit 3), and shows that it has none", async () => {
    const root = await tempProject();
    for (const action of ["fetch", "save"]) {
      const result = runCli(["state", action], root);
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toMatch(new RegExp(`is not in a git repository, so there is no state branch to ${action}: run it in the project's clone \\[state-setup\\]`));
    }
    const shown = runCli(["state", "show"], root);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain("is not in a git repository: no state branch");
  });

  it("names a state remote the repository does not have as a setting to fix (exit 3), not an outage to wait out", async () => {
    const root = await tempProject();
    initRepo(root);
    const result = runCli(["state", "show"], root, { PRESSWORK_STATE_REMOTE: "nosuch" });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/the state's remote "nosuch" is not a remote of this repository .*\[state-setup\]/);
    expect(result.stderr).not.toContain("Run the same send again");
  });
});
