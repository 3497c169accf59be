import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { report } from "../../src/cli/report.js";
import { build } from "../../src/pipeline/build.js";
import { launchBrowser, serveSite } from "../helpers/browser.js";
import { runCliHere } from "../helpers/cli.js";
import { git, initRepo } from "../helpers/git.js";
import { sendToOneReader } from "../helpers/issue.js";
import { attr, elements } from "../helpers/html.js";
import { checkLines, NOW, removeProjects, tempProject } from "../helpers/project.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";

const SITE = "https://signal-noise.example/";
let smtp: TestSmtp;
let browser: Browser;
let root: string;
/** The article links of issue #3 as a subscriber received it, by slug. */
let links: Map<string, string>;
/** The addresses of the pictures issue #3 showed, as a subscriber received it. */
let pictures: string[];

/** Where a browser ends up from `url`, with the site served from `dist`, and the page's heading there. */
async function follow(url: string, dist: string): Promise<{ url: string; heading: string }> {
  const page = await browser.newPage();
  await serveSite(page, dist, new URL(url).origin);
  await page.goto(url);
  await page.waitForLoadState("load");
  // A refresh of 0 s navigates as soon as the page is parsed: wait for the page that has an article heading.
  await page.waitForSelector("h1", { timeout: 10_000 }).catch(() => undefined);
  const result = { url: page.url(), heading: (await page.locator("h1").first().textContent().catch(() => "")) ?? "" };
  await page.close();
  return result;
}

/** Builds the project into its dist/, as `presswork build` does; an error it reports fails the test. */
async function buildSite(): Promise<string> {
  const dist = join(root, "dist");
  const result = await build({ root, now: NOW, out: dist, cacheDir: false });
  const said: string[] = [];
  report(result.files, (line) => said.push(line), false);
  expect(said.filter((line) => line.includes(" error "))).toEqual([]);
  return dist;
}

/** The lines `presswork check` prints for the project now. */
const check = () => checkLines(root);

beforeAll(async () => {
  smtp = await startSmtp();
  root = await tempProject({ samples: true });
  initRepo(root);
  const html = await sendToOneReader(root, smtp);
  const hrefs = elements(html).map((a) => attr(a, "href") ?? "");
  pictures = elements(html).flatMap((img) => (img.tagName === "img" ? [attr(img, "src") ?? ""] : []));
  links = new Map(hrefs.flatMap((href) => (href.startsWith(`${SITE}articles/`) ? [[href.slice(`${SITE}articles/`.length).split("/")[0] ?? "", href]] : [])));
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await smtp?.close();
  await removeProjects();
});

