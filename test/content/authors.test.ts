import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { assemble } from "../../src/pipeline/build.js";
import { NOW, removeProjects, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

describe("an author written by name", () => {
  it("is the config's author of that name, in any case and with its accents composed or not", async () => {
    const root = await tempProject({ samples: true });
    // "Tomás" with the accent as a mark of its own (NFD), as macOS may type it.
    const tomas = "Tomás Reyes".normalize("NFD");
    await writeFile(join(root, "articles/by-name.md"), `---\ntitle: By name\ndate: 2026-11-20\nauthors: [mei lin, ${tomas}, Ann Guest]\n---\n\nBody text.\n`);
    const result = await assemble({ root, now: NOW, cacheDir: false });
    expect(result.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
    const article = result.articles.find((a) => a.slug === "by-name");
    expect(article?.authors.map((a) => [a.key, a.name])).toEqual([
      ["mei", "Mei Lin"],
      ["tomas", "Tomás Reyes"],
      ["ann-guest", "Ann Guest"],
    ]);
  });
});
