import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { slugify, SLUG_MAX } from "../../src/content/article.js";
import { emptyPlan, impossiblePaths, MARKER, writeOutput } from "../../src/output/write.js";
import { build } from "../../src/pipeline/build.js";
import { runCliHere } from "../helpers/cli.js";
import { article, NOW, REPO, removeProjects, snapshot, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

/** Each file under `dir` with its inode and bytes: a file written again, even with the same bytes, gets a new inode or new bytes. */
async function state(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [path, bytes] of await snapshot(dir)) out.set(path, `${(await stat(join(dir, path))).ino} ${bytes.toString("base64")}`);
  return out;
}

describe("slugs", () => {
  it("stay readable when cut, end with a short hash, and keep two long names that start alike apart", () => {
    const long = "The Economics of Semiconductor Fabrication Plants in the Age of Export Controls and Subsidies ".repeat(4);
    const a = slugify(`${long} in Europe`);
    const b = slugify(`${long} in Asia`);
    expect(a.length).toBeLessThanOrEqual(SLUG_MAX);
    expect(a).toMatch(/^the-economics-of-semiconductor-fabrication-plants-in-the-age-of-[a-z-]*-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(slugify("Short tag")).toBe("short-tag");
  });

  it("keep a 300-character tag from breaking the build: check and build agree, and the tag gets its page", async () => {
    const tag = "A very long tag ".repeat(19).trim();
    const root = await tempProject({ articles: { "story.md": article(`title: Story\ndate: 2026-11-01\ntags: [${JSON.stringify(tag)}]`) } });
    const check = await runCliHere(["check", "--now", NOW.toISOString()], root);
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
    const built = await runCliHere(["build", "--now", NOW.toISOString()], root);
    expect(built.stderr).toBe("");
    expect(built.code).toBe(0);
    const tags = await readdir(join(root, "dist/tags"));
    const slug = tags.find((t) => t.startsWith("a-very-long-tag"));
    expect(slug?.length).toBeLessThanOrEqual(SLUG_MAX);
    expect(await readFile(join(root, "dist/tags", slug ?? "", "index.html"), "utf8")).toContain(tag);
  });
});

describe("writing the output", () => {
  it("names paths no file system can hold, before anything is written", () => {
    const problems = impossiblePaths(["index.html", `tags/${"x".repeat(300)}/index.html`, "a/b", "a", "../up.html", `${"deep/".repeat(300)}x.html`]);
    expect(problems.map((p) => p.path)).toEqual(["../up.html", "a", `${"deep/".repeat(300)}x.html`, `tags/${"x".repeat(300)}/index.html`]);
    expect(problems.find((p) => p.path.startsWith("tags/"))?.reason).toBe("has a name of 300 bytes, and file systems take at most 255: shorten the slug, tag or key it comes from");
    const plan = emptyPlan();
    plan.files.set(MARKER, "x");
    plan.files.set(`tags/${"x".repeat(300)}/index.html`, "x");
    expect(() => writeOutput("/nonexistent/never-made", plan)).toThrow(expect.objectContaining({ id: "output-write" }));
  });

  it("refuses, in check as in build, an output path over the length it allows, naming the article it comes from", async () => {
    const deep = Array.from({ length: 5 }, (_, i) => `${String(i)}${"d".repeat(219)}`).join("/");
    const root = await tempProject({ articles: { "deep/index.md": article("title: Deep\ndate: 2026-11-01", `![A picture](${deep}/pic.png)`), [`deep/${deep}/pic.png`]: "not really a picture" } });
    const check = await runCliHere(["check", "--now", NOW.toISOString()], root);
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(new RegExp(`^articles/deep/index\\.md:1:1 {2}error {2}the output file articles/deep/0d{219}/.*/pic\\.png is 1\\d{3} bytes long, over the 1024 an output path may have {2}output-path$`, "m"));
    const built = await runCliHere(["build", "--now", NOW.toISOString()], root);
    expect(built.code).toBe(1);
    expect(built.stderr).toContain("Nothing was written.");
    await expect(stat(join(root, "dist"))).rejects.toThrow();
  });

  it("refuses, in check as in build, an old address where the output folder keeps its own marker", async () => {
    const root = await tempProject({ articles: { "moved.md": article("title: Moved\ndate: 2026-11-01\naliases: [/.presswork-output/]") } });
    const check = await runCliHere(["check", "--now", NOW.toISOString()], root);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain("the output file .presswork-output is both a file and the folder of other files");
    const built = await runCliHere(["build", "--now", NOW.toISOString()], root);
    expect(built.code).toBe(1);
    await expect(stat(join(root, "dist"))).rejects.toThrow();
  });

  it("refuses, on a rebuild as on a first build, an old address where the output folder keeps its own marker", async () => {
    const root = await tempProject({ articles: { "moved.md": article("title: Moved\ndate: 2026-11-01") } });
    expect((await runCliHere(["build", "--now", NOW.toISOString()], root)).code).toBe(0);
    const before = await state(join(root, "dist"));
    await writeFile(join(root, "articles/moved.md"), article("title: Moved\ndate: 2026-11-01\naliases: [/.presswork-output/]"));
    const built = await runCliHere(["build", "--now", NOW.toISOString()], root);
    expect(built.code).toBe(1);
    expect(built.stderr).toContain("the output file .presswork-output is both a file and the folder of other files");
    expect(await state(join(root, "dist"))).toEqual(before);
  });

  it("takes an output manifest, or the changes recorded beside it, of another shape for none, and builds from what the folder holds", async () => {
    const root = await tempProject({ samples: true });
    const cache = join(root, ".presswork-cache");
    const path = join(root, "articles/municipal-broadband.md");
    const original = await readFile(path, "utf8");
    const buildAs = async (text: string, says: string) => {
      await writeFile(path, original.replace("Neighbouring towns served", text));
      const built = await runCliHere(["build", "--now", NOW.toISOString()], root);
      expect(built.code, built.stderr).toBe(0);
      expect(await readFile(join(root, "dist/articles/municipal-broadband/index.html"), "utf8")).toContain(says);
    };
    await buildAs("Neighbouring towns served", "Neighbouring towns served");
    const name = (await readdir(cache)).find((file) => /^output-\w+\.json$/.test(file));
    if (!name) throw new Error("the build kept no output manifest");
    const manifest = join(cache, name);
    const changes = manifest.replace(/\.json$/, ".changes.json");

    // A rebuild records what it changed beside the manifest (an edit no list of articles shows: the pages' plan is the same). Those changes cut short, the manifest alone
    // is older than the folder: a build back to the manifest's text must not take the page for unchanged.
    await buildAs("Nearby towns served", "Nearby towns served");
    expect(Object.keys((JSON.parse(await readFile(changes, "utf8")) as { keys: object }).keys)).toContain("articles/municipal-broadband/index.html");
    await writeFile(changes, (await readFile(changes, "utf8")).slice(0, 40));
    await buildAs("Neighbouring towns served", "Neighbouring towns served");

    const { unkeyed: _unkeyed, ...cut } = JSON.parse(await readFile(manifest, "utf8")) as Record<string, unknown>;
    await writeFile(manifest, JSON.stringify(cut));
    await buildAs("Adjacent towns served", "Adjacent towns served");
  });

  it("fails a build on a file-system error with exit 1, a clear line, and nothing written; the next build succeeds", async () => {
    const root = await tempProject({ samples: true });
    const out = join(root, "dist");
    expect((await runCliHere(["build", "--now", NOW.toISOString()], root)).code).toBe(0);
    // An edit for the next build to write, and a file where that build needs a folder.
    const path = join(root, "articles/municipal-broadband.md");
    await writeFile(path, (await readFile(path, "utf8")).replace("mostly good news", "mostly very good news"));
    await rm(join(out, "articles/municipal-broadband"), { recursive: true });
    await writeFile(join(out, "articles/municipal-broadband"), "not a folder");
    const before = await state(out);
    const failed = await runCliHere(["build", "--now", NOW.toISOString()], root);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("presswork build: cannot write dist/articles/municipal-broadband/index.html: a file stands where a folder is needed (EEXIST). Nothing was written");
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    expect(await state(out)).toEqual(before);
    await rm(join(out, "articles/municipal-broadband"));
    const again = await runCliHere(["build", "--now", NOW.toISOString()], root);
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    expect(await readFile(join(out, "articles/municipal-broadband/index.html"), "utf8")).toContain("mostly very good news");
  });

  it("takes back what it staged when a write fails part way, in a new folder and in an old one", async () => {
    const root = await tempProject();
    const plan = emptyPlan();
    plan.files.set(MARKER, "marker\n");
    for (let i = 0; i < 50; i++) plan.files.set(`pages/${i}/index.html`, `page ${i}`);
    plan.copies.set("images/gone.png", join(root, "no-such-image.png"));
    const fresh = join(root, "new", "dist");
    expect(() => writeOutput(fresh, plan)).toThrow(/^cannot write dist\/images\/gone\.png: \/.*\/no-such-image\.png is gone \(ENOENT\)\. Nothing was written$/);
    await expect(stat(join(root, "new"))).rejects.toThrow();

    const old = join(root, "old");
    plan.copies.clear();
    writeOutput(old, plan);
    const before = await state(old);
    plan.files.set(MARKER, "marker, second build\n");
    for (let i = 0; i < 50; i++) plan.files.set(`pages/${i}/index.html`, `page ${i}, changed`);
    plan.copies.set("images/gone.png", join(root, "no-such-image.png"));
    expect(() => writeOutput(old, plan)).toThrow(expect.objectContaining({ id: "output-write" }));
    expect(await state(old)).toEqual(before);
    expect((await readdir(old, { recursive: true })).filter((p) => p.endsWith(".tmp"))).toEqual([]);
  });

  it("writes its marker first: a first build killed part way leaves a folder the next build takes", { timeout: 60_000 }, async () => {
    const root = await tempProject({ samples: true });
    const out = join(root, "dist");
    await mkdir(root, { recursive: true });
    // The build is killed as the writer asks for its 201st page: at that moment however busy the machine is.
    const script = `import { writeOutput, MARKER } from ${JSON.stringify(join(REPO, "lib/output/write.js"))};
const plan = { files: new Map([[MARKER, "marker\\n"]]), copies: new Map(), reuse: new Set() };
let asked = 0;
const page = () => (++asked > 200 ? process.kill(process.pid, "SIGKILL") : "x".repeat(200));
for (let i = 0; i < 20000; i++) plan.files.set("many/" + (i % 200) + "/" + i + ".html", page);
writeOutput(${JSON.stringify(out)}, plan);`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "ignore", "pipe"] });
    let said = "";
    child.stderr.on("data", (chunk: Buffer) => (said += chunk.toString()));
    const [, signal] = (await once(child, "exit")) as [number | null, string | null];
    expect(signal, said).toBe("SIGKILL");
    const left = await readdir(out, { recursive: true });
    expect(left.length).toBeLessThan(20000);
    expect(left).toContain(MARKER);
    const result = await build({ root, now: NOW, out, cacheDir: false });
    expect(result.written?.removed).toBeGreaterThan(0);
    expect(await readdir(out)).not.toContain("many");
  });
});
