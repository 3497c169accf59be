import { copyFile, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/pipeline/build.js";
import { launchBrowser, serveSite } from "../helpers/browser.js";
import { initRepo } from "../helpers/git.js";
import { sendToOneReader } from "../helpers/issue.js";
import { attr, elements } from "../helpers/html.js";
import { checkLines, NOW, REPO, removeProjects, tempProject } from "../helpers/project.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";

const SITE = "https://signal-noise.example/";
let smtp: TestSmtp;
let browser: Browser;
let root: string;
/** The HTML of issue #3 as a subscriber received it. */
let received: string;

beforeAll(async () => {
  smtp = await startSmtp();
  root = await tempProject({ samples: true });
  // The editor's note of issue #3 shows a picture and links to a PDF, both saved beside it.
  await copyFile(join(REPO, "articles/open-silicon-fab/wafer.png"), join(root, "newsletter/notes/our team.png"));
  await writeFile(join(root, "newsletter/notes/slides.pdf"), "%PDF-1.4\n% the talk's slides\n");
  await writeFile(join(root, "newsletter/notes/3.md"), "We met the fab's volunteers: ![The volunteers in the cleanroom](our%20team.png)\n\nTheir [slides](slides.pdf#page=2) are worth a look.\n");
  initRepo(root);
  received = await sendToOneReader(root, smtp);
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await smtp?.close();
  await removeProjects();
});

describe("a file beside an editor's note", () => {
  it("is published at its issue's address, which the email shows and links to, and the issue's page shows it in a browser", async () => {
    const pictures = elements(received).flatMap((e) => (e.tagName === "img" ? [attr(e, "src") ?? ""] : []));
    const links = elements(received).flatMap((e) => (e.tagName === "a" ? [attr(e, "href") ?? ""] : []));
    expect(pictures).toContain(`${SITE}issues/3/our%20team.png`);
    expect(links).toContain(`${SITE}issues/3/slides.pdf#page=2`);

    const dist = join(root, "dist");
    const result = await build({ root, now: NOW, out: dist, cacheDir: false });
    expect(result.files.flatMap((f) => f.messages.map(String))).toEqual([]);
    expect((await readFile(join(dist, "issues/3/our team.png"))).equals(await readFile(join(root, "newsletter/notes/our team.png")))).toBe(true);
    expect(await readFile(join(dist, "issues/3/slides.pdf"), "utf8")).toContain("the talk's slides");

    // The page, served from dist/: the picture loads.
    const page = await browser.newPage();
    await serveSite(page, dist, new URL(SITE).origin);
    await page.goto(`${SITE}issues/3/`);
    const width = await page.locator('img[alt="The volunteers in the cleanroom"]').evaluate((img: HTMLImageElement) => img.decode().then(() => img.naturalWidth));
    expect(width).toBeGreaterThan(0);
    await page.close();
  });

  it("gone from the notes folder after the send, is warned about, as the email shows it to every reader who opens it from now on", async () => {
    await rm(join(root, "newsletter/notes/our team.png"));
    const warnings = (await checkLines(root)).filter((line) => line.includes("issue-picture-gone"));
    expect(warnings).toEqual([
      "newsletter/sent.json:1:1  warning  issue #3 shows the picture issues/3/our team.png, which the site no longer has: it is blank in those emails for every reader who opens them from now on. Put the file back where it was (a renamed article that keeps its id keeps its pictures at the old address)  issue-picture-gone",
    ]);
  });

  it("that is not there is an error on the note's line, as an article's is", async () => {
    const project = await tempProject({ samples: true, newsletter: { "notes/3.md": "This week: ![A map](map.png)\n" } });
    expect((await checkLines(project)).filter((line) => line.startsWith("newsletter/notes/3.md"))).toEqual(["newsletter/notes/3.md:1:12  error  links to map.png, but there is no file newsletter/notes/map.png  broken-link"]);
  });
});
