import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Git } from "../../src/state/git.js";
import { GitBranchStore } from "../../src/state/git-store.js";
import { encodeEvent, encodeHeader, Ledger } from "../../src/state/ledger.js";
import type { LockRecord, StateChange, StateSummary } from "../../src/state/store.js";
import { git, gitWith } from "../helpers/git.js";

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function temp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "presswork-store-"));
  dirs.push(dir);
  return dir;
}

/** A bare repository standing in for GitHub, and `n` clones of it with a commit on main. */
async function remoteAndClones(n: number): Promise<{ remote: string; clones: string[] }> {
  const base = await temp();
  const remote = join(base, "remote.git");
  git(base, "init", "--quiet", "--bare", "--initial-branch=main", remote);
  const seed = join(base, "seed");
  git(base, "init", "--quiet", "--initial-branch=main", seed);
  await writeFile(join(seed, "README.md"), "project\n");
  git(seed, "add", ".");
  git(seed, "commit", "--quiet", "-m", "Project");
  git(seed, "push", "--quiet", remote, "main");
  const clones = [];
  for (let i = 0; i < n; i++) {
    const clone = join(base, `clone-${i}`);
    git(base, "clone", "--quiet", remote, clone);
    clones.push(clone);
  }
  return { remote, clones };
}

const open = async (root: string, remote?: string) => (await GitBranchStore.open({ root, branch: "presswork-state", ...(remote ? { remote } : {}), env: process.env })) as GitBranchStore;
const lockOf = (issue: number, attempt: string): LockRecord => ({ issue, attempt: { name: attempt, started: "2026-11-30T07:17:00.000Z", host: "test", pid: 1 }, since: "2026-11-30T07:17:00.000Z", heartbeat: "2026-11-30T07:17:00.000Z" });
const key = (i: number) => i.toString(16).padStart(24, "0");
const ledgerPart = (issue: number, attempt: string, offset: number, keys: number[]): StateChange => ({
  kind: "ledger",
  part: { issue, attempt, offset, text: `${encodeHeader({ issue, attempt, started: "2026-11-30T07:17:00.000Z", offset })}\n${keys.map((k) => encodeEvent({ key: key(k), state: "sent", attempt: 1, seconds: 1, code: 250 })).join("\n")}\n` },
});

