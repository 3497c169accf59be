import { describe, expect, it } from "vitest";

interface IssueCopies {
  missing: number;
  duplicates: number;
  subject: string;
  link: string;
  linkResolves: boolean;
  inFeed: boolean;
}
interface Rehearsal {
  subscribers: number;
  issues: Record<string, IssueCopies>;
  runs: {
    first: { send: string; websub: string; killedAt: number; webBeforeSend: boolean; sendFoundBuildCache?: string; sendRendered?: string };
    pushed: { build: string; deploy: string; send: string };
    rerun: { send: string; websub: string; build: boolean; pushedArticleKept: boolean; sendFoundBuildCache?: string; sendRendered?: string; republished: Array<Record<string, string>> };
    firstRepublished: string[];
    second: { send: string; killedAt: number; rerun: { build: string; deploy: string; send: string } };
    together: { scheduled: string; manual: string };
    refused: { send: string; sent: number; rerun: string };
    stopped: { send: string; sent: number; nextDay: string };
  };
  mainAuthors: string[];
  stateBranch: boolean;
}

// scripts/ is plain JavaScript run by npm run rehearse; a path in a variable keeps the type checker out of it.
const script = "../../scripts/rehearse.js";
const { rehearse } = (await import(script)) as { rehearse: (options?: { subscribers?: number }) => Promise<Rehearsal> };

describe("publish.yml, run with GitHub's semantics against a protected main and a loopback SMTP server", () => {
  it("mails each subscriber each issue once: through kills, re-runs of the failed jobs and of every job on the same commit, an editor's push between, two runs of one commit at once, and a state branch that refused pushes, with a re-run after and without", async () => {
    const result = await rehearse({ subscribers: 300 });
    const { first, pushed, rerun, second, together, refused, stopped } = result.runs;
    // Monday's send was killed half way; its issue's web version was already deployed.
    expect(first.send).toBe("failure");
    expect(first.killedAt).toBeGreaterThanOrEqual(150);
    expect(first.killedAt).toBeLessThan(300);
    expect(first.webBeforeSend).toBe(true);
    // The send job assembled the issue from what the build job had rendered and saved: it rendered no article itself.
    expect(first.sendFoundBuildCache).toBe("true");
    expect(first.sendRendered).toBe("");
    // The editor's push built and deployed, and sent nothing.
    expect(pushed).toEqual({ build: "success", deploy: "success", send: "skipped" });
    // "Re-run failed jobs" re-ran the send alone, on the first run's commit, and finished the issue; the
    // WebSub job, killed too, read the site the first attempt uploaded.
    expect(first.websub).toBe("failure");
    expect(rerun).toMatchObject({ send: "success", websub: "success", build: true, pushedArticleKept: true, sendFoundBuildCache: "true", sendRendered: "" });
    // Once the issue was out, the send started a publish-only run, which built and deployed the site again; so did the killed one.
    expect(rerun.republished).toEqual([{ event: "workflow_dispatch", mode: "publish", build: "success", deploy: "success", send: "skipped", websub: "success" }]);
    expect(result.runs.firstRepublished).toEqual(["publish"]);
    // "Re-run all jobs" built the site again beside the first attempt's artifact, deployed it, and finished the issue.
    expect(second).toMatchObject({ send: "failure", rerun: { build: "success", deploy: "success", send: "success" } });
    expect(second.killedAt).toBeGreaterThanOrEqual(150);
    expect(together).toEqual({ scheduled: "success", manual: "success" });
    // While the state branch refused pushes the send mailed, then failed to save; the re-run restored its journal first.
    expect(refused).toMatchObject({ send: "failure", rerun: "success" });
    expect(refused.sent).toBeGreaterThan(0);
    // The same, with no re-run: the next day's scheduled run restored the stopped run's journal from its artifact
    // first. (Here it comes seconds later and would meet that run's lock without it; a day later it would take
    // the lock over and mail again everyone the stopped run mailed.)
    expect(stopped).toMatchObject({ send: "failure", nextDay: "success" });
    expect(stopped.sent).toBeGreaterThan(0);
    for (const [issue, copies] of Object.entries(result.issues)) {
      expect(copies.missing, `issue #${issue}`).toBe(0);
      // A message in flight when the send was killed goes again: at most one per connection (5).
      expect(copies.duplicates, `issue #${issue}`).toBeLessThanOrEqual(issue === "5" || issue === "6" || issue === "7" ? 0 : 5);
      expect(copies.link).toBe(`https://signal-noise.example/issues/${issue}/`);
      expect(copies.linkResolves, `issue #${issue}'s web version`).toBe(true);
      expect(copies.inFeed, `issue #${issue} in the deployed issues feed once its send was over`).toBe(true);
    }
    // Issue #3 stayed what it was when its send began: the article the editor pushed between went into #4.
    expect(result.issues["3"]?.subject).toBe("Signal & Noise #3: A Community Fab Tapes Out Its First Open-Source RISC-V Chip and 3 more");
    expect(result.issues["4"]?.subject).toBe("Signal & Noise #4: An Exchange Goes Dark for Six Hours");
    // Main stayed protected: only the editor's commits are on it; the state went to its own branch.
    expect(result.mainAuthors).toEqual(["Editor"]);
    expect(result.stateBranch).toBe(true);
  }, 300_000);
});
