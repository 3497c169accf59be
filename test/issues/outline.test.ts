import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Config, NewsletterConfig } from "../../src/config/schema.js";
import { emailBody } from "../../src/issues/email-body.js";
import { mjmlToHtml } from "../../src/issues/mjml.js";
import { compileIssue, type CompiledIssue } from "../../src/issues/render.js";
import { displayDate } from "../../src/site/scope.js";
import { assemble } from "../../src/pipeline/build.js";
import { article, NOW, removeProjects, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

/** The samples (and `articles`) with nothing sent yet. */
async function unsentSamples(articles: Record<string, string> = {}): Promise<string> {
  const root = await tempProject({ samples: true, articles });
  await writeFile(join(root, "newsletter/sent.json"), '{ "issues": [] }\n');
  return root;
}

/** The same with the newsletter sending full text, so the next issue holds every article's body. */
async function fullContentProject(articles: Record<string, string> = {}): Promise<string> {
  const root = await unsentSamples(articles);
  await edit(root, "presswork.config.yaml", "content: summary", "content: full");
  return root;
}

/** Replaces `from` by `to` in the project's file `path`, which must hold it. */
async function edit(root: string, path: string, from: string | RegExp, to: string): Promise<void> {
  const text = await readFile(join(root, path), "utf8");
  expect(text).toMatch(from);
  await writeFile(join(root, path), text.replace(from, to));
}

/** The email header template, which shows the issue's date. */
const HEADER = "templates/email/header.mjml.liquid";

async function nextIssue(root: string, cacheDir: string | false = false): Promise<{ issue: CompiledIssue; config: Config; newsletter: NewsletterConfig; templates: Record<string, string> }> {
  const result = await assemble({ root, now: NOW, cacheDir });
  expect(result.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
  const config = result.config as Config;
  return { issue: result.newsletter?.next as CompiledIssue, config, newsletter: config.newsletter as NewsletterConfig, templates: { ...result.newsletter?.templates } };
}

describe("the issue's outline and its articles' bodies", () => {
  it("recompiles after an edit to an article's text without running MJML again, the new text in place of the old", async () => {
    const { issue, config, newsletter, templates } = await nextIssue(await fullContentProject());
    const sources: string[] = [];
    const mjml = (source: string) => {
      sources.push(source);
      return mjmlToHtml(source);
    };
    const first = await compileIssue(issue.plan, config, newsletter, templates, mjml);
    const [edited, ...others] = issue.plan.articles;
    if (!edited) throw new Error("the issue has no articles");
    const oldBody = edited.body.html.email;
    const newBody = oldBody.replace("</p>", " A sentence added after the issue was first compiled.</p>");
    expect(newBody).not.toBe(oldBody);
    const plan = { ...issue.plan, articles: [{ ...edited, body: { ...edited.body, html: { ...edited.body.html, email: newBody } } }, ...others] };
    const second = await compileIssue(plan, config, newsletter, templates, mjml);

    expect(sources).toHaveLength(2);
    expect(sources[1]).toBe(sources[0]);
    expect(second.html).toBe(first.html.replace(emailBody(oldBody, edited.emailBodyImages), emailBody(newBody, edited.emailBodyImages)));
    expect(second.text.replace(/\s+/g, " ")).toContain("A sentence added after the issue was first compiled.");
  });

  it("lets the templates' inlined styles and HTML attributes reach the articles' bodies", async () => {
    const root = await fullContentProject();
    const path = join(root, "templates/email/issue.mjml.liquid");
    const head = `<mj-style inline="inline">.body p { color: #123456; }</mj-style>
    <mj-html-attributes><mj-selector path=".body a"><mj-html-attribute name="data-tracking">off</mj-html-attribute></mj-selector></mj-html-attributes>
  </mj-head>`;
    await writeFile(path, (await readFile(path, "utf8")).replace("</mj-head>", head));
    const { issue } = await nextIssue(root);
    expect(issue.html).toMatch(/<p style="[^"]*color: ?#123456;?[^"]*"[^>]*>The wafer came out of the furnace/);
    expect(issue.html).toMatch(/<a href="https:\/\/example\.org\/open-shuttle"[^>]* data-tracking="off"/);
  });

  it("keeps an article's words that look like a body's or the date's placeholder as they are", async () => {
    const root = await fullContentProject({ "odd.md": article("title: About presswork-article-0-html and presswork-article-9-html\ndate: 2026-11-28T18:00:00Z", "The body of the odd one, on presswork-issue-date.") });
    const { issue } = await nextIssue(root);
    expect(issue.plan.articles[0]?.title).toContain("presswork-article-0-html");
    expect(issue.html).toContain("About presswork-article-0-html and presswork-article-9-html");
    expect(issue.html).toContain("The body of the odd one, on presswork-issue-date.");
  });

  it("in an issue of summaries, compiles nothing again for an edit that changes no summary", async () => {
    const root = await unsentSamples();
    const cacheDir = join(root, ".presswork-cache");
    const first = await nextIssue(root, cacheDir);
    expect(first.issue.plan.articles.map((a) => a.slug)).toContain("open-silicon-fab");
    const before = (await readdir(join(cacheDir, "issues"))).sort();
    const path = join(root, "articles/open-silicon-fab/index.md");
    await writeFile(path, (await readFile(path, "utf8")).replace("## How the line works", "## How the line works today"));
    const second = await nextIssue(root, cacheDir);
    expect((await readdir(join(cacheDir, "issues"))).sort()).toEqual(before);
    expect(second.issue.html).toBe(first.issue.html);
    expect(second.issue.plan.articles.find((a) => a.slug === "open-silicon-fab")?.body.html.web).toContain("How the line works today");
  });

  it("keeps in the cache only what the last build used or will need, so it does not grow with every edit", async () => {
    const root = await fullContentProject();
    const cacheDir = join(root, ".presswork-cache");
    const first = await nextIssue(root, cacheDir);
    const listing = async () => (await readdir(join(cacheDir, "issues"))).sort();
    const before = await listing();
    const path = join(root, "articles/open-silicon-fab/index.md");
    for (const word of ["first", "second", "third"]) {
      await writeFile(path, `${await readFile(path, "utf8")}\nA ${word} added paragraph.\n`);
      const { issue } = await nextIssue(root, cacheDir);
      expect(issue.html).toContain(`A ${word} added paragraph.`);
    }
    const after = await listing();
    expect(after).toHaveLength(before.length);
    expect(after.filter((name) => name.startsWith("mjml-"))).toEqual(before.filter((name) => name.startsWith("mjml-")));
    // A build that changes nothing compiles nothing, and keeps the MJML the next edit will need.
    await nextIssue(root, cacheDir);
    expect(await listing()).toEqual(after);
    expect(first.issue.html).not.toContain("A first added paragraph.");
  });

  it("compiles one outline for every date an issue may carry (a build's preview and a send a week later), each date where MJML would have put it, in any language and in full text or summaries", async () => {
    for (const [language, content] of [["en", "summary"], ["de", "full"], ["ja", "summary"], ["ar", "full"]] as const) {
      const root = content === "full" ? await fullContentProject() : await unsentSamples();
      await edit(root, "presswork.config.yaml", /^  language: en$/m, `  language: ${language}`);
      const { issue, config, newsletter, templates } = await nextIssue(root);
      const sources: string[] = [];
      const mjml = (source: string) => {
        sources.push(source);
        return mjmlToHtml(source);
      };
      const later = new Date(issue.plan.date.getTime() + 7 * 86_400_000);
      const preview = await compileIssue(issue.plan, config, newsletter, templates, mjml);
      const sent = await compileIssue({ ...issue.plan, date: later }, config, newsletter, templates, mjml);
      expect(sources, language).toHaveLength(2);
      expect(sources[1], `${language}: one outline for both dates`).toBe(sources[0]);
      for (const [compiled, date] of [[preview, issue.plan.date], [sent, later]] as const) {
        const shown = displayDate(date, config);
        expect(compiled.html, language).toContain(`· ${shown}</p>`);
        // What MJML makes of the outline with the date in it, with each article's body in its place.
        const whole = await mjmlToHtml((sources[0] as string).replaceAll("presswork-issue-date", shown));
        const bodies = content === "full" ? compiled.plan.articles.map((a) => emailBody(a.body.html.email, a.emailBodyImages)) : [];
        expect(compiled.html, language).toBe(whole.replace(/presswork-article-(\d+)-html/g, (_, i: string) => bodies[Number(i)] as string));
      }
      expect(sent.html).not.toContain(`· ${displayDate(issue.plan.date, config)}</p>`);
    }
  });

  it("shows the date as the templates make it when they do more with it than show it", async () => {
    const root = await unsentSamples();
    await edit(root, HEADER, "{{ issue.date_display }}", "{{ issue.date_display }}: {{ issue.date_display | upcase }} ({{ issue.date_display | size }} characters)");
    const { issue, config } = await nextIssue(root);
    const shown = displayDate(issue.plan.date, config);
    expect(issue.html).toContain(`· ${shown}: ${shown.toUpperCase()} (${shown.length} characters)</p>`);
  });

  it("gives MJML the date itself when a template puts it in an attribute, which MJML rewrites (a class's words sorted, suffixed for Outlook)", async () => {
    const root = await unsentSamples();
    await edit(root, HEADER, '<p class="muted"', '<p title="Issues > Next" class="muted {{ issue.date_display }}"');
    const { issue, config, newsletter, templates } = await nextIssue(root);
    const sources: string[] = [];
    const compiled = await compileIssue(issue.plan, config, newsletter, templates, (source) => {
      sources.push(source);
      return mjmlToHtml(source);
    });
    const shown = displayDate(issue.plan.date, config);
    expect(sources).toHaveLength(1);
    expect(sources[0]).toContain(`<p title="Issues > Next" class="muted ${shown}"`);
    expect(compiled.html).toBe(await mjmlToHtml(sources[0] as string));
    expect(compiled.html).toContain(`· ${shown}</p>`);
  });
});