describe("the state on a git branch", () => {
  it("refuses to write to a branch checked out in a work tree (main, or another work tree's), and still reads it", async () => {
    const { clones } = await remoteAndClones(1);
    const root = clones[0] as string;
    git(root, "worktree", "add", "--quiet", "-b", "drafts", join(root, "..", "drafts"));
    const before = [git(root, "status", "--porcelain"), git(root, "rev-parse", "main"), git(root, "rev-parse", "drafts")];
    for (const branch of ["main", "drafts"]) {
      const store = (await GitBranchStore.open({ root, branch, env: process.env })) as GitBranchStore;
      const refused = { id: "state-setup", message: expect.stringMatching(new RegExp(`the state branch ${branch} is the branch checked out in .*${branch === "main" ? "clone-0" : "drafts"}`)) };
      await expect(store.write([ledgerPart(3, "a", 0, [1])], "a write")).rejects.toMatchObject(refused);
      await expect(store.summary()).resolves.toMatchObject({ issues: [] });
    }
    expect([git(root, "status", "--porcelain"), git(root, "rev-parse", "main"), git(root, "rev-parse", "drafts")]).toEqual(before);
  });

  it("is written without touching the editor's working tree, index or checked-out branch", async () => {
    const { clones } = await remoteAndClones(1);
    const root = clones[0] as string;
    await writeFile(join(root, "README.md"), "an edit not committed\n");
    await writeFile(join(root, "staged.md"), "staged\n");
    git(root, "add", "staged.md");
    const before = [git(root, "status", "--porcelain"), git(root, "rev-parse", "HEAD"), git(root, "symbolic-ref", "HEAD")];
    const store = await open(root);
    await store.write([ledgerPart(3, "a", 0, [1, 2])], "a write");
    expect([git(root, "status", "--porcelain"), git(root, "rev-parse", "HEAD"), git(root, "symbolic-ref", "HEAD")]).toEqual(before);
    expect(git(root, "ls-tree", "-r", "--name-only", "presswork-state")).toBe("README.md\nledger/3/a/000000000000.ledger");
    // Local only: nothing was pushed, and no ref but the branch was made.
    expect(git(root, "ls-remote", "origin")).not.toContain("presswork-state");
    expect(git(root, "for-each-ref", "--format=%(refname)")).toBe("refs/heads/main\nrefs/heads/presswork-state\nrefs/remotes/origin/HEAD\nrefs/remotes/origin/main");
    // A write that changes nothing adds no commit.
    const tip = git(root, "rev-parse", "presswork-state");
    await store.write([ledgerPart(3, "a", 0, [1, 2])], "the same write");
    expect(git(root, "rev-parse", "presswork-state")).toBe(tip);
  });

  it("loses no write when two machines write at once: a push that lost the race is rebuilt on the new tip", async () => {
    const { remote, clones } = await remoteAndClones(2);
    const [a, b] = await Promise.all(clones.map((c) => open(c, "origin")));
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        Promise.all([(a as GitBranchStore).write([ledgerPart(3, "attempt-a", i * 100, [i])], `a ${i}`), (b as GitBranchStore).write([ledgerPart(3, "attempt-b", i * 100, [100 + i])], `b ${i}`)]),
      ),
    );
    const check = clones[0] as string;
    const fresh = await open(check, remote);
    await fresh.refresh();
    const ledger = await Ledger.read(3, fresh.ledger(3));
    expect(ledger.size).toBe(12);
    expect(git(check, "ls-tree", "-r", "--name-only", "refs/presswork/remote/presswork-state", "ledger/3").split("\n")).toHaveLength(12);
  });

  it("builds a write on what another writer saved since this store's last write, with a remote and without", async () => {
    const { clones } = await remoteAndClones(2);
    const [a, b] = clones as [string, string];
    for (const [first, second, remote] of [
      [await open(a, "origin"), await open(b, "origin"), true],
      [await open(a), await open(a), false],
    ] as const) {
      const issue = remote ? 4 : 5;
      await first.write([ledgerPart(issue, "one", 0, [1])], "first");
      await second.write([ledgerPart(issue, "two", 0, [2])], "second");
      await first.write([ledgerPart(issue, "one", 100, [3])], "first again");
      // Pushed, the commit is the local branch too.
      if (remote) expect(git(a, "rev-parse", "presswork-state")).toBe(git(a, "rev-parse", "refs/presswork/remote/presswork-state"));
      await first.refresh();
      expect((await Ledger.read(issue, first.ledger(issue))).size).toBe(3);
    }
  });

  it("decides a write on the newest state, not on this store's last write: a lock released since does not refuse it", async () => {
    const { clones } = await remoteAndClones(2);
    const [a, b] = clones as [string, string];
    const [mine, theirs] = [await open(a, "origin"), await open(b, "origin")];
    const lock = lockOf(6, "theirs");
    await theirs.write([{ kind: "lock", lock }], "their lock");
    await mine.write([ledgerPart(6, "mine", 0, [1])], "a write that sees their lock");
    await theirs.write([{ kind: "unlock", issue: 6, attempt: "theirs" }], "their lock released");
    const take = (summary: StateSummary): StateChange[] => {
      if (summary.locks.some((l) => l.issue === 6)) throw new Error("issue 6 is locked");
      return [{ kind: "lock", lock: lockOf(6, "mine") }];
    };
    await mine.write(take, "my lock");
    await theirs.refresh();
    expect((await theirs.summary()).locks.map((l) => l.attempt.name)).toEqual(["mine"]);
    // Nor does a write that would change nothing on its last write, but does on the newest state.
    await theirs.write([{ kind: "lock", lock: lockOf(7, "theirs") }], "their other lock");
    await mine.write((summary) => (summary.locks.some((l) => l.issue === 7) ? [{ kind: "unlock", issue: 7, attempt: "theirs" }] : []), "take over their other lock");
    await theirs.refresh();
    expect((await theirs.summary()).locks.map((l) => l.issue)).toEqual([6]);
  });

  it("names git's reason when a save cannot be made, and leaves no crash report in the repository", async () => {
    const root = await temp();
    git(root, "init", "--quiet", "--initial-branch=main");
    git(root, "commit", "--quiet", "--allow-empty", "-m", "Project");
    const store = await open(root);
    await store.write([ledgerPart(3, "a", 0, [1])], "a write");
    // The commit the store would build on is lost.
    const tip = git(root, "rev-parse", "presswork-state");
    await rm(join(root, ".git/objects", tip.slice(0, 2), tip.slice(2)));
    await expect(store.write([ledgerPart(3, "a", 100, [2])], "the next write")).rejects.toThrow(`git fast-import failed: fatal: Not a valid commit: ${tip}`);
    expect((await readdir(join(root, ".git"))).filter((name) => name.startsWith("fast_import_crash"))).toEqual([]);
  });

  it("cannot be saved to a remote whose rules refuse it: a setting to fix, naming the rule, not a retry", async () => {
    const { remote, clones } = await remoteAndClones(1);
    // What GitHub prints for a ruleset on the branch, blank "remote:" lines and all.
    const ruleset = ["", "error: GH013: Repository rule violations found for refs/heads/presswork-state.", "", "- Cannot update this protected ref.", ""];
    await writeFile(join(remote, "hooks/pre-receive"), `#!/bin/sh\n${ruleset.map((l) => `echo '${l}' >&2`).join("\n")}\nexit 1\n`);
    await chmod(join(remote, "hooks/pre-receive"), 0o755);
    const store = await open(clones[0] as string, "origin");
    const refused = store.write([ledgerPart(3, "a", 0, [1])], "refused");
    await expect(refused).rejects.toMatchObject({ id: "state-setup" });
    await expect(refused).rejects.toThrow(/GH013: Repository rule violations found for refs\/heads\/presswork-state\. - Cannot update this protected ref\..*Leave presswork-state out of the branch protection and rulesets/);
  });

  it("takes a push the server refused because another writer moved the branch meanwhile as a race, and pushes again", async () => {
    const { remote, clones } = await remoteAndClones(1);
    const store = await open(clones[0] as string, "origin");
    await store.write([ledgerPart(3, "a", 0, [1])], "first");
    // While each of the next three pushes is received, another writer's commit lands: the server cannot move the
    // ref from where the push expected it ("[remote rejected] (failed to update ref)"), as GitHub does for shards.
    const hook = [
      "#!/bin/sh",
      'n=$(cat "$GIT_DIR/moved" 2>/dev/null || echo 0)',
      '[ "$n" -ge 3 ] && exit 0',
      'echo $((n + 1)) > "$GIT_DIR/moved"',
      "unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES",
      "export GIT_AUTHOR_NAME=Other GIT_AUTHOR_EMAIL=other@example.org GIT_COMMITTER_NAME=Other GIT_COMMITTER_EMAIL=other@example.org",
      "while read old new ref; do",
      '  moved=$(git commit-tree -p "$old" -m "another shard" "$old^{tree}")',
      '  git update-ref "$ref" "$moved" "$old"',
      "done",
    ];
    await writeFile(join(remote, "hooks/pre-receive"), `${hook.join("\n")}\n`);
    await chmod(join(remote, "hooks/pre-receive"), 0o755);
    await store.write([ledgerPart(3, "a", 1, [2])], "second");
    const log = git(remote, "log", "--format=%s", "presswork-state").split("\n");
    expect(log.filter((s) => s === "another shard")).toHaveLength(3);
    expect(log[0]).toBe("second");
  });

  it("sends the token as the one Authorization header, also after a checkout that kept its own credentials", async () => {
    const seen: number[] = [];
    const fixture = (name: string) => readFile(join(import.meta.dirname, "../fixtures/webhooks", name));
    const server = createServer({ cert: await fixture("sns-test-cert.pem"), key: await fixture("sns-test-key.pem") }, (request, response) => {
      const headers = request.headersDistinct["authorization"] ?? [];
      seen.push(headers.length);
      // As GitHub answers two.
      response.writeHead(headers.length > 1 ? 400 : 404).end(headers.length > 1 ? 'Duplicate header: "Authorization"' : "");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { clones } = await remoteAndClones(1);
      const root = clones[0] as string;
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      git(root, "remote", "set-url", "origin", `${url}/o/r.git`);
      // What actions/checkout leaves in the clone with persist-credentials (its default).
      git(root, "config", "--local", `http.${url}/.extraheader`, `AUTHORIZATION: basic ${Buffer.from("x-access-token:ghs_checkout").toString("base64")}`);
      const store = (await GitBranchStore.open({ root, branch: "presswork-state", remote: "origin", token: "ghs_presswork", env: { ...process.env, GIT_SSL_NO_VERIFY: "true" } })) as GitBranchStore;
      await expect(store.refresh()).rejects.toMatchObject({ id: "state-save" });
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((n) => n === 1), `Authorization headers per request: ${seen.join(", ")}`).toBe(true);
    } finally {
      server.close();
    }
  });

  it("names the server's reason when it cannot move the ref for a reason of its own, not another writer", async () => {
    const { remote, clones } = await remoteAndClones(1);
    const store = await open(clones[0] as string, "origin");
    await store.write([ledgerPart(3, "a", 0, [1])], "first");
    // A lock file left by a crashed process on the server: no retry moves it.
    await writeFile(join(remote, "refs/heads/presswork-state.lock"), "");
    const refused = store.write([ledgerPart(3, "a", 1, [2])], "second");
    await expect(refused).rejects.toMatchObject({ id: "state-save" });
    await expect(refused).rejects.toThrow(/cannot save the state on the git branch presswork-state of origin: .*presswork-state\.lock.*File exists/);
  });

  it("never shows a token written into the remote's URL", async () => {
    const { clones } = await remoteAndClones(1);
    const store = await open(clones[0] as string, "https://x-access-token:ghs_secret123@127.0.0.1:9/o/r.git");
    expect(store.description).toBe("the git branch presswork-state of https://127.0.0.1:9/o/r.git");
    const error = await store.refresh().then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/^cannot fetch the state branch presswork-state from https:\/\/127\.0\.0\.1:9\/o\/r\.git: /);
    expect(error?.message).not.toContain("ghs_secret123");
  });

  it("still counts the events of a ledger part deleted from the branch, and says so; the other attempts' parts count too", async () => {
    const { remote, clones } = await remoteAndClones(1);
    const root = clones[0] as string;
    const store = await open(root, "origin");
    await store.write([ledgerPart(3, "20261130T071700Z.first", 0, [1, 2, 3])], "first attempt");
    await store.write([ledgerPart(3, "20261130T081700Z.second", 0, [4, 5])], "second attempt");
    // Someone deletes the first attempt's part on GitHub.
    const editor = join(await temp(), "editor");
    git(root, "clone", "--quiet", "--branch", "presswork-state", remote, editor);
    git(editor, "rm", "--quiet", "ledger/3/20261130T071700Z.first/000000000000.ledger");
    git(editor, "commit", "--quiet", "-m", "Tidy up");
    git(editor, "push", "--quiet", "origin", "presswork-state");
    const reader = await open(root, "origin");
    await reader.refresh();
    const ledger = await Ledger.read(3, reader.ledger(3));
    expect([1, 2, 3, 4, 5].map((k) => ledger.state(key(k))?.state)).toEqual(["sent", "sent", "sent", "sent", "sent"]);
    expect(reader.notices).toEqual([expect.stringMatching(/^ledger\/3\/20261130T071700Z\.first\/000000000000\.ledger was deleted from the state branch in commit [0-9a-f]{12}; its events still count$/)]);
  });

  it("reads the union of the local branch and the fetched one when they went apart, and writes both back", async () => {
    const { clones } = await remoteAndClones(2);
    const [a, b] = clones as [string, string];
    await (await open(a, "origin")).write([ledgerPart(3, "shared", 0, [1])], "a send on GitHub");
    // A send on a laptop before its remote was configured, on the local branch only.
    await (await open(b)).write([ledgerPart(3, "laptop", 0, [2])], "a send on a laptop");
    // A file added there by hand, whatever its name, joins the union too.
    const odd = '"quoted" \\ name\t.txt';
    const index = { GIT_INDEX_FILE: join(await temp(), "index") };
    const blob = git(b, "hash-object", "-w", "README.md");
    gitWith(b, index, "read-tree", "presswork-state");
    gitWith(b, index, "update-index", "--add", "--cacheinfo", `100644,${blob},${odd}`);
    const tree = gitWith(b, index, "write-tree");
    git(b, "update-ref", "refs/heads/presswork-state", git(b, "commit-tree", tree, "-p", "presswork-state", "-m", "A note"));
    const both = await open(b, "origin");
    await both.refresh();
    expect((await Ledger.read(3, both.ledger(3))).size).toBe(2);
    await both.write([ledgerPart(3, "next", 0, [3])], "the next write");
    const fresh = await open(a, "origin");
    await fresh.refresh();
    expect((await Ledger.read(3, fresh.ledger(3))).size).toBe(3);
    expect(git(a, "ls-tree", "-r", "-z", "--name-only", "refs/presswork/remote/presswork-state").split("\0")).toContain(odd);
  });

  it("reads where the branch is now, however it moved since this store last read it", async () => {
    const { clones } = await remoteAndClones(1);
    const root = clones[0] as string;
    const [reader, writer] = [await open(root), await open(root)];
    await writer.write([ledgerPart(8, "one", 0, [1])], "first");
    expect(await reader.ledgerIssues()).toEqual([8]);
    const first = git(root, "rev-parse", "presswork-state");
    // Moved by another store, by git itself, packed by git, and deleted: each is seen at the next read.
    await writer.write([ledgerPart(9, "one", 0, [1])], "second");
    expect(await reader.ledgerIssues()).toEqual([8, 9]);
    git(root, "update-ref", "refs/heads/presswork-state", first);
    expect(await reader.ledgerIssues()).toEqual([8]);
    await writer.write([ledgerPart(10, "one", 0, [1])], "third");
    git(root, "pack-refs", "--all");
    expect(await reader.ledgerIssues()).toEqual([8, 10]);
    git(root, "update-ref", "-d", "refs/heads/presswork-state");
    expect(await reader.ledgerIssues()).toEqual([]);
    await Promise.all([reader.close(), writer.close()]);
  });

  it("fails a read that git stops short of, rather than read it as a state with fewer files", async () => {
    // Outside any repository, cat-file exits before it answers for a single object.
    const git = new Git(await temp(), { ...process.env, GIT_CEILING_DIRECTORIES: tmpdir() });
    const read = async () => {
      const got: string[] = [];
      for await (const { spec } of git.objects(["HEAD:ledger/3/a/000000000000.ledger", "HEAD:README.md"])) got.push(spec);
      return got;
    };
    await expect(read()).rejects.toThrow("git cat-file stopped after 0 of 2 objects");
  });
});
