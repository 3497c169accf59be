import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { readEmailTemplates } from "../../src/pipeline/newsletter.js";
import { ServiceMail } from "../../src/service/mail.js";
import { REPO, removeProjects, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

/** The confirmation mail of a service over the project at `root`, as a reader's mail program parses it. */
async function confirmation(root: string) {
  const { config } = await loadConfig(root);
  if (!config?.newsletter) throw new Error("the project has no newsletter");
  const mail = new ServiceMail(readEmailTemplates(root), config, config.newsletter);
  await mail.check();
  return simpleParser(await mail.build("confirm", { address: "ann@example.org", name: null, confirmUrl: "https://news.example/subscribe/confirm?t=1", id: "c1", date: new Date("2026-12-01T09:00:00Z") }));
}

describe("the service's mails, made by several services in one process", () => {
  it("are each made from their own templates: a changed template is not answered with the mail an earlier service made", async () => {
    const template = await readFile(join(REPO, "templates/email/confirm.mjml.liquid"), "utf8");
    expect(template).toContain("</mj-body>");
    const first = await confirmation(await tempProject());
    const changed = await confirmation(await tempProject({ templates: { "email/confirm.mjml.liquid": template.replace("</mj-body>", "<mj-section><mj-column><mj-text>A line only the second service has.</mj-text></mj-column></mj-section></mj-body>") } }));
    expect(first.text).not.toContain("A line only the second service has.");
    expect(changed.text).toContain("A line only the second service has.");
    // The same templates again: the same mail.
    const again = await confirmation(await tempProject());
    expect(again.html).toBe(first.html);
  });

  it("each report a template MJML refuses, however many start with it", async () => {
    const template = await readFile(join(REPO, "templates/email/confirm.mjml.liquid"), "utf8");
    const broken = { "email/confirm.mjml.liquid": template.replace("<mj-text", '<mj-text no-such-attribute="1"') };
    expect(broken["email/confirm.mjml.liquid"]).toContain("no-such-attribute");
    for (let i = 0; i < 2; i++) {
      const refused = await confirmation(await tempProject({ templates: broken })).then(
        () => undefined,
        (error: unknown) => error as { files?: Array<{ path: string; messages: Array<{ reason: string }> }> },
      );
      expect(refused?.files?.[0]?.path).toBe("templates/email/confirm.mjml.liquid");
      expect(refused?.files?.[0]?.messages[0]?.reason).toContain("no-such-attribute");
    }
  });
});
