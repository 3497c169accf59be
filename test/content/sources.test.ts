import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { assemble, build } from "../../src/pipeline/build.js";
import { xmllint } from "../helpers/feeds.js";
import { article, NOW, removeProjects, REPO, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

async function run(articles: Record<string, string | Uint8Array>) {
  const root = await tempProject({ articles });
  const result = await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
  const messages = result.files.flatMap((f) => f.messages.map((m) => ({ file: f.path, line: m.line, column: m.column, fatal: m.fatal, reason: m.reason })));
  return { root, result, messages };
}

describe("how article files are read", () => {
  it("accepts a UTF-8 BOM and CRLF line endings, with places still right", async () => {
    const text = "\uFEFF---\r\ntitle: Windows\r\ndate: 2026-11-01\r\nbogus: 1\r\n---\r\n\r\nBody line\r\n";
    const { result, messages } = await run({ "crlf.md": new TextEncoder().encode(text) });
    expect(result.articles.map((a) => a.title)).toEqual(["Windows"]);
    expect(messages).toEqual([expect.objectContaining({ line: 4, column: 1, fatal: false, reason: "unknown key 'bogus'. It is ignored." })]);
    expect(result.articles[0]?.body.html.web).toBe("<p>Body line</p>");
  });

  it("reports bytes that are not UTF-8 with their line, and writes nothing", async () => {
    const bytes = Buffer.concat([Buffer.from("---\ntitle: Latin\ndate: 2026-11-01\n---\n\nCaf"), Buffer.from([0xe9]), Buffer.from(" au lait\n")]);
    const { result, messages } = await run({ "latin1.md": bytes });
    expect(messages).toEqual([expect.objectContaining({ file: "articles/latin1.md", line: 6, fatal: true, reason: "bytes that are not UTF-8; save the file as UTF-8" })]);
    expect(result.written).toBeUndefined();
  });

  it("fails a build whose articles/ is no folder, rather than build and deploy a site without articles", async () => {
    const root = await tempProject();
    await rm(join(root, "articles"), { recursive: true });
    await writeFile(join(root, "articles"), "a file where the folder should be\n");
    const result = await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
    const messages = result.files.flatMap((f) => f.messages.map((m) => ({ file: f.path, line: m.line, fatal: m.fatal, reason: m.reason, rule: m.ruleId })));
    expect(messages).toEqual([{ file: "articles", line: 1, fatal: true, reason: "cannot be listed (ENOTDIR), so the articles in it would be left out: articles/ must be a folder", rule: "unreadable" }]);
    expect(result.written).toBeUndefined();
    expect(existsSync(join(root, "dist"))).toBe(false);
  });

  it("fails a check when a folder under articles/ cannot be read, naming it, and says nothing else of it", async () => {
    const root = await tempProject({ articles: { "2026/story/index.md": article("title: Story\ndate: 2026-11-01") } });
    await chmod(join(root, "articles/2026"), 0o000);
    // Root reads any folder: as root, the check runs as nobody, who owns the project.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) spawnSync("chown", ["-R", "nobody", root]);
    const command = [process.execPath, join(REPO, "bin/presswork.js"), "check", "--now", NOW.toISOString()];
    const result = asRoot ? spawnSync("runuser", ["-u", "nobody", "--", ...command], { cwd: root, encoding: "utf8" }) : spawnSync(command[0] as string, command.slice(1), { cwd: root, encoding: "utf8" });
    await chmod(join(root, "articles/2026"), 0o755);
    if (result.error) return console.log(`skipped: no runuser to check as another user than root (${result.error.message})`);
    expect(result.status, result.stderr).toBe(1);
    const lines = `${result.stdout}${result.stderr}`.split("\n").filter((line) => line.startsWith("articles/"));
    expect(lines).toEqual(["articles/2026/:1:1  error  cannot be listed (EACCES), so the articles in it would be left out: make it readable  unreadable"]);
  });

  it("builds a project without an articles folder: a new newsletter has none yet", async () => {
    const root = await tempProject();
    await rm(join(root, "articles"), { recursive: true });
    const result = await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
    expect(result.files.flatMap((f) => f.messages)).toEqual([]);
    expect(result.written).toBeDefined();
  });

  it("builds a 5 MB article into valid feeds that carry its summary, not 5 MB, and says so", async () => {
    const paragraph = "Packets cross the ocean floor in a fraction of a second, and the cable holds. ".repeat(12);
    const body = Array.from({ length: 5400 }, (_, i) => (i % 50 === 0 ? `## Part ${i}\n\n${paragraph}` : paragraph)).join("\n\n");
    expect(body.length).toBeGreaterThan(5_000_000);
    const { root, result, messages } = await run({ "huge.md": article("title: Huge\ndate: 2026-11-01\nsummary: A very long read.", body), "small.md": article("title: Small\ndate: 2026-10-01") });
    expect(messages.filter((m) => m.fatal)).toEqual([]);
    expect(messages).toContainEqual(expect.objectContaining({ file: "articles/huge.md", line: 6, fatal: false, reason: expect.stringMatching(/^the body is \d\.\d MB of HTML, more than a feed item carries \(256 KB\): feeds show its summary and a link to the article instead$/) }));
    expect(result.articles.find((a) => a.title === "Huge")?.body.wordCount).toBeGreaterThan(800_000);
    for (const file of ["atom.xml", "feed.xml", "feed.json", "authors/ada/atom.xml"]) {
      const text = await readFile(join(root, "dist", file), "utf8");
      expect(text.length, file).toBeLessThan(64 * 1024);
      expect(text, file).toContain("A very long read.");
      expect(text, file).toContain("Read the full article");
    }
    expect(await xmllint(await readFile(join(root, "dist/atom.xml"), "utf8"), "atom")).toEqual([]);
    // The article's own page still has all of it.
    expect((await readFile(join(root, "dist/articles/huge/index.html"), "utf8")).length).toBeGreaterThan(5_000_000);
  });

  it("leaves drafts and future articles out of every output, and lets them in once their time comes", async () => {
    const articles = {
      "now.md": article("title: Out now\ndate: 2026-11-01"),
      // Jekyll keeps unfinished posts in _drafts/, and files starting with _ are no articles: neither are the files of such folders.
      "_drafts/investigation.md": article("title: Unfinished investigation\ndate: 2026-11-01"),
      "_notes.md": article("title: Notes to self\ndate: 2026-11-01"),
      "draft.md": article("title: Still a draft\ndate: 2026-11-01\ndraft: true"),
      "later.md": article("title: Next week\ndate: 2026-12-06T09:00:00Z"),
    };
    const { root, result } = await run(articles);
    expect(result.articles.map((a) => a.title)).toEqual(["Out now"]);
    const everything = (await Promise.all(["index.html", "feed.xml", "atom.xml", "feed.json", "sitemap.xml", "archive/index.html"].map((p) => readFile(join(root, "dist", p), "utf8")))).join("\n");
    expect(everything).not.toContain("Still a draft");
    expect(everything).not.toContain("Unfinished investigation");
    expect(everything).not.toContain("Notes to self");
    expect(result.files.flatMap((f) => f.messages.map(String))).toEqual([]);
    expect(everything).not.toContain("Next week");
    const later = await build({ root, now: new Date("2026-12-06T09:00:00Z"), out: join(root, "dist"), cacheDir: false });
    expect(later.articles.map((a) => a.title)).toEqual(["Next week", "Out now"]);
  });

  it("leaves out what editors' tools keep beside the articles: hidden files and folders, and names starting with _ anywhere on a path", async () => {
    const articles = {
      "now.md": article("title: Out now\ndate: 2026-11-01"),
      // An editor's app keeps its state in a hidden folder; a file manager leaves hidden files; an article's folder may hold notes.
      ".obsidian/workspace.md": article("title: Workspace\ndate: 2026-11-01"),
      ".trash/old.md": article("title: Thrown away\ndate: 2026-11-01"),
      ".DS_Store": new Uint8Array([0, 0, 0, 1]),
      "story/index.md": article("title: A story\ndate: 2026-11-02"),
      "story/.draft.md": article("title: A hidden draft\ndate: 2026-11-01"),
      "story/_notes.md": article("title: The story's notes\ndate: 2026-11-01"),
      "2026/_unsorted/idea.md": article("title: An idea\ndate: 2026-11-01"),
      "2026/kept.md": article("title: Kept\ndate: 2026-11-03"),
    };
    const { result, messages } = await run(articles);
    expect(result.articles.map((a) => a.title)).toEqual(["Kept", "A story", "Out now"]);
    expect(messages).toEqual([]);
  });
});

describe("permanent ids", () => {
  async function idOf(root: string): Promise<string | undefined> {
    const result = await assemble({ root, now: NOW, cacheDir: false });
    return result.articles[0]?.id;
  }

  it("derives a tag: URI from the site host, the date and the slug", async () => {
    const root = await tempProject({ articles: { "cable-news.md": article("title: Cable news\ndate: 2026-11-03") } });
    expect(await idOf(root)).toBe("tag:signal-noise.example,2026-11-03:cable-news");
  });

  it("keeps the id when the editor fixes the title", async () => {
    const root = await tempProject({ articles: { "cable-news.md": article("title: Cabel news\ndate: 2026-11-03") } });
    const before = await idOf(root);
    await writeFile(join(root, "articles/cable-news.md"), article("title: Cable news, corrected\ndate: 2026-11-03"));
    expect(await idOf(root)).toBe(before);
  });

  it("keeps the id when the file is renamed, as `presswork new` pins it in the front matter", async () => {
    const root = await tempProject({ articles: { "draft-name.md": article("title: Cable news\ndate: 2026-11-03\nid: tag:signal-noise.example,2026-11-03:draft-name") } });
    const before = await idOf(root);
    await rename(join(root, "articles/draft-name.md"), join(root, "articles/cable-news.md"));
    expect(await idOf(root)).toBe(before);
  });

  it("keeps the id when the file is renamed and the slug is set in the front matter", async () => {
    const root = await tempProject({ articles: { "old.md": article("title: Cable news\ndate: 2026-11-03\nslug: cable-news") } });
    const before = await idOf(root);
    await rename(join(root, "articles/old.md"), join(root, "articles/new-name.md"));
    expect(await idOf(root)).toBe(before);
  });
});
