import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { simpleParser } from "mailparser";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { initRepo } from "../helpers/git.js";
import { article, NOW, removeProjects, REPO, tempProject } from "../helpers/project.js";

const dirs: string[] = [];
afterAll(() => Promise.all([removeProjects(), ...dirs.map((dir) => rm(dir, { recursive: true, force: true }))]));

/**
 * The packages `presswork` loaded: those whose code is in the bundle's modules, by the path comments the
 * bundler leaves, and those loaded from node_modules as they are (MJML, the service's server); with what it
 * wrote, once it exited with `code`.
 */
async function loadedPackages(args: string[], root: string, env: Record<string, string> = {}, code = 0): Promise<Set<string> & { stdout: string; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), "presswork-loading-"));
  dirs.push(dir);
  const log = join(dir, "loaded.txt");
  // Node's module hooks (node:module's register, Node 20.6 and later) see every module a process loads, dynamic imports too.
  await writeFile(join(dir, "hooks.mjs"), `import { appendFileSync } from "node:fs";\nexport async function load(url, context, next) {\n  if (url.startsWith("file:")) appendFileSync(${JSON.stringify(log)}, url + "\\n");\n  return next(url, context);\n}\n`);
  await writeFile(join(dir, "register.mjs"), `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)});\n`);
  await writeFile(log, "");
  const result = runCli(args, root, { ...env, NODE_OPTIONS: `--import ${pathToFileURL(join(dir, "register.mjs")).href}` });
  expect(result.code, result.stderr).toBe(code);
  const packages = Object.assign(new Set<string>(), { stdout: result.stdout, stderr: result.stderr });
  for (const url of new Set((await readFile(log, "utf8")).split("\n").filter(Boolean))) {
    const outside = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(url)?.[1];
    if (outside) packages.add(outside);
    const text = await readFile(new URL(url), "utf8");
    // The comment holds the module's path as the bundler found it (node_modules/x/…, or a path to a node_modules elsewhere): the package is what follows its last node_modules/.
    for (const [, name] of text.matchAll(/^\/\/ .*node_modules\/((?:@[^/\n]+\/)?[^/\n]+)\//gm)) packages.add(name as string);
  }
  return packages;
}

describe("what a rebuild loads", () => {
  it("is none of the Markdown pipeline, the HTML parser, the YAML parser or the schema library when nothing changed, and the Markdown pipeline alone after a body edit, with a link to a part of another article", { timeout: 120_000 }, async () => {
    // A site without a newsletter: an edited article in the next issue would also compile the issue, which parses HTML.
    const config = (await readFile(join(REPO, "presswork.config.yaml"), "utf8")).replace(/^newsletter:\n(?: .*\n|\n)*/m, "");
    expect(config).not.toContain("newsletter:");
    const root = await tempProject({
      config,
      articles: {
        "first.md": article(`title: First\ndate: 2026-11-20T09:00:00Z\ntags: [Chips]`, "An opening paragraph.\n\n## A part\n\n```js\nconst answer = 42;\n```"),
        "second.md": article(`title: Second\ndate: 2026-11-21T09:00:00Z\ntags: [Chips]`, "Another paragraph, linking [a part of the first](first.md#a-part)."),
      },
    });
    const build = ["build", "--now", NOW.toISOString()];
    const first = runCli(build, root);
    expect(first.code).toBe(0);
    // The link to a part is checked on every build, against the ids each body's render recorded: no HTML is parsed for it.
    expect(first.stderr).not.toContain("a-part");

    const unchanged = await loadedPackages(build, root);
    // The bundle holds them (each package's code would show), and a first build loads them.
    expect(unchanged.size, "the loaded modules name the packages they hold").toBeGreaterThan(0);
    for (const name of ["micromark", "highlight.js", "unified", "parse5", "yaml", "zod"]) expect(unchanged, `a build with nothing changed loads ${name}`).not.toContain(name);
    // The cached bodies' ids are read back: the part is found.
    expect(unchanged.stderr).not.toContain("a-part");

    await writeFile(join(root, "articles/second.md"), article(`title: Second\ndate: 2026-11-21T09:00:00Z\ntags: [Chips]`, "Another paragraph, edited, linking [a part of the first](first.md#a-part)."));
    const edited = await loadedPackages(build, root);
    for (const name of ["micromark", "highlight.js"]) expect(edited, `a body edit renders with ${name}`).toContain(name);
    for (const name of ["parse5", "yaml", "zod"]) expect(edited, `a body edit with the front matter unchanged loads ${name}`).not.toContain(name);
    expect(edited.stderr).not.toContain("a-part");
  });
});

describe("what a command that builds nothing loads", () => {
  it("is not the service's server nor its mail for `serve` with a setting it refuses: a proxy setting, an SMTP URL, a DKIM key", { timeout: 120_000 }, async () => {
    const root = await tempProject();
    const started = { PRESSWORK_SECRET: "loading-test-secret", PRESSWORK_PUBLIC_URL: "http://127.0.0.1/" };
    const refusals = [
      [{ PRESSWORK_TRUST_PROXY: "true" }, "trusting every proxy"],
      [{ SMTP_URL: "smtp://user:secret@mail.example.org:25x" }, "SMTP_URL has \"25x\" as its port"],
      [{ DKIM_PRIVATE_KEY: "not a key", DKIM_SELECTOR: "pw2026" }, "DKIM_PRIVATE_KEY is not a private key"],
    ] as const;
    for (const [setting, message] of refusals) {
      const refused = await loadedPackages(["serve", "--port", "0"], root, { ...started, ...setting }, 3);
      expect(refused.stderr).toContain(message);
      for (const name of ["fastify", "nodemailer", "mjml"]) expect(refused, `serve refusing ${Object.keys(setting).join(", ")} loads ${name}`).not.toContain(name);
    }
  });

  it("is neither the YAML parser nor the schema library once a build left the config's parse, yet an edit to the config is read, and the cache is neither made where there is none nor written", { timeout: 120_000 }, async () => {
    // Without the files of earlier versions (newsletter/sent.json), which are read with the YAML parser and a schema.
    const root = await tempProject({ articles: { "first.md": article("title: First\ndate: 2026-11-20T09:00:00Z") } });
    initRepo(root);
    const before = runCli(["state", "show"], root);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toContain("State: the git branch presswork-state");
    await expect(stat(join(root, ".presswork-cache")), "a command that builds nothing makes no cache").rejects.toThrow();

    expect(runCli(["build", "--now", NOW.toISOString()], root).code).toBe(0);
    const built = await loadedPackages(["state", "show"], root);
    expect(built.stdout).toContain("State: the git branch presswork-state");
    for (const name of ["yaml", "zod"]) expect(built, `state show after a build loads ${name}`).not.toContain(name);

    const path = join(root, "presswork.config.yaml");
    await writeFile(path, `${await readFile(path, "utf8")}\nstate:\n  branch: other-state\n`);
    const parsed = join(root, ".presswork-cache/parsed-config.json");
    const kept = await readFile(parsed, "utf8");
    const edited = await loadedPackages(["state", "show"], root);
    expect(edited.stdout).toContain("State: the git branch other-state");
    expect(edited, "the edited config is parsed").toContain("yaml");
    // Nor is the new parse written to the cache: a service may read a cache it cannot write to.
    expect(await readFile(parsed, "utf8")).toBe(kept);
  });
});

describe("what a send after a build loads", () => {
  it("is not MJML: the issue's outline is the one the build compiled for its preview, and the send dates it by its own clock, as a send that compiles it does", { timeout: 120_000 }, async () => {
    const root = await tempProject({ samples: true });
    expect(runCli(["build", "--now", NOW.toISOString()], root).code).toBe(0);
    const send = ["send", "--to", "editor@example.org", "--outbox", "--now", "2026-12-01T08:00:00Z"];
    const env = { PRESSWORK_SECRET: "loading-test-secret" };
    const outbox = join(root, "outbox/issue-3-test");
    const sentHtml = async () => {
      const [name, ...others] = await readdir(outbox);
      expect(others).toEqual([]);
      return (await simpleParser(await readFile(join(outbox, name as string)))).html;
    };
    const afterBuild = await loadedPackages(send, root, env);
    expect(afterBuild.stdout).toContain("Sent a [TEST] copy of issue #3");
    expect(afterBuild, "a send after a build loads mjml").not.toContain("mjml");
    const html = await sentHtml();
    expect(html).toContain("Issue #3 · 1 December 2026</p>");

    await rm(outbox, { recursive: true });
    await rm(join(root, ".presswork-cache"), { recursive: true });
    const alone = runCli(send, root, env);
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stderr, "a send without the build's cache renders and compiles everything itself").toMatch(/^Rendered 8 article\(s\) that no build's cache held/m);
    expect(await sentHtml()).toBe(html);
  });
});
