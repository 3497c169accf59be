import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Journal } from "../../src/state/journal.js";

describe("a journal restored on another machine", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "presswork-journal-"));
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await rm(root, { recursive: true, force: true });
  });

  const restored = (runAttempt: number) =>
    Journal.create(root, { issue: 3, attempt: { name: `20261130T071705Z.gh-812-${runAttempt}-send`, started: "2026-11-30T07:17:05Z", host: "fv-az-elsewhere", pid: 1, github: { runId: "812", runAttempt, job: "send" } } });
  const onGitHub = (runId: string, runAttempt: string, job = "send") => {
    vi.stubEnv("GITHUB_ACTIONS", "true");
    vi.stubEnv("GITHUB_RUN_ID", runId);
    vi.stubEnv("GITHUB_RUN_ATTEMPT", runAttempt);
    vi.stubEnv("GITHUB_JOB", job);
  };

  it("is over in a later attempt of the same run's job, whose runner restored it from the artifact: its state is saved", () => {
    const journal = restored(1);
    onGitHub("812", "2");
    expect(journal.over).toBe(true);
  });

  it("is over in the same job of another run, which restored it from the artifact of a run whose send stopped without saving", () => {
    const journal = restored(2);
    onGitHub("813", "1");
    expect(journal.over).toBe(true);
  });

  it("is not over in its own attempt or another job, nor outside GitHub Actions", () => {
    const journal = restored(2);
    onGitHub("812", "2");
    expect(journal.over).toBe(false);
    onGitHub("813", "1", "websub");
    expect(journal.over).toBe(false);
    onGitHub("812", "3", "websub");
    expect(journal.over).toBe(false);
    vi.unstubAllEnvs();
    vi.stubEnv("GITHUB_ACTIONS", "");
    expect(journal.over).toBe(false);
  });
});
