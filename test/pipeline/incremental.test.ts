import { readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WarmFiles } from "../../src/cache/warm.js";
import { PLACEHOLDERS } from "../../src/content/placeholders.js";
import { build, type Assembly } from "../../src/pipeline/build.js";
import { article, NOW, put, REPO, removeProjects, snapshot, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

function messages(result: Assembly): string[] {
  return result.files.flatMap((f) => f.messages.map((m) => `${f.path}:${m.line ?? 0}:${m.column ?? 0} ${m.fatal ? "error" : "warning"} ${m.reason}`)).sort();
}

/** Sets every file under `dir` an hour back, as files checked out long before the build. */
async function age(dir: string): Promise<void> {
  const then = new Date(Date.now() - 3_600_000);
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) await utimes(join(e.parentPath, e.name), then, then);
}

describe("incremental builds", () => {
  it("write, after every kind of edit, the same bytes and messages as a build from scratch, each in a fresh process or all in one that keeps its cache warm", { timeout: 120_000 }, async () => {
    const root = await tempProject({ samples: true });
    await age(join(root, "articles"));
    const cacheDir = join(root, "cache");
    const out = join(root, "dist");
    await build({ root, now: NOW, out, cacheDir });
    // As preview builds: one process, its cache's journals and manifest kept parsed from one build to the next.
    const warmDirs = { out: join(root, "dist-warm"), cacheDir: join(root, "cache-warm") };
    const kept = { ...warmDirs, warm: new WarmFiles() };
    await build({ root, now: NOW, ...kept });

    const file = (path: string) => join(root, path);
    const replace = (path: string, from: string, to: string) => async () => {
      const text = await readFile(file(path), "utf8");
      expect(text, `${path} holds "${from}"`).toContain(from);
      await writeFile(file(path), text.replace(from, to));
    };
    const edits: Array<[string, () => Promise<void>]> = [
      ["a body edit of the same length", replace("articles/municipal-broadband.md", "mostly good news", "mostly gold news")],
      [
        "a same-length edit whose file gets its old time back",
        async () => {
          const { mtime } = await stat(file("articles/municipal-broadband.md"));
          await replace("articles/municipal-broadband.md", "mostly gold news", "mostly bold news")();
          await utimes(file("articles/municipal-broadband.md"), mtime, mtime);
        },
      ],
      ["a word changed deep in a body, which no list shows", replace("articles/municipal-broadband.md", "Neighbouring towns served", "Nearby towns served")],
      ["the word changed back, whose render is still cached", replace("articles/municipal-broadband.md", "Nearby towns served", "Neighbouring towns served")],
      ["a title fix", replace("articles/undersea-cable-repair.md", "Inside the Ship", "Aboard the Ship")],
      ["a heading another article links to renamed", replace("articles/open-silicon-fab/index.md", "## How the line works", "## Inside the line")],
      ["a tag change", replace("articles/rust-in-the-kernel/index.md", "tags: [Open Source, Programming]", "tags: [Open Source, Linux]")],
      ["a new article with a warning", async () => put(file("articles/fresh-take.md"), article("title: A Fresh Take\ndate: 2026-11-27\nsumary: Misspelt key.\ntags: [Networks]", "Links to [the fibre story](municipal-broadband.md)."))],
      // Warnings and errors a review finds in a body come from facts the render cache keeps: the builds after replay them.
      [
        "two new articles: one with Quick Reads in both its front matter and its body and no paragraph, one that still opens with the placeholders of presswork new",
        async () => {
          await put(file("articles/points-twice.md"), article("title: Points Twice\ndate: 2026-11-26\nkeyPoints: [One, Two]\ntags: [Networks]", "## Quick Reads\n\n- One\n- Two"));
          await put(file("articles/unwritten.md"), article("title: Unwritten\ndate: 2026-11-25\ntags: [Networks]", "## Quick Reads\n\n- The second.\n\nStart the story here."));
        },
      ],
      ["another article edited while it is left so", replace("articles/undersea-cable-repair.md", "Aboard the Ship", "Aboard the Vessel")],
      ["the unwritten article removed", async () => rm(file("articles/unwritten.md"))],
      ["an article that now links to nothing", replace("articles/fresh-take.md", "municipal-broadband.md", "no-such-story.md")],
      ["the link fixed again", replace("articles/fresh-take.md", "no-such-story.md", "municipal-broadband.md")],
      ["a new article that takes an existing slug", async () => put(file("articles/copycat.md"), article("title: Copycat\ndate: 2026-11-20\nslug: satellite-direct-to-phone"))],
      ["the copy removed", async () => rm(file("articles/copycat.md"))],
      ["the linked article's slug changes", replace("articles/municipal-broadband.md", "authors: [ada]", "slug: town-fibre\nauthors: [ada]")],
      ["the linked article rescheduled for later", replace("articles/municipal-broadband.md", "date: 2026-11-05", "date: 2026-12-24")],
      ["the linked article published again", replace("articles/municipal-broadband.md", "date: 2026-12-24", "date: 2026-11-05")],
      ["a date change that reorders the home page", replace("articles/chipmakers-r-and-d.md", "date: 2026-10-08T09:00:00Z", "date: 2026-11-28T09:00:00Z")],
      ["a draft published", replace("articles/satellite-direct-to-phone.md", "draft: true", "draft: false")],
      ["an article made a draft", replace("articles/quantum-error-correction.md", "tags: [Research, Quantum]", "tags: [Research, Quantum]\ndraft: true")],
      ["an article deleted", async () => rm(file("articles/quantum-error-correction.md"))],
      ["an article moved into a folder", async () => put(file("articles/chipmakers-r-and-d/index.md"), await readFile(file("articles/chipmakers-r-and-d.md"))).then(() => rm(file("articles/chipmakers-r-and-d.md")))],
      ["an image replaced", async () => writeFile(file("articles/open-silicon-fab/wafer.png"), await readFile(file("articles/rust-in-the-kernel/driver-graph.png")))],
      ["a picture no longer shown, whose file the site no longer has", replace("articles/open-silicon-fab/index.md", "](die-shot.png)", "](wafer.png)")],
      ["a site template change", replace("templates/site/card.liquid", "</article>", "</article>\n<!-- card -->")],
      ["a config change", replace("presswork.config.yaml", "perPage: 5", "perPage: 3")],
      ["the editor's note of the next issue", async () => put(file("newsletter/notes/3.md"), "A note, **rewritten**.\n")],
      [
        "an issue recorded as sent",
        async () => {
          const record = JSON.parse(await readFile(file("newsletter/sent.json"), "utf8")) as { issues: unknown[] };
          record.issues.push({ number: 3, date: "2026-11-27T08:00:00Z", subject: "Signal & Noise #3: Town-Owned Fibre", articles: ["tag:signal-noise.example,2026-11-05:municipal-broadband"] });
          await writeFile(file("newsletter/sent.json"), JSON.stringify(record, null, 2));
        },
      ],
      ["a renamed file under the same slug", async () => rename(file("articles/fresh-take.md"), file("articles/fresh-take-renamed.md")).then(replace("articles/fresh-take-renamed.md", "title: A Fresh Take", "title: A Fresh Take\nslug: fresh-take"))],
    ];
    const refused: string[] = [];
    for (const [what, edit] of edits) {
      await edit();
      const incremental = await build({ root, now: NOW, out, cacheDir });
      const warmBuild = await build({ root, now: NOW, ...kept });
      const fresh = await build({ root, now: NOW, out: file("fresh"), cacheDir: false });
      expect(messages(incremental), what).toEqual(messages(fresh));
      expect(messages(warmBuild), `${what}, warm`).toEqual(messages(fresh));
      expect(Boolean(incremental.written), what).toBe(Boolean(fresh.written));
      expect(Boolean(warmBuild.written), `${what}, warm`).toBe(Boolean(fresh.written));
      if (!fresh.written) {
        refused.push(what);
        continue;
      }
      const [a, m, b] = await Promise.all([snapshot(out), snapshot(kept.out), snapshot(file("fresh"))]);
      for (const [built, how] of [
        [a, what],
        [m, `${what}, warm`],
      ] as const) {
        expect([...built.keys()].sort(), how).toEqual([...b.keys()].sort());
        for (const [path, bytes] of b) expect(built.get(path)?.equals(bytes), `${how}: ${path}`).toBe(true);
      }
      await rm(file("fresh"), { recursive: true });
    }
    expect(refused).toEqual([
      "two new articles: one with Quick Reads in both its front matter and its body and no paragraph, one that still opens with the placeholders of presswork new",
      "another article edited while it is left so",
      "an article that now links to nothing",
      "a new article that takes an existing slug",
      "the linked article rescheduled for later",
    ]);
    // What the warm process left on disk is what it held: a fresh process finds its output up to date.
    expect((await build({ root, now: NOW, ...warmDirs })).written).toMatchObject({ written: 0, removed: 0 });
  });
});

