import { spawn } from "node:child_process";
import { Readable } from "node:stream";
import { PressworkError } from "../errors/error.js";

/** What a git command printed and how it ended. */
export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Who commits the state: the author and committer of every commit on its branch. */
export const COMMITTER = { name: "presswork[bot]", email: "presswork-bot@users.noreply.github.com" };

/** Options of one git command. */
interface RunOptions {
  /** Standard input: text, bytes, or chunks made one at a time as git takes them. */
  input?: string | Buffer | Iterable<string>;
  env?: NodeJS.ProcessEnv;
  /** Kill the command after this long (fetch and push over a network). */
  timeoutMs?: number;
}

/**
 * Runs git in one repository with a fixed environment: no prompt for a
 * password, the state's own committer, and never the user's hooks or
 * pager. Extra configuration (an authorisation header for the remote)
 * goes in through the environment, never the command line.
 */
export class Git {
  readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly cwd: string,
    env: NodeJS.ProcessEnv,
    config: ReadonlyArray<readonly [string, string]> = [],
  ) {
    this.env = {
      ...env,
      GIT_TERMINAL_PROMPT: "0",
      GIT_PAGER: "cat",
      GIT_AUTHOR_NAME: COMMITTER.name,
      GIT_AUTHOR_EMAIL: COMMITTER.email,
      GIT_COMMITTER_NAME: COMMITTER.name,
      GIT_COMMITTER_EMAIL: COMMITTER.email,
      GIT_CONFIG_COUNT: String(config.length),
      ...Object.fromEntries(config.flatMap(([key, value], i) => [
        [`GIT_CONFIG_KEY_${i}`, key],
        [`GIT_CONFIG_VALUE_${i}`, value],
      ])),
    };
  }

  /** Runs a command and returns whatever happened. */
  run(args: readonly string[], options: RunOptions = {}): Promise<GitResult> {
    return new Promise((resolve, reject) => {
      const child = spawn("git", args, { cwd: this.cwd, env: { ...this.env, ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      let err = "";
      child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
      child.on("error", reject);
      const timer = options.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), options.timeoutMs) : undefined;
      child.on("close", (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({ code: code ?? (signal ? 124 : 1), stdout: Buffer.concat(out), stderr: signal ? `${err}\ntimed out` : err });
      });
      child.stdin.on("error", () => {});
      const input = options.input ?? "";
      if (typeof input === "string" || Buffer.isBuffer(input)) child.stdin.end(input);
      else Readable.from(input)
          .on("error", (error) => {
            child.kill();
            reject(error);
          })
          .pipe(child.stdin);
    });
  }

  /** Runs a command that must succeed; returns its output, trimmed. */
  async ok(args: readonly string[], options: RunOptions = {}): Promise<string> {
    const result = await this.run(args, options);
    // git's own words never hold a token: it travels in the environment.
    if (result.code !== 0) throw new PressworkError("git", `git ${args[0] ?? ""} failed: ${result.stderr.trim().split("\n").slice(-3).join(" ") || `exit code ${result.code}`}`);
    return result.stdout.toString("utf8").trim();
  }

  /** The commit a ref points to, or undefined. */
  async resolve(ref: string): Promise<string | undefined> {
    const result = await this.run(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    return result.code === 0 ? result.stdout.toString().trim() : undefined;
  }

  /** Whether `ancestor` is an ancestor of (or the same as) `commit`. */
  async isAncestor(ancestor: string, commit: string): Promise<boolean> {
    return (await this.run(["merge-base", "--is-ancestor", ancestor, commit])).code === 0;
  }

  /**
   * Objects by name (`oid`, `commit:path`), read by one `git cat-file --batch`
   * and handed on one at a time as they stream in; undefined for a missing one.
   * Throws when git stops before answering for every object.
   */
  async *objects(specs: readonly string[]): AsyncGenerator<{ spec: string; content: Buffer | undefined }> {
    if (specs.length === 0) return;
    const child = spawn("git", ["cat-file", "--batch"], { cwd: this.cwd, env: this.env, stdio: ["pipe", "pipe", "pipe"] });
    child.stdin.on("error", () => {});
    child.stdin.end(`${specs.join("\n")}\n`);
    let pending: Buffer = Buffer.alloc(0);
    let index = 0;
    let want: number | undefined;
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        if (want === undefined) {
          const eol = pending.indexOf(10);
          if (eol < 0) break;
          const line = pending.subarray(0, eol).toString();
          pending = pending.subarray(eol + 1);
          if (line.endsWith(" missing") || line.endsWith(" ambiguous")) {
            yield { spec: specs[index++] as string, content: undefined };
            continue;
          }
          want = Number(line.split(" ")[2]);
        }
        if (pending.length < want + 1) break;
        const content = Buffer.from(pending.subarray(0, want));
        pending = pending.subarray(want + 1);
        want = undefined;
        yield { spec: specs[index++] as string, content };
      }
    }
    await new Promise((resolve) => (child.exitCode === null ? child.on("close", resolve) : resolve(undefined)));
    // A reader that stopped early must not pass for a state with fewer files.
    if (index < specs.length) throw new PressworkError("git", `git cat-file stopped after ${index} of ${specs.length} objects`);
  }
}