describe("old addresses of articles", () => {
  it("sends a reader who follows a sent issue's link on to the article's new address, after a rename that kept its id", async () => {
    // issue #3 carried the undersea cable story; the editor renames its file, and so its address.
    const link = links.get("undersea-cable-repair");
    expect(link).toBeDefined();
    await rename(join(root, "articles/undersea-cable-repair.md"), join(root, "articles/subsea-cable-repair.md"));
    // As check tells them, the editor mends the link another article has to it.
    const linking = join(root, "articles/municipal-broadband.md");
    await writeFile(linking, (await readFile(linking, "utf8")).replace("undersea-cable-repair.md", "subsea-cable-repair.md"));
    const dist = await buildSite();

    const moved = await readFile(join(dist, "articles/undersea-cable-repair/index.html"), "utf8");
    const head = elements(moved);
    const newUrl = `${SITE}articles/subsea-cable-repair/`;
    expect(head.find((e) => e.tagName === "link" && attr(e, "rel") === "canonical")?.attrs).toContainEqual({ name: "href", value: newUrl });
    expect(head.some((e) => e.tagName === "meta" && attr(e, "name") === "robots" && attr(e, "content") === "noindex")).toBe(true);
    // Search engines are sent to the new address; the sitemap lists it and not the old one.
    const sitemap = await readFile(join(dist, "sitemap.xml"), "utf8");
    expect(sitemap).toContain(`<loc>${newUrl}</loc>`);
    expect(sitemap).not.toContain("undersea-cable-repair");

    // Chromium, from the link in the email as the subscriber received it, lands on the article.
    const landed = await follow(link ?? "", dist);
    expect(landed.url).toBe(newUrl);
    expect(landed.heading).toContain("Undersea");
    // In a preview (or on a staging host) the reader stays there, not sent to the live site.
    expect((await follow("http://127.0.0.1:4000/articles/undersea-cable-repair/", dist)).url).toBe("http://127.0.0.1:4000/articles/subsea-cable-repair/");
    // The issue's page on the site links to the old address: that link leads there too.
    const issuePage = await readFile(join(dist, "issues/3/index.html"), "utf8");
    expect(issuePage).toContain("articles/undersea-cable-repair/");
    expect((await check()).filter((line) => line.includes("issue-link-gone"))).toEqual([]);
  });

  it("keeps the pictures a sent issue showed from a renamed article's folder at their old addresses, in the email and on the issue's page", async () => {
    const shown = pictures.filter((src) => src.startsWith(`${SITE}articles/open-silicon-fab/`));
    expect(shown.length).toBeGreaterThan(0);
    await rename(join(root, "articles/open-silicon-fab"), join(root, "articles/community-fab"));
    const linking = join(root, "articles/rust-in-the-kernel/index.md");
    await writeFile(linking, (await readFile(linking, "utf8")).replaceAll("../open-silicon-fab/", "../community-fab/"));
    const dist = await buildSite();
    // Each picture of the email is a picture at its old address (the email-size copy of a large one), as the issue's page shows it too.
    for (const src of shown) {
      const bytes = await readFile(join(dist, decodeURIComponent(src.slice(SITE.length))));
      expect(bytes.subarray(1, 4).toString(), src).toBe("PNG");
    }
    const page = await readFile(join(dist, "issues/3/index.html"), "utf8");
    for (const img of elements(page).filter((e) => e.tagName === "img" && (attr(e, "src") ?? "").includes("open-silicon-fab/"))) {
      const src = attr(img, "src") ?? "";
      await expect(readFile(join(dist, decodeURIComponent(new URL(src, SITE).pathname))), src).resolves.toBeDefined();
    }
    expect((await follow(links.get("open-silicon-fab") ?? "", dist)).url).toBe(`${SITE}articles/community-fab/`);
    expect((await check()).filter((line) => line.includes("-gone"))).toEqual([]);
  });

  it("makes a page at each old address an article lists in aliases, a folder's or an .html file's", async () => {
    const path = join(root, "articles/municipal-broadband.md");
    const text = await readFile(path, "utf8");
    await writeFile(path, text.replace("\ntitle:", "\naliases:\n  - /2019/05/town-fibre.html\n  - articles/town-fibre\ntitle:"));
    const dist = await buildSite();
    for (const old of ["2019/05/town-fibre.html", "articles/town-fibre/"]) {
      const landed = await follow(`${SITE}${old}`, dist);
      expect(landed.url, old).toBe(`${SITE}articles/municipal-broadband/`);
      expect(landed.heading, old).toContain("Town-Owned Fibre");
    }
  });

  it("warns, naming the issues, when a sent issue links to an article that is gone with no old address to send readers on", async () => {
    // Issue #3 carried the Rust story, which the editor deletes.
    const gone = "rust-in-the-kernel";
    expect(links.has(gone)).toBe(true);
    await rm(join(root, "articles", gone), { recursive: true });
    const linking = join(root, "articles/community-fab/index.md");
    await writeFile(linking, (await readFile(linking, "utf8")).replace("[Rust drivers in the kernel](../rust-in-the-kernel/index.md)", "Rust drivers in the kernel"));
    const lines = await check();
    const warnings = lines.filter((line) => line.includes("issue-link-gone"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^newsletter/sent\\.json:1:1  warning  issue #3 links to articles/${gone}/ \\(".+"\\), where no page is now: readers who follow it from their inbox find nothing\\. If the article moved, list its old address in its front matter: aliases: \\[articles/${gone}/\\]  issue-link-gone$`));
    // A build goes on, with no page at that address.
    const dist = join(root, "dist");
    const result = await build({ root, now: NOW, out: dist, cacheDir: false });
    expect(result.plan).toBeDefined();
    expect(result.plan?.files.has(`articles/${gone}/index.html`)).toBe(false);
  });

  it("warns, naming the issue, when a picture a sent issue's email shows is gone from the site", async () => {
    // The editor drops the cover picture of the fab story, which issue #3's email showed.
    const path = join(root, "articles/community-fab/index.md");
    await writeFile(path, (await readFile(path, "utf8")).replace(/\nimage:\n(  .*\n)+/, "\n"));
    const warnings = (await check()).filter((line) => line.includes("issue-picture-gone"));
    const shown = pictures.filter((src) => src.startsWith(`${SITE}articles/open-silicon-fab/`)).map((src) => src.slice(SITE.length).replace(/\.\d+w-[0-9a-f]{12}\./, "."));
    expect(shown.length).toBeGreaterThan(0);
    expect(warnings).toEqual(
      [...new Set(shown)].map(
        (picture) =>
          `newsletter/sent.json:1:1  warning  issue #3 shows the picture ${picture}, which the site no longer has: it is blank in those emails for every reader who opens them from now on. Put the file back where it was (a renamed article that keeps its id keeps its pictures at the old address)  issue-picture-gone`,
      ),
    );
  });

  it("fails CI's strict check of a change that deletes an article a sent issue links to, once the check has fetched the state, as ci.yml does", async () => {
    // The repository as GitHub holds it, and the checkout actions/checkout makes: the commit's branch alone.
    const remote = join(root, "..", `${root.split("/").at(-1)}-remote.git`);
    const work = join(root, "..", `${root.split("/").at(-1)}-checkout`);
    git(root, "clone", "--quiet", "--bare", root, remote);
    git(root, "clone", "--quiet", "--single-branch", "--branch", "main", remote, work);
    try {
      await rm(join(work, "articles/rust-in-the-kernel"), { recursive: true });
      const linking = join(work, "articles/open-silicon-fab/index.md");
      await writeFile(linking, (await readFile(linking, "utf8")).replace("[Rust drivers in the kernel](../rust-in-the-kernel/index.md)", "Rust drivers in the kernel"));
      const env = { PRESSWORK_STATE_REMOTE: "origin" };
      // Without the state branch, the check knows nothing of issue #3.
      const blind = await runCliHere(["check", "--strict", "--now", NOW.toISOString()], work, env);
      expect(blind.stderr).not.toContain("issue-link-gone");
      expect((await runCliHere(["state", "fetch"], work, env)).code).toBe(0);
      const seeing = await runCliHere(["check", "--strict", "--now", NOW.toISOString()], work, env);
      expect(seeing.code).toBe(1);
      expect(seeing.stderr).toContain("issue #3 links to articles/rust-in-the-kernel/");
    } finally {
      await rm(remote, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
    }
  });
});
