import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/pipeline/build.js";
import { send } from "../../src/pipeline/send.js";
import { runCliHere } from "../helpers/cli.js";
import { initRepo } from "../helpers/git.js";
import { NOW, removeProjects, tempProject } from "../helpers/project.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";
import { readState } from "../helpers/state.js";

const SECRET = "archive-secret";
/** What an issue's send shows beyond its own page: the index, the issues' feeds, the sitemap. */
const LISTS = ["issues/index.html", "issues/feed.xml", "issues/atom.xml", "issues/feed.json", "sitemap.xml"];
const THIRD = "issues/3/index.html";

let smtp: TestSmtp;
let root: string;
const read = (path: string, out = "dist") => readFile(join(root, out, path), "utf8");
const edit = async (path: string, from: string, to: string) => {
  const text = await readFile(join(root, path), "utf8");
  expect(text, path).toContain(from);
  await writeFile(join(root, path), text.replace(from, to));
};
const buildAt = (out = "dist", cacheDir: string | false = join(root, ".presswork-cache")) => build({ root, now: NOW, out: join(root, out), cacheDir });

beforeAll(async () => {
  smtp = await startSmtp();
  root = await tempProject({ samples: true });
  await writeFile(join(root, "subs.csv"), "email,name\nann@example.org,Ann\nbob@example.org,\n");
  initRepo(root);
});
afterAll(async () => {
  await smtp.close();
  await removeProjects();
});

describe("the next issue and the issues a send started", () => {
  let before: string;

  it("has the next issue's page at its address before its send, in no list or feed", async () => {
    const built = await buildAt();
    expect(built.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
    before = await read(THIRD);
    expect(before).toContain("<h1>Signal &amp; Noise #3: A Community Fab Tapes Out Its First Open-Source RISC-V Chip and 3 more</h1>");
    expect(before).toContain('<link rel="canonical" href="https://signal-noise.example/issues/3/">');
    // No date yet: the build does not know when the send will be, and holds nothing of its own clock.
    expect(before).not.toContain("Sent <time");
    // It links back to the last sent issue; nothing links to it, and no list names it yet.
    expect(before).toContain('<a rel="prev" href="/issues/2/">');
    expect(await read("issues/2/index.html")).not.toContain("/issues/3/");
    for (const path of LISTS) expect(await read(path), path).not.toMatch(/issues\/3\/|#3\b/);
  });

  it("sends the issue whose page is already there, and after the send the page is the same but for its date, now listed", async () => {
    const outcome = await send({ root, now: NOW, env: { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" }, subscribers: "subs.csv", dryRun: false, retryFailed: false });
    expect(outcome.recorded).toBe("complete");
    const mail = await simpleParser(smtp.received[0]?.raw ?? Buffer.from(""));
    expect(mail.text).toContain("View in your browser: https://signal-noise.example/issues/3/");
    const frozen = (await readState(root)).summary.issues.find((s) => s.issue.number === 3)?.issue;
    expect(frozen?.page?.version).toBe(1);
    expect(frozen?.page?.articles.map((a) => a.title)[0]).toBe("A Community Fab Tapes Out Its First Open-Source RISC-V Chip");
    await buildAt();
    // The date of the send is the one thing a page built before it could not know.
    const after = await read(THIRD);
    expect(after).toContain('Sent <time datetime="2026-11-29T12:00:00.000Z">29 November 2026</time> · 4 stories');
    expect(after.replace(/Sent <time [^>]*>[^<]*<\/time> · /, "")).toBe(before);
    expect(await read("issues/index.html")).toContain('<a href="/issues/3/">Signal &amp; Noise #3: A Community Fab');
    expect(await read("issues/feed.json")).toContain('"url": "https://signal-noise.example/issues/3/"');
    expect(await read("sitemap.xml")).toContain("https://signal-noise.example/issues/3/");
    expect(await read("issues/2/index.html")).toContain('<a rel="next" href="/issues/3/">');
  });

  it("keeps a sent issue's page, index entry and feed items byte for byte after its articles, note and email templates are edited", async () => {
    const sent = new Map<string, string>();
    for (const path of [THIRD, ...LISTS.slice(0, 4)]) sent.set(path, await read(path));
    await edit("articles/open-silicon-fab/index.md", "title: A Community Fab Tapes Out Its First Open-Source RISC-V Chip", "title: A Volunteer Fab Ships Its First Open RISC-V Chip");
    await edit("articles/open-silicon-fab/index.md", "- Yield on the first wafer was 61 %", "- Yield on the first wafer was 64 %");
    await edit("articles/rust-in-the-kernel/index.md", "title: Rust Drivers Reach a Milestone in the Linux Kernel", "title: Rust Drivers Reach a Milestone");
    await edit("newsletter/notes/3.md", "cable repair ship", "cable-laying ship");
    await edit("templates/email/card.mjml.liquid", ">Quick Reads</h3>", ">In brief</h3>");
    await edit("templates/email/header.mjml.liquid", "View in your browser", "Read it on the web");
    await buildAt();
    // The edits took: the article's own page has its new title.
    expect(await read("articles/open-silicon-fab/index.html")).toContain("A Volunteer Fab Ships Its First Open RISC-V Chip");
    for (const [path, text] of sent) expect(await read(path), path).toBe(text);
    // Not the cache's doing: a build that starts from nothing makes the same bytes.
    await buildAt("fresh", false);
    for (const [path, text] of sent) expect(await read(path, "fresh"), path).toBe(text);
  });

  it("builds an issue carried over without its content from the articles as they are now, and check says so", async () => {
    await edit("articles/right-to-repair-e-waste.md", "title: Right-to-Repair Rules Cut Phone E-Waste, Early Data Suggests", "title: Repair Rules Cut Phone E-Waste");
    await buildAt();
    expect(await read("issues/2/index.html")).toContain("Repair Rules Cut Phone E-Waste</a></h2>");
    const check = await runCliHere(["check", "--now", NOW.toISOString()], root);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain(
      "Issues #1 and #2 were sent by an earlier version of Presswork, which did not keep what their pages show: their pages, index entries and feed items follow the articles and editor's notes as they are now, and change when those are edited.",
    );
    expect(check.stdout).not.toMatch(/#3\b/);
  });
});
