import { isAbsolute, join, resolve } from "node:path";
import { rm } from "node:fs/promises";
import { COMMITTER, Git } from "./git.js";
import { type FrozenIssue, type IssueState, type LedgerPart, type LockRecord, type Migration, type Moved, type SendCounts, type SendDone, type StateChange, type StateStore, type StateSummary, type SuppressionPart } from "./store.js";
import { PressworkError } from "../errors/error.js";

/** A tip of the state branch: its commit and that commit's tree. */
interface Head {
  commit: string;
  tree: string;
}

/** A commit the branch took: `alone` when it is then the branch's only tip. */
interface Saved {
  alone: boolean;
}

/** A commit the branch did not take: a race lost to another writer, a rule of the remote's, or another failure. */
interface Refused {
  race: boolean;
  /** Refused by the remote's protection, ruleset or hook: no retry changes that. */
  rule?: boolean;
  message: string;
}

/** A summary, the trees it is of, and the text of the files it was made from, by path. */
interface Summarised {
  trees: string;
  texts: ReadonlyMap<string, string>;
  summary: StateSummary;
}

/** Where the git store keeps the state, and how it reaches the shared copy. */
export interface GitStoreOptions {
  /** A folder inside the repository's work tree (the project root). */
  root: string;
  /** The state's own branch. */
  branch: string;
  /** A remote's name or URL to fetch the branch from and push it to; without one, the local branch alone. */
  remote?: string;
  /** A token for an https remote (GitHub's GITHUB_TOKEN), sent as git's authorisation header. */
  token?: string;
  env?: NodeJS.ProcessEnv;
}

/** The default name of the state's branch. */
export const STATE_BRANCH = "presswork-state";

const NETWORK_MS = 120_000;
const ZERO = "0000000000000000000000000000000000000000";
/** The branch name git fast-import builds a commit on: reset before git ends, so never written. */
const SCRATCH = "refs/presswork/scratch";
/** The files a summary is made of: the issues' records, the locks, the marks of a migration and of a move. */
const SUMMARY_PATHS = ["issues/", "locks/", "migrated.json", "moved.json"];
const pad = (n: number) => String(n).padStart(12, "0");

const BRANCH_README = `# The send's state

Presswork keeps what its sends learn on this branch, never on the branch
with the articles: the ledger of every send attempt (a keyed hash per
recipient, never an address), the record of sent issues with each issue as
it was sent, the suppression list and the locks of sends in progress.

Every attempt adds files of its own and readers take the union, so writes
never conflict. Do not edit, rebase or force-push this branch; do not
protect it with rules that stop GitHub Actions from pushing to it. See the
README of the project, "Where the send's state lives".
`;

/**
 * The state on a git branch of its own (default `presswork-state`), read and
 * written with git's plumbing (a write's commit is one git fast-import):
 * the editor's working tree, index and checked-out branch are never
 * touched. With a remote, the branch is fetched before reading and every
 * write is a commit on top of the fetched tip (or of this store's own last
 * commit), pushed without force: a push that lost a race is rebuilt on the
 * newly fetched tip and pushed again. Without one, writes move the local
 * branch with a compare-and-swap update-ref.
 */
export class GitBranchStore implements StateStore {
  readonly description: string;
  readonly notices: string[] = [];
  private readonly local: string;
  private readonly fetched: string;
  private writing: Promise<void> = Promise.resolve();
  /** The commit this store last wrote, while it was the branch's only tip. */
  private tip: Head | undefined;
  /** Whether the branch is one no work tree has checked out: see ownBranch. */
  private owned: Promise<void> | undefined;
  /** The last summary read or written, with the trees it is of and the text of its files. */
  private lastSummary: Summarised | undefined;

  private constructor(
    private readonly git: Git,
    private readonly options: GitStoreOptions,
    private readonly remoteUrl: string | undefined,
  ) {
    this.local = `refs/heads/${options.branch}`;
    this.fetched = `refs/presswork/remote/${options.branch}`;
    this.description = `the git branch ${options.branch}${options.remote ? ` of ${shownRemote(options.remote)}` : " (local, not pushed anywhere)"}`;
  }

