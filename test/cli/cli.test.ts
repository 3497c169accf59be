import { spawnSync } from "node:child_process";
import { access, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { build } from "../../src/pipeline/build.js";
import { ABOUT } from "../../src/cli/commands/about.js";
import { runCli, runCliHere } from "../helpers/cli.js";
import { article, NOW, REPO, removeProjects, snapshot, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

const exists = (path: string) => access(path).then(() => true, () => false);

describe("presswork command line", () => {
  it.each([[[]], [["--help"]], [["build", "--help"]], [["check", "--help"]], [["new", "--help"]]])("prints usage for %j", async (args) => {
    const root = await tempProject();
    const { code, stdout, stderr } = await runCliHere(args, root);
    expect(stdout + stderr).toMatch(/USAGE/);
    expect(code).toBe(args.length === 0 ? 2 : 0);
  });

  it("lists every command in its help, each with the line its own help gives", async () => {
    const { stdout } = await runCliHere(["--help"], await tempProject());
    const modules = (await readdir(join(REPO, "src/cli/commands"))).filter((f) => f !== "about.ts").map((f) => f.replace(/\.ts$/, ""));
    expect(Object.keys(ABOUT).sort()).toEqual(modules.sort());
    for (const [name, line] of Object.entries(ABOUT)) {
      const exported = Object.values((await import(`../../src/cli/commands/${name}.ts`)) as Record<string, { meta?: { name?: string; description?: string } }>);
      expect(exported.find((value) => value.meta?.name === name)?.meta?.description, name).toBe(line);
      expect(stdout.split("\n").some((row) => row.trim().startsWith(name) && row.includes(line)), name).toBe(true);
    }
  });

  it("writes no colour codes into usage that goes to a file or a pipe, nor under NO_COLOR at a terminal", async () => {
    const root = await tempProject();
    for (const args of [["--help"], ["build", "--help"]]) {
      const piped = await runCliHere(args, root, { FORCE_COLOR: "1", CI: "", TEST: "" });
      expect(piped.stdout).toMatch(/USAGE/);
      expect(piped.stdout).not.toContain("\x1b[");
    }
    // A terminal, through script(1): colour there, unless NO_COLOR says otherwise.
    const script = spawnSync("script", ["--version"]);
    if (script.error) {
      if (process.env["PRESSWORK_CI"] === "1") throw new Error("script(1) is missing: Debian's bsdutils has it");
      console.log("skipped: usage at a terminal (script(1) from util-linux is missing)");
      return;
    }
    const atTerminal = (env: Record<string, string>) =>
      spawnSync("script", ["-qec", `${JSON.stringify(process.execPath)} ${JSON.stringify(join(REPO, "bin/presswork.js"))} --help`, "/dev/null"], { cwd: root, env: { ...process.env, CI: "", TEST: "", NO_COLOR: "", ...env }, encoding: "utf8" }).stdout;
    expect(atTerminal({})).toContain("\x1b[");
    expect(atTerminal({ NO_COLOR: "yes" })).not.toContain("\x1b[");
  });

  it("documents the flags of build", async () => {
    const { stdout } = await runCliHere(["build", "--help"], await tempProject());
    for (const flag of ["--now", "--out", "--cache"]) expect(stdout).toContain(flag);
  });

  it.each([
    [["build", "--bogus"], "unknown option --bogus"],
    [["check", "--stirct"], "unknown option --stirct"],
    [["build", "--now", "next tuesday"], '--now is "next tuesday", not an ISO 8601 date-time'],
    [["publish"], "Unknown command publish"],
    [["-x", "build"], "unknown option -x"],
    [["new"], "Missing required positional argument: TITLE"],
    [["new", "Big news\nMore"], "the title has a line break: it is the page's title and the email's subject, so write it on one line"],
    [["build", "--now", "2026-02-30"], '--now is "2026-02-30", not an ISO 8601 date-time'],
    [["check", "--now", "2026-11-29T09:00:00+14:30"], '--now is "2026-11-29T09:00:00+14:30", not an ISO 8601 date-time'],
    [["issue", "--now", "2026-11-29T09:00:00-1500"], '--now is "2026-11-29T09:00:00-1500", not an ISO 8601 date-time'],
    [["send", "--now", "2027-02-29T07:00:00Z"], '--now is "2027-02-29T07:00:00Z", not an ISO 8601 date-time'],
  ])("refuses %j with exit code 2", async (args, message) => {
    const { code, stderr } = await runCliHere(args, await tempProject());
    expect(stderr).toContain(message);
    expect(code).toBe(2);
  });

  it("fails a build on bad front matter with every place listed, no stack trace and nothing written", async () => {
    const root = await tempProject({ articles: { "a.md": article('title: A\ndate: "2026-13-01"'), "b.md": article("date: 2026-11-01") } });
    const { code, stderr, stdout } = await runCliHere(["build", "--now", "2026-11-29T00:00:00Z"], root);
    expect(code).toBe(1);
    expect(stderr).toContain(`articles/a.md:3:7  error  'date' is "2026-13-01", not a date.`);
    expect(stderr).toContain("articles/b.md:2:1  error  'title' is missing: every article needs a title  front-matter-title");
    expect(stderr).toContain("Build failed: 2 error(s), 0 warning(s). Nothing was written.");
    expect(stderr + stdout).not.toMatch(/\n\s+at /);
    expect(await exists(join(root, "dist"))).toBe(false);
  });

  it("refuses a title with a line break on the article's line in build, and writes no such title with new", async () => {
    const root = await tempProject({ articles: { "zz.md": article("title: |-\n  Big news\n  More\ndate: 2026-11-01") } });
    const { code, stderr } = await runCliHere(["build", "--now", "2026-11-29T00:00:00Z"], root);
    expect(code).toBe(1);
    expect(stderr).toContain(`articles/zz.md:2:8  error  'title' is "Big news\\nMore", has a line break`);
    expect(stderr).not.toContain("presswork.config.yaml");
    expect((await runCliHere(["new", "Big news\nMore"], root)).code).toBe(2);
    expect(await readdir(join(root, "articles"))).toEqual(["zz.md"]);
  });

  it("refuses an alias bomb and a list as a key, in front matter and config, on their lines: exit 1 and no warning from Node", async () => {
    const bomb = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]";
    const root = await tempProject({ articles: { "bomb.md": article(`title: A\ndate: 2026-11-01\n${bomb}`), "key.md": article("title: B\ndate: 2026-11-01\n? [a, b]\n: 1") } });
    const built = await runCliHere(["build", "--now", "2026-11-29T00:00:00Z"], root);
    expect(built.code).toBe(1);
    expect(built.stderr).toContain("articles/bomb.md:7:1  error  YAML: the aliases (*name) under this key repeat too many values to read");
    expect(built.stderr).toContain("articles/key.md:4:3  error  YAML: a key must be a plain name");
    expect(built.stderr).not.toMatch(/internal|Warning/);
    const sample = await readFile(join(REPO, "presswork.config.yaml"), "utf8");
    // The sample ends with a line break: what is added starts on this line.
    const added = sample.split("\n").length;
    for (const [extra, line] of [[bomb, `presswork.config.yaml:${added + 3}:1  error  YAML: the aliases`], ["? {a: 1}\n: 2", `presswork.config.yaml:${added}:3  error  YAML: a key must be a plain name`]] as const) {
      const checked = await runCliHere(["check"], await tempProject({ config: `${sample}${extra}\n` }));
      expect(checked.code).toBe(1);
      expect(checked.stderr).toContain(line);
      expect(checked.stderr).not.toMatch(/internal|Warning/);
    }
  });

  it("prints GitHub annotations when run under GitHub Actions", async () => {
    const root = await tempProject({ articles: { "a.md": article('title: A\ndate: "2026-13-01"') } });
    const { stderr } = await runCliHere(["check"], root, { GITHUB_ACTIONS: "true" });
    expect(stderr).toContain("::error file=articles/a.md,line=3,col=7,title=front-matter-date::'date' is \"2026-13-01\", not a date.");
  });

  it("passes warnings in check, and fails them with --strict", async () => {
    const root = await tempProject({ articles: { "a.md": article("title: A\ndate: 2026-11-01\nsumary: typo") } });
    const loose = await runCliHere(["check"], root);
    expect(loose.code).toBe(0);
    expect(loose.stderr).toContain("articles/a.md:4:1  warning  unknown key 'sumary': did you mean 'summary'? It is ignored.");
    const strict = await runCliHere(["check", "--strict"], root);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain("Warnings fail with --strict.");
  });

  it("checks drafts too, while build leaves them out", async () => {
    const root = await tempProject({ articles: { "a.md": article("title: A\ndate: 2026-11-01\ndraft: true", "[gone](nowhere.md)") } });
    expect((await runCliHere(["check"], root)).code).toBe(1);
    expect((await runCliHere(["build", "--now", "2026-11-29T00:00:00Z"], root)).code).toBe(0);
  });

  it("scaffolds new articles with unique slugs, a pinned id, and front matter that checks clean", async () => {
    const root = await tempProject();
    const first = await runCliHere(["new", "Chips & Dips: a Review"], root);
    const second = await runCliHere(["new", "Chips & Dips: a Review"], root);
    expect(first.stdout).toContain("Created articles/chips-and-dips-a-review/index.md");
    expect(second.stdout).toContain("Created articles/chips-and-dips-a-review-2/index.md");
    const text = await readFile(join(root, "articles/chips-and-dips-a-review-2/index.md"), "utf8");
    expect(text).toMatch(/^id: tag:signal-noise\.example,\d{4}-\d{2}-\d{2}:chips-and-dips-a-review-2$/m);
    expect(text).toContain("draft: true");
    expect(text).toContain('title: "Chips & Dips: a Review"');
    // Without quotes, the words are one title, not the first word alone.
    expect((await runCliHere(["new", "Unquoted", "words", "too"], root)).stdout).toContain("Created articles/unquoted-words-too/index.md");
    expect(await readFile(join(root, "articles/unquoted-words-too/index.md"), "utf8")).toContain("title: Unquoted words too");
    const check = await runCliHere(["check", "--strict"], root);
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
  });

  it("refuses an output folder inside what the build reads, or around the project, and one port for both the preview's site and its mail catcher", async () => {
    const root = await tempProject({ samples: true });
    for (const [out, inside] of [["templates/site/out", "templates/"], ["articles", "articles/"], [".presswork-cache/site", ".presswork-cache/"]]) {
      const result = await runCliHere(["build", "--out", out as string], root);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`--out ${out} is inside ${inside}, which the build reads`);
    }
    const around = await runCliHere(["build", "--out", ".."], root);
    expect(around.code, around.stderr).toBe(2);
    expect(around.stderr).toContain("--out .. holds the project itself");
    // A symbolic link is followed: into articles/, or back to the project.
    await symlink(join(root, "articles"), join(root, "linked"));
    await symlink(root, join(root, "here"));
    const linked = await runCliHere(["build", "--out", "linked/site"], root);
    expect(linked.code, linked.stderr).toBe(2);
    expect(linked.stderr).toContain("--out linked/site is inside articles/, which the build reads");
    const here = await runCliHere(["build", "--out", "here"], root);
    expect(here.code, here.stderr).toBe(2);
    expect(here.stderr).toContain("--out here holds the project itself");
    expect(await exists(join(root, "articles/site"))).toBe(false);
    expect(await exists(join(root, "templates/site/out"))).toBe(false);
    const ports = await runCliHere(["preview", "--port", "45303", "--smtp-port", "45303"], root);
    expect(ports.code, ports.stderr).toBe(2);
    expect(ports.stderr).toContain("--port and --smtp-port are both 45303: the site and the mail catcher need a port each");
  });

  it("builds the sample project with no configuration and no secrets", async () => {
    const root = await tempProject({ samples: true });
    const { code, stdout } = await runCliHere(["build"], root);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Built 8 article\(s\) into dist\/ \(\d+ file\(s\) written, 0 unchanged, 0 removed\)/);
    expect(await exists(join(root, "dist/index.html"))).toBe(true);
  });

  it("checks --site-url against the config's parse the cache holds, and against the config itself with --no-cache", async () => {
    const root = await tempProject({ samples: true, built: true });
    const at = ["build", "--now", NOW.toISOString(), "--site-url", "https://signal-noise.example/"];
    expect((await runCliHere(at, root)).code).toBe(0);
    // A parse the cache holds for the same text, as another version of the config gave it.
    const parsed = join(root, ".presswork-cache/parsed-config.json");
    await writeFile(parsed, (await readFile(parsed, "utf8")).replaceAll("https://signal-noise.example/", "https://elsewhere.example/"));
    const cached = await runCliHere(at, root);
    expect(cached.code).toBe(1);
    expect(cached.stderr).toContain("site.url is https://elsewhere.example/, but the site is served at https://signal-noise.example/");
    const fresh = await runCliHere([...at, "--no-cache"], root);
    expect(fresh.stderr).toBe("");
    expect(fresh.code).toBe(0);
  });

  it("shares a large build with its render process and page thread, from the bundle, to the same bytes as a build in process", { timeout: 120_000 }, async () => {
    // 450 articles: more than the render process (48) and the page thread (400 pages) start at.
    const articles: Record<string, string> = {};
    for (let i = 0; i < 450; i++) {
      const day = String((i % 28) + 1).padStart(2, "0");
      articles[`story-${i}.md`] = article(`title: Story ${i}\ndate: 2026-10-${day}T${String(i % 24).padStart(2, "0")}:00:00Z\ntags: [Tag ${i % 7}]`, `A paragraph about story ${i}, with a [link](story-${(i + 1) % 450}.md).\n\n\`\`\`python\nprint(${i})\n\`\`\``);
    }
    const root = await tempProject({ articles });
    const { code, stderr } = runCli(["build", "--now", NOW.toISOString(), "--out", "by-cli"], root);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    await build({ root, now: NOW, out: join(root, "in-process"), cacheDir: false });
    const [byCli, inProcess] = await Promise.all([snapshot(join(root, "by-cli")), snapshot(join(root, "in-process"))]);
    expect([...byCli.keys()].sort()).toEqual([...inProcess.keys()].sort());
    expect(byCli.size).toBeGreaterThan(450);
    for (const [path, bytes] of inProcess) expect(byCli.get(path)?.equals(bytes), path).toBe(true);
  });

  it("fails a first build of 60 articles on bad YAML with its place, while its render process is starting", async () => {
    const articles: Record<string, string> = {};
    for (let i = 0; i < 60; i++) articles[`story-${i}.md`] = article(`title: Story ${i}\ndate: 2026-10-01T00:00:00Z`);
    articles["story-7.md"] = article("title: [unclosed\ndate: 2026-10-01");
    const root = await tempProject({ articles });
    // The render process starts before the front matter is read; a build that hangs is killed after 30 s, with no exit code.
    const { code, stderr } = runCli(["build", "--now", NOW.toISOString()], root, {}, 30_000);
    expect(code).toBe(1);
    expect(stderr).toMatch(/articles\/story-7\.md:\d+:\d+ {2}error {2}YAML: /);
    expect(stderr).toContain("Build failed: 1 error(s)");
    expect(await exists(join(root, "dist"))).toBe(false);
  });

  it("on a first build, runs MJML for the email issues in a thread of its own, to the same bytes as a build in process", async () => {
    const root = await tempProject({ samples: true });
    const { code } = await runCliHere(["build", "--now", NOW.toISOString(), "--out", "by-cli"], root);
    expect(code).toBe(0);
    await build({ root, now: NOW, out: join(root, "in-process"), cacheDir: false });
    for (const path of ["issues/next/index.html", "issues/next/issue.txt", "issues/next/issue.eml", "issues/1/index.html", "issues/2/index.html"]) {
      expect(await readFile(join(root, "by-cli", path), "utf8"), path).toBe(await readFile(join(root, "in-process", path), "utf8"));
    }
  });
});
