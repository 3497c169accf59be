import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCliHere } from "../helpers/cli.js";
import { removeProjects, tempProject } from "../helpers/project.js";

afterAll(removeProjects);
const NOW = "2026-11-29T12:00:00Z";

describe("bad input to the email issue", () => {
  it("reports an MJML error with the template file and line, from check and from a build", async () => {
    const root = await tempProject({ samples: true });
    const path = join(root, "templates/email/card.mjml.liquid");
    await writeFile(path, (await readFile(path, "utf8")).replace('<mj-divider css-class="rule" padding=', '<mj-divider css-class="rule" paddding='));
    const { code, stderr } = await runCliHere(["check", "--now", NOW], root);
    expect(code).toBe(1);
    expect(stderr).toMatch(/templates\/email\/card\.mjml\.liquid:4:1 {2}error {2}MJML: <mj-divider> Attribute paddding is illegal/);
    // A first build validates in MJML's own thread, with the same place.
    const build = await runCliHere(["build", "--now", NOW], root);
    expect(build.code).toBe(1);
    expect(build.stderr).toMatch(/templates\/email\/card\.mjml\.liquid:4:1 {2}error {2}MJML: <mj-divider> Attribute paddding is illegal/);
  });

  it("reports a template variable that does not exist with its file and line", async () => {
    const root = await tempProject({ samples: true });
    const path = join(root, "templates/email/footer.mjml.liquid");
    await writeFile(path, (await readFile(path, "utf8")).replace("{{ newsletter.reason }}", "{{ newsletter.raeson }}"));
    const { code, stderr } = await runCliHere(["build", "--now", NOW], root);
    expect(code).toBe(1);
    expect(stderr).toMatch(/templates\/email\/footer\.mjml\.liquid:5:\d+ {2}error {2}template error: undefined variable: newsletter\.raeson/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses a subject with a line break in the config", async () => {
    const root = await tempProject({ samples: true });
    const path = join(root, "presswork.config.yaml");
    await writeFile(path, (await readFile(path, "utf8")).replace(/subject: ".*"/, 'subject: "Issue {{ issue.number }}\\nBcc: everyone@example.org"'));
    const { code, stderr } = await runCliHere(["issue", "--now", NOW], root);
    expect(code).toBe(1);
    expect(stderr).toMatch(/presswork\.config\.yaml:\d+:\d+ {2}error {2}'newsletter\.subject' is ".*", must be one line: a line break in the subject would inject mail headers/);
  });

  it("says so and exits 0 when there is nothing new to send", async () => {
    const root = await tempProject({ samples: true });
    const { code, stdout } = await runCliHere(["issue", "--now", "2026-11-04T00:00:00Z"], root);
    expect(code).toBe(0);
    expect(stdout).toContain("Nothing new since issue #2");
    const json = await runCliHere(["issue", "--json", "--now", "2026-11-04T00:00:00Z"], root);
    expect(JSON.parse(json.stdout)).toMatchObject({ next: null, lastSent: 2, due: false, issue: null, reason: "nothing new since issue #2" });
  });

  it("prints the plan of the next issue, as text and as JSON", async () => {
    const root = await tempProject({ samples: true });
    const text = await runCliHere(["issue", "--now", NOW], root);
    expect(text.stdout).toContain("Next issue: #3, 4 article(s)");
    const { next } = JSON.parse((await runCliHere(["issue", "--json", "--now", NOW], root)).stdout);
    expect(next.number).toBe(3);
    expect(next.articles.map((a: { id: string }) => a.id)).toContain("tag:signal-noise.example,2026-11-24:open-silicon-fab");
    expect(next.note).toBe("newsletter/notes/3.md");
  });

  it("reports a malformed record of sent issues with its place", async () => {
    const root = await tempProject({ samples: true, newsletter: { "sent.json": '{ "issues": [\n  { "number": 1, "date": "yesterday", "subject": "x", "articles": ["a"] }\n] }\n' } });
    const { code, stderr } = await runCliHere(["issue", "--now", NOW], root);
    expect(code).toBe(1);
    expect(stderr).toMatch(/newsletter\/sent\.json:2:\d+ {2}error {2}'issues\.0\.date' is "yesterday", is not an ISO 8601 date-time/);
  });

  it("reports a record that is not JSON at all", async () => {
    const root = await tempProject({ samples: true, newsletter: { "sent.json": '{ "issues": [ { "number": 1, \n' } });
    const { code, stderr } = await runCliHere(["issue", "--now", NOW], root);
    expect(code).toBe(1);
    expect(stderr).toMatch(/newsletter\/sent\.json:\d+:\d+ {2}error {2}YAML: /);
  });

  it("reports issue numbers out of order", async () => {
    const record = { issues: [{ number: 1, date: "2026-10-01T00:00:00Z", subject: "a", articles: ["x"] }, { number: 3, date: "2026-10-08T00:00:00Z", subject: "b", articles: ["y"] }] };
    const root = await tempProject({ samples: true, newsletter: { "sent.json": JSON.stringify(record, null, 2) } });
    const { code, stderr } = await runCliHere(["issue", "--now", NOW], root);
    expect(code).toBe(1);
    expect(stderr).toContain("issue number 3 is out of order: issue 2 was expected here");
  });
});