  /** The store of the repository that holds `root`, or undefined when `root` is not in a git repository. */
  static async open(options: GitStoreOptions): Promise<GitBranchStore | undefined> {
    const env = options.env ?? process.env;
    const probe = new Git(options.root, env);
    const inside = await probe.run(["rev-parse", "--is-inside-work-tree"]).catch(() => undefined);
    if (!inside || inside.code !== 0) return undefined;
    const remoteUrl = options.remote ? await remoteUrlOf(probe, options.root, options.remote) : undefined;
    const config: Array<[string, string]> = [];
    if (options.token && remoteUrl && /^https:\/\//i.test(remoteUrl)) {
      const header = `http.${new URL(remoteUrl).origin}/.extraheader`;
      // An empty value first clears the header a checkout kept (actions/checkout's persist-credentials, its default):
      // with two, GitHub answers 400 "Duplicate header: Authorization".
      config.push([header, ""], [header, `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${options.token}`).toString("base64")}`]);
    }
    return new GitBranchStore(new Git(options.root, env, config), options, remoteUrl);
  }

  async refresh(): Promise<void> {
    if (!this.remoteUrl) return;
    const result = await this.git.run(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", this.remoteUrl, `+refs/heads/${this.options.branch}:${this.fetched}`], { timeoutMs: NETWORK_MS });
    if (result.code !== 0) {
      // A remote without the branch yet: the first send creates it.
      if (/couldn't find remote ref|no such ref/i.test(result.stderr)) return;
      throw new PressworkError("state-save", `cannot fetch the state branch ${this.options.branch} from ${shownRemote(this.options.remote ?? "")}: ${result.stderr.trim().split("\n").slice(-2).join(" ")}`);
    }
    // The local branch follows when it has nothing of its own (best effort: another writer may move it meanwhile).
    const { fetched, local } = await this.refs();
    if (fetched && (!local || (await this.git.isAncestor(local.commit, fetched.commit)))) {
      await this.ownBranch();
      await this.git.run(["update-ref", this.local, fetched.commit, local?.commit ?? ZERO]);
    }
  }

  /**
   * Refuses, before the branch is moved, a state branch checked out in a
   * work tree (state.branch set to main): the state's commits would replace
   * the files there, and the next commit from it would erase the state.
   * Reads are left alone. Once a store.
   */
  private ownBranch(): Promise<void> {
    this.owned ??= this.git.ok(["worktree", "list", "--porcelain"]).then((listing) => {
      const tree = listing.split("\n\n").find((block) => block.split("\n").includes(`branch ${this.local}`));
      if (tree === undefined) return;
      const path = /^worktree (.*)$/m.exec(tree)?.[1] ?? "a work tree";
      throw new PressworkError(
        "state-setup",
        `the state branch ${this.options.branch} is the branch checked out in ${path}: the send's record would be committed over its files, and the next commit there would erase it. Keep the state on a branch of its own (state.branch or PRESSWORK_STATE_BRANCH; by default ${STATE_BRANCH})`,
      );
    });
    return this.owned;
  }

  async summary(): Promise<StateSummary> {
    return this.summaryOf(await this.heads());
  }

  async *ledger(issue: number): AsyncGenerator<LedgerPart> {
    const heads = await this.heads();
    const dir = `ledger/${issue}/`;
    const present = await this.files(heads, dir);
    const specs = new Map<string, string>([...present].map(([path, oid]) => [path, oid]));
    // A part deleted from the branch still counts: its recipients had their mail.
    for (const { commit, path } of await this.deleted(heads, dir)) {
      if (specs.has(path)) continue;
      specs.set(path, `${commit}^:${path}`);
      this.notices.push(`${path} was deleted from the state branch in commit ${commit.slice(0, 12)}; its events still count`);
    }
    const paths = [...specs.keys()].filter((p) => p.endsWith(".ledger")).sort();
    let i = 0;
    for await (const { content } of this.git.objects(paths.map((p) => specs.get(p) as string))) {
      const [, , attempt = "", file = ""] = (paths[i++] as string).split("/");
      if (!content) continue;
      yield { issue, attempt, offset: Number(file.replace(/\.ledger$/, "")), text: content.toString("utf8") };
    }
  }

  async *suppressions(): AsyncGenerator<SuppressionPart> {
    const files = await this.files(await this.heads(), "suppressed/");
    const paths = [...files.keys()].sort();
    let i = 0;
    for await (const { content } of this.git.objects(paths.map((p) => files.get(p) as string))) {
      const [, attempt = "", file = ""] = (paths[i++] as string).split("/");
      if (content) yield { attempt, offset: Number(file.replace(/\.txt$/, "")), text: content.toString("utf8") };
    }
  }

  async close(): Promise<void> {
    await this.writing;
  }

  /** Issues with ledger parts on the branch, started or not (an outbox run writes a ledger and starts nothing). */
  async ledgerIssues(): Promise<number[]> {
    const numbers = new Set<number>();
    for (const path of (await this.files(await this.heads(), "ledger/")).keys()) numbers.add(Number(path.split("/")[1]));
    return [...numbers].filter(Number.isInteger).sort((a, b) => a - b);
  }

  async write(decide: readonly StateChange[] | ((summary: StateSummary) => readonly StateChange[]), message: string): Promise<void> {
    // One write at a time from this store; other stores (processes, machines) race through the push.
    const run = this.writing.then(() => this.writeNow(decide, message));
    this.writing = run.catch(() => {});
    return run;
  }

  private async writeNow(decide: readonly StateChange[] | ((summary: StateSummary) => readonly StateChange[]), message: string): Promise<void> {
    await this.ownBranch();
    let failures = 0;
    for (let round = 0; ; round++) {
      // A guess: this store's last commit, while it was the branch's only tip, needs no fetch or read of the refs. If another
      // writer moved the branch since, the push or compare-and-swap below fails as any race does; a decision that aborts or
      // changes nothing on it is taken again on the newest state. Either way the next round reads (and fetches) the refs.
      const guess = round === 0 ? this.tip : undefined;
      this.tip = undefined;
      const refs = guess ? { local: guess } : await this.refresh().then(() => this.refs());
      const heads = await this.tipsOf(refs);
      let changes: readonly StateChange[];
      try {
        changes = typeof decide === "function" ? decide(await this.summaryOf(heads)) : decide;
      } catch (error) {
        if (guess) continue;
        throw error;
      }
      const [base] = heads;
      const { commit, tree } = await this.commit(heads, changes, message);
      if (base && tree === base.tree) {
        if (guess) continue;
        return;
      }
      // Without a remote the heads are the local branch alone: it must still be where this commit was built on.
      const outcome = this.remoteUrl ? await this.push(commit, refs.local?.commit) : await this.swap(commit, base?.commit);
      if ("alone" in outcome) {
        if (outcome.alone) this.tip = { commit, tree };
        return this.wrote(heads, tree, changes);
      }
      if (outcome.race) {
        if (round >= 20) throw new PressworkError("state-save", `cannot save the state on ${this.description}: other writers kept moving it (${round} tries)`);
        await sleep(Math.min(2000, 50 * 2 ** Math.min(round, 5)) * (0.5 + Math.random()));
        continue;
      }
      if (outcome.rule) {
        const branch = this.options.branch;
        throw new PressworkError("state-setup", `the remote refuses pushes to ${branch}, where the send keeps its state: ${outcome.message}. Leave ${branch} out of the branch protection and rulesets (a repository ruleset cannot list the workflow's GITHUB_TOKEN among those who may bypass it)`);
      }
      if (++failures >= 3) throw new PressworkError("state-save", `cannot save the state on ${this.description}: ${outcome.message}`);
      await sleep(500 * failures);
    }
  }

  /**
   * Pushes a commit without force; a rejection because the tip moved is a
   * race to retry. Once pushed, the commit is the branch's only tip unless
   * the local branch moved apart from it meanwhile. `local` is where the
   * local branch was when the commit was built: one of its ancestors.
   */
  private async push(commit: string, local: string | undefined): Promise<Saved | Refused> {
    const result = await this.git.run(["push", "--quiet", "--no-verify", "--porcelain", this.remoteUrl as string, `${commit}:refs/heads/${this.options.branch}`], { timeoutMs: NETWORK_MS });
    if (result.code === 0) {
      // Both refs in one git process while the local branch is still where it was; else each on its own.
      const both = await this.git.run(["update-ref", "--stdin"], { input: `update ${this.fetched} ${commit}\nupdate ${this.local} ${commit} ${local ?? ZERO}\n` });
      if (both.code === 0) return { alone: true };
      await this.git.run(["update-ref", this.fetched, commit]);
      const mine = await this.git.resolve(this.local);
      const behind = !mine || (await this.git.isAncestor(mine, commit));
      return { alone: behind && (await this.git.run(["update-ref", this.local, commit, mine ?? ZERO])).code === 0 };
    }
    const text = `${result.stdout.toString()}\n${result.stderr}`;
    // Another writer moved the tip: seen by git before sending (non-fast-forward), or by the server as it moved the
    // ref ("cannot lock ref …: is at … but expected …", then "[remote rejected] (failed to update ref)"). A ref the
    // server could not update for another reason (a stale .lock file, a full disk) is a failure with its own words.
    const race = /\[rejected\]|non-fast-forward|fetch first|stale info/i.test(text) || (/\[remote rejected\]/.test(text) && /but expected|incorrect old value/i.test(text));
    // GitHub's protected branches (GH006) and rulesets (GH013), or a hook: "… (protected branch hook declined)".
    const rule = !race && /\[remote rejected\][^\n]*declined|GH0(06|13)/i.test(text);
    // The server's own lines, without the blank "remote:" lines GitHub puts around them.
    const lines = text.split("\n").map((l) => l.replace(/^remote:/, "").trim()).filter((l) => l && !/^To |^Done$|^error: failed to push/.test(l));
    // A rule's lines all say something (GitHub's list of what the ruleset forbids); otherwise the errors, not git's advice after them.
    const errors = lines.filter((l) => /^(?:error|fatal):|\[(?:remote )?rejected\]/i.test(l));
    return { race, rule, message: (rule ? lines.slice(-6) : errors.length > 0 ? errors.slice(-3) : lines.slice(-2)).join(" ") };
  }

  /** Moves the local branch from `old` to `commit`, or reports a race when another writer moved it first. */
  private async swap(commit: string, old: string | undefined): Promise<Saved | Refused> {
    const result = await this.git.run(["update-ref", this.local, commit, old ?? ZERO]);
    return result.code === 0 ? { alone: true } : { race: true, message: result.stderr.trim() };
  }

  /** The tips to read, each with its tree: the fetched one and the local one, or the one that contains the other. */
  private async heads(): Promise<Head[]> {
    return this.tipsOf(await this.refs());
  }

  /** The tips to read of the fetched ref and the local branch. */
  private async tipsOf({ fetched, local }: { fetched?: Head; local?: Head }): Promise<Head[]> {
    if (!fetched || !local) return [fetched ?? local].filter((h): h is Head => h !== undefined);
    if (fetched.commit === local.commit || (await this.git.isAncestor(local.commit, fetched.commit))) return [fetched];
    if (await this.git.isAncestor(fetched.commit, local.commit)) return [local];
    return [fetched, local];
  }

  /** Where the fetched ref (with a remote) and the local branch point, each with its tree, in one git process. Both hold commits: git keeps nothing else under refs/heads/, and the fetched ref copies the remote branch. */
  private async refs(): Promise<{ fetched?: Head; local?: Head }> {
    const names = this.remoteUrl ? [this.fetched, this.local] : [this.local];
    const listing = await this.git.ok(["for-each-ref", "--format=%(refname) %(objectname) %(tree)", ...names]);
    const found: { fetched?: Head; local?: Head } = {};
    for (const line of listing.split("\n")) {
      const [ref, commit, tree] = line.split(" ");
      if (!commit || !tree) continue;
      if (ref === this.fetched) found.fetched = { commit, tree };
      if (ref === this.local) found.local = { commit, tree };
    }
    return found;
  }

  /** Files under any of `dirs` (folders or files) in any of the heads, path to object id; the first head wins a path both have. One git process a head. */
  private async files(heads: readonly Head[], ...dirs: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const head of heads) for (const { path, id } of await this.entries(head, ...dirs)) if (!out.has(path)) out.set(path, id);
    return out;
  }

  /** The files of a head's tree (under `dirs`, when given): mode, object id and path of each. */
  private async entries(head: Head, ...dirs: string[]): Promise<Array<{ mode: string; id: string; path: string }>> {
    const listing = await this.git.ok(["ls-tree", "-r", "-z", "--full-tree", head.tree, ...(dirs.length > 0 ? ["--", ...dirs] : [])]);
    return listing.split("\0").flatMap((entry) => {
      const tab = entry.indexOf("\t");
      if (tab < 0) return [];
      const [mode, , id] = entry.slice(0, tab).split(" ");
      return [{ mode: mode as string, id: id as string, path: entry.slice(tab + 1) }];
    });
  }

  /** Files under `dir` that commits of the heads' history deleted, with the commit that did. */
  private async deleted(heads: readonly Head[], dir: string): Promise<Array<{ commit: string; path: string }>> {
    if (heads.length === 0) return [];
    const log = await this.git.ok(["log", "--no-renames", "--diff-filter=D", "--name-only", "--format=commit %H", ...heads.map((h) => h.commit), "--", dir]);
    const out: Array<{ commit: string; path: string }> = [];
    let commit = "";
    for (const line of log.split("\n")) {
      if (line.startsWith("commit ")) commit = line.slice(7);
      else if (line.trim()) out.push({ commit, path: line.trim() });
    }
    return out;
  }

  /** The summary of the heads: read again only when their trees changed (a tree's id names its content). */
  private async summaryOf(heads: readonly Head[]): Promise<StateSummary> {
    const trees = heads.map((h) => h.tree).join(" ");
    if (this.lastSummary?.trees !== trees) this.lastSummary = this.summarised(trees, await this.summaryFiles(heads));
    return this.lastSummary.summary;
  }

  /** The text of each file a summary is made of (the first head wins a path both have), by path. */
  private async summaryFiles(heads: readonly Head[]): Promise<Map<string, string>> {
    const files = await this.files(heads, ...SUMMARY_PATHS);
    const paths = [...files.keys()];
    const texts = new Map<string, string>();
    let i = 0;
    for await (const { content } of this.git.objects(paths.map((p) => files.get(p) as string))) {
      const path = paths[i++] as string;
      if (content) texts.set(path, content.toString("utf8"));
    }
    return texts;
  }

  /**
   * The summary of the tree this store just wrote, from the files of the
   * summary it was written on and the changes, with no git to run: the next
   * read of that tree needs none either.
   */
  private wrote(heads: readonly Head[], tree: string, changes: readonly StateChange[]): void {
    if (heads.length > 1 || this.lastSummary?.trees !== (heads[0]?.tree ?? "")) return;
    const texts = new Map(this.lastSummary.texts);
    for (const { path, content } of changes.map(placeOf)) {
      if (!SUMMARY_PATHS.some((p) => (p.endsWith("/") ? path.startsWith(p) : path === p))) continue;
      if (content === undefined) texts.delete(path);
      else texts.set(path, content);
    }
    this.lastSummary = this.summarised(tree, texts);
  }

  /** A summary from the text of its files, by path. */
  private summarised(trees: string, texts: ReadonlyMap<string, string>): Summarised {
    const byNumber = new Map<number, { started: Array<[string, FrozenIssue]>; complete: SendDone[]; shards: Map<string, SendDone> }>();
    const entry = (n: number) => {
      let e = byNumber.get(n);
      if (!e) byNumber.set(n, (e = { started: [], complete: [], shards: new Map() }));
      return e;
    };
    const locks: LockRecord[] = [];
    let migration: Migration | undefined;
    let moved: Moved | undefined;
    for (const path of [...texts.keys()].sort()) {
      let value: unknown;
      try {
        value = JSON.parse(texts.get(path) as string);
      } catch {
        throw new PressworkError("state-damaged", `${path} on ${this.description} is not valid JSON: it was edited by hand. Restore it from the branch's history`);
      }
      const issuePath = /^issues\/(\d+)\/(started|complete|shard-(\d+)-of-(\d+))\.(.+)\.json$/.exec(path);
      if (issuePath) {
        const e = entry(Number(issuePath[1]));
        const attempt = issuePath[5] as string;
        const record = value as { issue?: FrozenIssue; at: string; counts: SendCounts };
        if (issuePath[2] === "started") e.started.push([attempt, value as FrozenIssue]);
        else if (issuePath[2] === "complete") e.complete.push({ at: record.at, attempt, counts: record.counts });
        else e.shards.set(`${issuePath[3]}/${issuePath[4]}`, { at: record.at, attempt, counts: record.counts });
      } else if (path.startsWith("locks/")) locks.push(value as LockRecord);
      else if (path === "migrated.json") migration = value as Migration;
      else if (path === "moved.json") moved = value as Moved;
    }
    const issues: IssueState[] = [];
    for (const [, e] of [...byNumber].sort(([a], [b]) => a - b)) {
      const [first] = e.started.sort(([a], [b]) => a.localeCompare(b));
      if (!first) continue;
      const complete = e.complete.sort((a, b) => a.at.localeCompare(b.at) || a.attempt.localeCompare(b.attempt)).at(-1);
      issues.push({ issue: first[1], startedBy: first[0], shardsDone: e.shards, ...(complete ? { complete } : {}) });
    }
    return { trees, texts, summary: { issues, locks, ...(migration ? { migration } : {}), ...(moved ? { moved } : {}) } };
  }

  /**
   * A commit of the heads (their union: the first head's files, then the
   * files of the others it lacks, but their locks) with the changes applied,
   * and its tree. One `git fast-import` stores the files, trees and commit,
   * each file encoded only as git takes it; no ref moves (the scratch
   * branch is reset before git ends), so the caller moves the branch.
   */
  private async commit(heads: readonly Head[], changes: readonly StateChange[], message: string): Promise<Head> {
    const [base, ...others] = heads;
    const joined = others.length > 0 && base ? await this.joined(base, others) : [];
    const places = [...(base ? [] : [{ path: "README.md", content: BRANCH_README }]), ...changes.map(placeOf)];
    const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
    function* input(): Generator<string> {
      yield `commit ${SCRATCH}\nmark :1\ncommitter ${COMMITTER.name} <${COMMITTER.email}> now\n${data(`${message}\n`)}`;
      if (base) yield `from ${base.commit}\n`;
      for (const other of others) yield `merge ${other.commit}\n`;
      for (const entry of joined) yield `M ${entry.mode} ${entry.id} ${quotePath(entry.path)}\n`;
      for (const { path, content } of places) yield content === undefined ? `D ${quotePath(path)}\n` : `M 100644 inline ${quotePath(path)}\n${data(content)}`;
      yield `\nget-mark :1\nls :1 ""\nreset ${SCRATCH}\n\ndone\n`;
    }
    const result = await this.git.run(["fast-import", "--quiet", "--date-format=now", "--done"], { input: input() });
    if (result.code !== 0) {
      // git leaves a report of the failed import in the repository: the error says what it said, and the report goes.
      const report = /dumping crash report to (.+)$/m.exec(result.stderr)?.[1];
      if (report) await rm(resolve(this.git.cwd, report.trim()), { force: true });
      const said = result.stderr.split("\n").filter((line) => line.trim() && !line.includes("crash report")).slice(-2).join(" ");
      const old = said.includes("Unsupported command") ? " (saving the state needs git 2.10 or later)" : "";
      throw new PressworkError("git", `git fast-import failed: ${said || `exit code ${result.code}`}${old}`);
    }
    const [commit, listing] = result.stdout.toString("utf8").trim().split("\n");
    const tree = /^040000 tree (\w+)/.exec(listing ?? "")?.[1];
    if (!commit || !tree) throw new PressworkError("git", `git fast-import did not report the commit it made`);
    return { commit, tree };
  }

  /** The files of `others` that `base` lacks (the first head to hold a path gives it), but their locks: a local history the remote never saw joins the union, its locks do not. */
  private async joined(base: Head, others: readonly Head[]): Promise<Array<{ mode: string; id: string; path: string }>> {
    const have = new Set((await this.entries(base)).map((e) => e.path));
    const joined: Array<{ mode: string; id: string; path: string }> = [];
    for (const other of others) {
      for (const entry of await this.entries(other)) {
        if (have.has(entry.path) || entry.path.startsWith("locks/")) continue;
        have.add(entry.path);
        joined.push(entry);
      }
    }
    return joined;
  }
}