describe("what a rebuild rewrites", () => {
  it("judge a cached body against the placeholders of the code that builds, as a build from nothing does", async () => {
    const root = await tempProject({ articles: { "unwritten.md": article("title: Unwritten\ndate: 2026-11-25", "## Quick Reads\n\n- The second.\n\nA story of its own.") } });
    const cacheDir = join(root, "cache");
    const placeholders = (result: Assembly) => messages(result).filter((line) => line.includes("placeholders from presswork new"));
    expect(placeholders(await build({ root, now: NOW, out: join(root, "dist"), cacheDir }))).toHaveLength(1);
    // Another version of the placeholders, as another version of `presswork new` writes them.
    const points = PLACEHOLDERS.points as unknown as string[];
    const before = [...points];
    points.splice(0, points.length, "The first thing a busy reader should know.");
    try {
      expect(placeholders(await build({ root, now: NOW, out: join(root, "dist-fresh"), cacheDir: false }))).toEqual([]);
      expect(placeholders(await build({ root, now: NOW, out: join(root, "dist"), cacheDir }))).toEqual([]);
    } finally {
      points.splice(0, points.length, ...before);
    }
  });

  it("warn about a link to a heading another article no longer has, though the linking article's body comes from the cache", async () => {
    const root = await tempProject({ samples: true });
    const cacheDir = join(root, "cache");
    const out = join(root, "dist");
    const fab = join(root, "articles/open-silicon-fab/index.md");
    const text = await readFile(fab, "utf8");
    const warnings = (result: Assembly) => messages(result).filter((line) => line.includes("broken-anchor") || line.includes("#how-the-line-works"));
    expect(warnings(await build({ root, now: NOW, out, cacheDir }))).toEqual([]);
    await writeFile(fab, text.replace("## How the line works", "## Inside the line"));
    const renamed = await build({ root, now: NOW, out, cacheDir });
    expect(renamed.bodies.rendered).toBe(1);
    expect(warnings(renamed)).toEqual([
      `articles/rust-in-the-kernel/index.md:38:206 warning links to ../open-silicon-fab/index.md#how-the-line-works, but no heading in ../open-silicon-fab/index.md has the id "how-the-line-works", so the link opens at the top of the page`,
    ]);
    await writeFile(fab, text.replace("## How the line works", "## How the line work"));
    expect(warnings(await build({ root, now: NOW, out, cacheDir }))[0]).toMatch(/so the link opens at the top of the page: did you mean #how-the-line-work\?$/);
    await writeFile(fab, text);
    expect(warnings(await build({ root, now: NOW, out, cacheDir }))).toEqual([]);
  });

  it("warn about an editor's note whose link names a heading an article no longer has, though the note is remembered", async () => {
    const root = await tempProject({ samples: true });
    const cacheDir = join(root, "cache");
    const out = join(root, "dist");
    const fab = join(root, "articles/open-silicon-fab/index.md");
    const text = await readFile(fab, "utf8");
    await writeFile(join(root, "newsletter/notes/3.md"), "How a fab works: [the line](../../articles/open-silicon-fab/index.md#how-the-line-works).\n");
    const warnings = (result: Assembly) => messages(result).filter((line) => line.startsWith("newsletter/"));
    expect(warnings(await build({ root, now: NOW, out, cacheDir }))).toEqual([]);
    await writeFile(fab, text.replace("## How the line works", "## Inside the line"));
    const expected = `newsletter/notes/3.md:1:18 warning links to ../../articles/open-silicon-fab/index.md#how-the-line-works, but no heading in ../../articles/open-silicon-fab/index.md has the id "how-the-line-works", so the link opens at the top of the page`;
    expect(warnings(await build({ root, now: NOW, out, cacheDir }))).toEqual([expected]);
    // Built again with nothing changed, the note comes from the cache and still says so.
    expect(warnings(await build({ root, now: NOW, out, cacheDir }))).toEqual([expected]);
    await writeFile(fab, text);
    expect(warnings(await build({ root, now: NOW, out, cacheDir }))).toEqual([]);
  });

  it("after a body edit: the article's page and the feeds that carry it, never an author page, the feeds page or a full archive page", async () => {
    const config = (await readFile(join(REPO, "presswork.config.yaml"), "utf8")).replace("  limit: 20\n", "  limit: 3\n");
    const root = await tempProject({ samples: true, config });
    await age(join(root, "articles"));
    const out = join(root, "dist");
    const cacheDir = join(root, "cache");
    await build({ root, now: NOW, out, cacheDir });
    /** Each file's inode: a file written again gets a new one. */
    const inodes = async () => new Map(await Promise.all([...(await snapshot(out)).keys()].map(async (path) => [path.split("\\").join("/"), (await stat(join(out, path))).ino] as const)));
    const before = await inodes();
    const path = join(root, "articles/undersea-cable-repair.md");
    await writeFile(path, (await readFile(path, "utf8")).replace("The call came at 3 a.m.", "The call came at 4 a.m."));
    await build({ root, now: NOW, out, cacheDir });
    const after = await inodes();
    const rewritten = [...after.keys()].filter((p) => after.get(p) !== before.get(p)).filter((p) => p !== ".presswork-output").sort();
    // The cable story is the third newest of eight: in the current feed of three, and sixth oldest, on archive page 2 (articles 4 to 6).
    expect(rewritten).toEqual([
      "articles/undersea-cable-repair/index.html",
      "atom.xml",
      "authors/tomas/atom.xml",
      "authors/tomas/feed.json",
      "authors/tomas/feed.xml",
      "feed.json",
      "feed.xml",
      "feeds/archive/2/atom.xml",
      "feeds/archive/2/feed.json",
      "feeds/archive/2/feed.xml",
      "tags/infrastructure/atom.xml",
      "tags/infrastructure/feed.json",
      "tags/infrastructure/feed.xml",
      "tags/networks/atom.xml",
      "tags/networks/feed.json",
      "tags/networks/feed.xml",
    ]);
  });
});
