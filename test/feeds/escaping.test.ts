import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseFeed } from "@rowanmanning/feed-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/pipeline/build.js";
import { jsonFeedErrors, rawItemContents, xmllintAll } from "../helpers/feeds.js";
import { NOW, removeProjects, tempProject } from "../helpers/project.js";

const title = 'AT&T\'s <b>bold</b> "quotes" ]]> and ]]> again & \u0001bell \\u0007';
const config = (await readFile(join(import.meta.dirname, "../../presswork.config.yaml"), "utf8")).replace(
  "  tomas:\n",
  '  odd:\n    name: "Smith & <Jones> \\u0002 ]]>"\n    email: odd@signal-noise.example\n  tomas:\n',
);
const body = [
  "Text with ]]> once and ]]> twice, a <span>]]></span> in HTML and a control \u0003 character.",
  "",
  "```js",
  'const s = "]]>" + "]]>"; // <script>alert(1)</script> & more',
  "```",
].join("\n");

let root: string;
let messages: string[];
const read = (path: string) => readFile(join(root, "dist", path), "utf8");

beforeAll(async () => {
  root = await tempProject({
    config,
    articles: {
      "hostile.md": `---\ntitle: ${JSON.stringify(title)}\ndate: 2026-11-20\nauthors: [odd, "Ann <&> Lee"]\ntags: ["R&D", "<script>", 'say "hi"', "C++", "a]]>b"]\nsummary: "Summary with ]]> and <tags> & \\u0004 control"\n---\n\n${body}\n`,
    },
  });
  const result = await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
  messages = result.files.flatMap((f) => f.messages.map((m) => `${m.fatal ? "error" : "warning"} ${m.line}: ${m.reason}`));
});
afterAll(removeProjects);

const clean = (s: string) => s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, "");

describe("feeds of an article full of XML hazards", () => {
  it("builds, warning about the control character in the body with its line", () => {
    expect(messages.filter((m) => m.startsWith("error"))).toEqual([]);
    expect(messages).toContain("warning 9: invisible control character U+0003 removed");
  });

  it("are valid XML in every file, site-wide and per tag", async () => {
    const prefixes = ["", "tags/r-and-d/", "tags/script/", "tags/say-hi/", "tags/c-plus-plus/", "tags/ab/"];
    for (const prefix of prefixes) expect(jsonFeedErrors(await read(`${prefix}feed.json`)), prefix).toEqual([]);
    expect(await xmllintAll(await Promise.all(prefixes.map(async (prefix) => [`${prefix}feed.xml`, await read(`${prefix}feed.xml`)] as const)))).toEqual([]);
    expect(await xmllintAll(await Promise.all(prefixes.map(async (prefix) => [`${prefix}atom.xml`, await read(`${prefix}atom.xml`)] as const)), "atom")).toEqual([]);
  });

  it("give back the exact title, tags and author names, less the forbidden control characters", async () => {
    for (const path of ["feed.xml", "atom.xml"]) {
      const [item] = parseFeed(await read(path)).items;
      expect(item?.title, path).toBe(clean(title));
      expect(item?.categories.map((c) => c.label ?? c.term), path).toEqual(["R&D", "<script>", 'say "hi"', "C++", "a]]>b"]);
      // RSS names every author in one dc:creator, as the pages do; Atom gives each an author element.
      const names = item?.authors.map((a) => a.name) ?? [];
      expect(names, path).toEqual(path === "feed.xml" ? ["Smith & <Jones>  ]]>, Ann <&> Lee"] : ["Smith & <Jones>  ]]>", "Ann <&> Lee"]);
    }
    // Atom's titles are HTML: an apostrophe as &apos;, which HTML 4 does not know, would show as written in readers that parse with it.
    expect(await read("atom.xml")).not.toContain("&apos;");
    const json = JSON.parse(await read("feed.json"));
    expect(json.items[0].title).toBe(title);
    expect(json.items[0].tags).toContain("a]]>b");
  });

  it("keep every ]]> of the body in the content, with no live markup from the code block", async () => {
    const rss = rawItemContents(await read("feed.xml"));
    const atom = rawItemContents(await read("atom.xml"));
    for (const content of [...rss, ...atom]) {
      expect(content.match(/\]\]&gt;/g)).toHaveLength(5);
      expect(content).not.toMatch(/<script/i);
      expect(content).toContain("&#x3C;script>alert(1)&#x3C;/script>");
    }
  });
});
