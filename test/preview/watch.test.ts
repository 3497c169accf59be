import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPreview, type Preview } from "../../src/preview/server.js";
import { put, removeProjects, tempProject } from "../helpers/project.js";

let preview: Preview;
let root: string;
const logged: string[] = [];

/** The HTML of a page of the preview. */
const page = async (path: string) => (await fetch(new URL(path, preview.url))).text();
/** Waits until `check` holds, polling: a rebuild takes a moment after a file changes. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  root = await tempProject({ samples: true });
  // What a real checkout holds beside the inputs, none of which may be watched.
  for (const dir of ["node_modules/some-package/lib", ".git/objects/ab", "dist/articles"]) await put(join(root, dir, "file.js"), "x");
  preview = await startPreview({ root, port: 0, smtpPort: 0, log: (line) => logged.push(line) });
});
afterAll(async () => {
  await preview?.close();
  await removeProjects();
});

describe("the preview's watcher", () => {
  it("watches the project's inputs and nothing else", () => {
    const watched = preview.watched();
    expect(watched).toEqual(expect.arrayContaining(["", "articles", "articles/open-silicon-fab", "templates/site", "templates/email", "newsletter/notes"]));
    expect(watched.filter((dir) => /^(node_modules|\.git|dist|\.presswork-cache)(\/|$)/.test(dir))).toEqual([]);
  });

  it("keeps rebuilding after atomic saves (a file written beside the article and renamed over it, as sed -i, vim and JetBrains do)", async () => {
    const file = join(root, "articles/municipal-broadband.md");
    const saves: Array<[string, (text: string) => Promise<void>]> = [
      ["sed -i", async (text) => {
        await writeFile(join(root, "articles/sedAb12Cd"), text);
        await rename(join(root, "articles/sedAb12Cd"), file);
      }],
      ["a plain save after it", (text) => writeFile(file, text)],
      ["JetBrains", async (text) => {
        await writeFile(`${file}___jb_tmp___`, text);
        await rename(file, `${file}___jb_old___`);
        await rename(`${file}___jb_tmp___`, file);
        await rm(`${file}___jb_old___`);
      }],
      ["another plain save", (text) => writeFile(file, text)],
    ];
    for (const [n, [how, save]] of saves.entries()) {
      const title = `Town-Owned Fibre: ${n + 4} Years of Numbers`;
      await save((await readFile(file, "utf8")).replace(/Town-Owned Fibre: \w+ Years of Numbers/, title));
      await until(async () => (await page("articles/municipal-broadband/")).includes(title), `the page to show "${title}" after ${how}`);
    }
  });

  it("notices a folder made after it started, and an article in it", async () => {
    await mkdir(join(root, "articles/late-arrival"));
    await writeFile(join(root, "articles/late-arrival/index.md"), "---\ntitle: A Late Arrival\ndate: 2026-11-02\n---\n\nBody.\n");
    await until(async () => (await page("articles/late-arrival/")).includes("A Late Arrival"), "the new article's page");
  });

  it("prints each problem in the terminal, as check does", async () => {
    const file = join(root, "articles/undersea-cable-repair.md");
    const good = await readFile(file, "utf8");
    logged.length = 0;
    await writeFile(file, good.replace("date: 2026-11-12T06:00:00Z", "date: 2026-13-12").replace("title:", "titel: x\ntitle:"));
    await until(async () => logged.some((line) => line.includes("error")), "a problem in the log");
    expect(logged).toContain(`articles/undersea-cable-repair.md:4:7  error  'date' is "2026-13-12", not a date. Write it as YYYY-MM-DD, or YYYY-MM-DDTHH:MM with an optional offset such as +02:00  front-matter-date`);
    expect(logged).toContain("articles/undersea-cable-repair.md:2:1  warning  unknown key 'titel': did you mean 'title'? It is ignored.  unknown-key");
    await writeFile(file, good);
    await until(async () => logged.some((line) => /^rebuilt/.test(line)), "a clean rebuild");
  });
});