/** A path as git fast-import reads it: as it is, or C-quoted when it starts with a quote or holds a line feed (any file someone put on the branch). */
function quotePath(path: string): string {
  return path.startsWith('"') || path.includes("\n") ? `"${path.replace(/["\\\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`))}"` : path;
}

/** Where a change lives on the branch, and its content (undefined to remove it). */
function placeOf(change: StateChange): { path: string; content?: string } {
  const json = (value: unknown) => `${JSON.stringify(value, null, 1)}\n`;
  switch (change.kind) {
    case "ledger":
      return { path: `ledger/${change.part.issue}/${change.part.attempt}/${pad(change.part.offset)}.ledger`, content: change.part.text };
    case "suppressions":
      return { path: `suppressed/${change.part.attempt}/${pad(change.part.offset)}.txt`, content: change.part.text };
    case "started":
      return { path: `issues/${change.issue.number}/started.${change.attempt}.json`, content: json(change.issue) };
    case "complete":
      return { path: `issues/${change.issue}/complete.${change.attempt}.json`, content: json({ at: change.at, counts: change.counts }) };
    case "shard-done":
      return { path: `issues/${change.issue}/shard-${change.shard.index}-of-${change.shard.count}.${change.attempt}.json`, content: json({ at: change.at, counts: change.counts }) };
    case "lock":
      return { path: `locks/${change.lock.issue}/${change.lock.attempt.name}.json`, content: json(change.lock) };
    case "unlock":
      return { path: `locks/${change.issue}/${change.attempt}.json` };
    case "migrated":
      return { path: "migrated.json", content: json(change.migration) };
    case "moved":
      return { path: "moved.json", content: json(change.moved) };
  }
}

/** The URL of a remote given by name (or as a URL or path already). */
async function remoteUrlOf(git: Git, root: string, remote: string): Promise<string> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remote) || /^[^/]+@[^:]+:/.test(remote)) return remote;
  const result = await git.run(["remote", "get-url", remote]);
  if (result.code === 0) return result.stdout.toString().trim();
  if (isAbsolute(remote) || remote.startsWith(".")) return resolve(root, remote);
  throw new PressworkError("state-setup", `the state's remote "${remote}" is not a remote of this repository (git remote -v lists them): set state.remote in presswork.config.yaml or PRESSWORK_STATE_REMOTE to one of them, or leave it unset to keep the state on the local branch`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A remote for messages: a URL without the user name and password (or token) written into it. */
function shownRemote(remote: string): string {
  if (!URL.canParse(remote)) return remote;
  const url = new URL(remote);
  if (!url.username && !url.password) return remote;
  url.username = "";
  url.password = "";
  return url.href;
}
