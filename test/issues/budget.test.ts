import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLIP_BYTES } from "../../src/issues/limits.js";
import { assemble } from "../../src/pipeline/build.js";
import { send } from "../../src/pipeline/send.js";
import { runCliHere } from "../helpers/cli.js";
import { initRepo } from "../helpers/git.js";
import { article, removeProjects, tempProject } from "../helpers/project.js";
import { startSmtp } from "../helpers/smtp.js";

afterAll(removeProjects);
const LATER = new Date("2027-02-01T00:00:00Z");

async function fullContentProject(extra: Record<string, string>): Promise<string> {
  const root = await tempProject({ samples: true, articles: extra });
  const path = join(root, "presswork.config.yaml");
  await writeFile(path, (await readFile(path, "utf8")).replace("content: summary", "content: full"));
  await writeFile(join(root, "newsletter/sent.json"), '{ "issues": [] }\n');
  return root;
}

describe("email size", () => {
  it("keeps a 10-article digest of the samples, full text, under Gmail's clipping limit", async () => {
    const extra = { "extra-one.md": article("title: Extra one\ndate: 2026-12-01", "A short extra story with a [link](https://example.org/)."), "extra-two.md": article("title: Extra two\ndate: 2026-12-02", "Another short one.") };
    const root = await fullContentProject(extra);
    const result = await assemble({ root, now: LATER, cacheDir: false });
    const next = result.newsletter?.next;
    expect(next?.plan.articles).toHaveLength(10);
    expect(next?.shortened).toBe("no");
    expect(Buffer.byteLength(next?.html ?? "")).toBeLessThan(CLIP_BYTES);
    expect(next?.html).toContain("How the line works");
  });

  it("shortens a digest that would be clipped: summaries first, then fewer articles, and check says so", async () => {
    const long = Array.from({ length: 120 }, (_, i) => `Paragraph ${i} of a very long investigation, with enough words to weigh on the email's size budget.`).join("\n\n");
    const extra: Record<string, string> = {};
    // One twice as long as the others: the one check names for the editor to look at.
    for (let i = 0; i < 6; i++) extra[`long-${i}.md`] = article(`title: Long read ${i}\ndate: 2026-12-0${i + 1}\nsummary: A long read, summarised.`, i === 2 ? `${long}\n\n${long}` : long);
    const root = await fullContentProject(extra);
    const result = await assemble({ root, now: LATER, cacheDir: false });
    const next = result.newsletter?.next;
    expect(next?.shortened).toBe("summaries");
    expect(Buffer.byteLength(next?.html ?? "")).toBeLessThan(CLIP_BYTES);
    expect(next?.html).not.toContain("Paragraph 100 of a very long investigation");
    const check = await runCliHere(["check", "--now", LATER.toISOString()], root);
    expect(check.stderr).toMatch(/templates\/email\/issue\.mjml\.liquid:1:1 {2}warning {2}issue #1 was too large for Gmail at full length and was shortened \(summaries\) to [\d.]+ KB; the largest body is articles\/long-2\.md's, [\d.]+ KB/);
  });
});

describe("the articles a shortened issue left out", () => {
  it("are not taken for drafts finished late once the issue is sent: check names only the article that was a draft", async () => {
    const summary = Array.from({ length: 40 }, (_, i) => `Sentence ${i} of a summary long enough to weigh on the size of the email.`).join(" ");
    // Room for one more in the cap, so the issue leaves out for its size alone.
    const articles = Object.fromEntries(Array.from({ length: 29 }, (_, i) => [`long-${i}.md`, article(`title: Long story ${i}\ndate: 2026-12-${String(i + 1).padStart(2, "0")}\nsummary: ${summary}`, "Body.")]));
    articles["finished-late.md"] = article("title: Finished late\ndate: 2026-12-15\ndraft: true");
    const root = await tempProject({ articles });
    const path = join(root, "presswork.config.yaml");
    await writeFile(path, (await readFile(path, "utf8")).replace("maxArticles: 10", "maxArticles: 30"));
    initRepo(root);
    await writeFile(join(root, "subs.csv"), "email\nreader@example.org\n");
    const smtp = await startSmtp();
    try {
      const outcome = await send({ root, now: new Date("2027-01-31T00:00:00Z"), env: { PRESSWORK_SECRET: "test-secret", SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" }, dryRun: false, retryFailed: false, subscribers: "subs.csv" });
      expect(outcome.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
      expect(outcome.report?.sent).toBe(1);
      expect(smtp.received).toHaveLength(1);
    } finally {
      await smtp.close();
    }
    await writeFile(join(root, "articles/finished-late.md"), article("title: Finished late\ndate: 2026-12-15"));
    const result = await assemble({ root, now: new Date("2027-02-01T00:00:00Z"), cacheDir: false, includeUnpublished: true });
    const missed = result.files.flatMap((f) => f.messages.filter((m) => m.ruleId === "newsletter-missed").map((m) => `${f.path}: ${m.reason}`));
    expect(missed).toEqual([expect.stringMatching(/^articles\/finished-late\.md: 'date' is 2026-12-15, before issue #1 went out/)]);
    expect(missed[0]).not.toContain("Gmail");
  }, 120_000);
});
