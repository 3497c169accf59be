import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailBody } from "../../src/issues/email-body.js";
import { greetingFor } from "../../src/issues/greeting.js";
import type { CompiledIssue } from "../../src/issues/render.js";
import { assemble } from "../../src/pipeline/build.js";
import { attr, elements } from "../helpers/html.js";
import { article, REPO, removeProjects, tempProject } from "../helpers/project.js";

const NOW = new Date("2026-11-29T12:00:00Z");
afterAll(removeProjects);

/** What GFM and the sanitiser make of footnotes, a task list, a table and a long link, as the email serialisation holds them. */
const GFM = `<p>Intro with a note<sup><a href="https://x.example/a/#user-content-fn-1" id="user-content-fnref-1" data-footnote-ref aria-describedby="user-content-footnote-label">1</a></sup>.</p>
<ul class="contains-task-list">
<li class="task-list-item"><input type="checkbox" checked disabled> done item</li>
<li class="task-list-item"><input type="checkbox" disabled> open item</li>
</ul>
<h2 id="user-content-numbers">Numbers</h2>
<table>
<thead><tr><th align="left">Year</th><th align="right">Median speed</th></tr></thead>
<tbody><tr><td align="left">2026</td><td align="right">940 Mbit/s</td></tr></tbody>
</table>
<p>See <a href="https://data.example.org/registries/broadband/2026/exports/full.csv">https://data.example.org/registries/broadband/2026/exports/full.csv</a>.</p>
<pre><code class="hljs language-js"><span class="hljs-keyword">const</span> a = 1;</code></pre>
<p>مرحبا بالعالم</p>
<section data-footnotes class="footnotes"><h2 class="sr-only" id="user-content-footnote-label">Footnotes</h2>
<ol>
<li id="user-content-fn-1">
<p>The note, with <a href="https://example.org/x">a link</a>. <a href="https://x.example/a/#user-content-fnref-1" data-footnote-backref="" aria-label="Back to reference 1" class="data-footnote-backref">↩</a></p>
</li>
</ol>
</section>`;

describe("an article's body in the email", () => {
  const html = emailBody(GFM);
  const els = elements(`<body>${html}</body>`);

  it("reads its footnotes inside the message: [1] in the text, the note under Notes, no links to anchors", () => {
    expect(html).toContain("note<sup style=\"font-size:12px;line-height:0;vertical-align:super\">[1]</sup>");
    expect(html).toMatch(/<p[^>]*>Notes<\/p><p[^>]*>\[1\] The note, with <a [^>]*href="https:\/\/example\.org\/x"/);
    expect(html).not.toContain("#user-content-");
    expect(html).not.toContain("↩");
  });

  it("turns task-list checkboxes into ☑ and ☐, which webmail does not strip", () => {
    expect(html).not.toContain("<input");
    expect(html).toMatch(/>☑ done item</);
    expect(html).toMatch(/>☐ open item</);
  });

  it("styles its elements inline, keeps no class or id, and sets a paragraph in a right-to-left script right to left, aligned right", () => {
    const text = (el: (typeof els)[number]) => el.childNodes.map((c) => ("value" in c ? c.value : "")).join("");
    for (const el of els.filter((e) => !["html", "head", "body", "wbr", "span"].includes(e.tagName))) {
      expect(attr(el, "class"), el.tagName).toBeUndefined();
      expect(attr(el, "id"), el.tagName).toBeUndefined();
      if (["p", "ul", "h2", "table", "th", "td", "pre", "code", "a", "sup"].includes(el.tagName)) expect(attr(el, "style"), el.tagName).toBeTruthy();
      if (el.tagName === "p") expect(attr(el, "dir"), text(el)).toBe(/[\u0600-\u06ff]/.test(text(el)) ? "rtl" : undefined);
    }
    const rtl = els.filter((e) => attr(e, "dir") === "rtl");
    expect(rtl.map(text)).toEqual(["مرحبا بالعالم"]);
    // The email's column is aligned left for its own text.
    expect(attr(rtl[0] as never, "style")).toContain("text-align:right");
    expect(els.filter((e) => e.tagName === "span")).toEqual([]);
    expect(attr(els.find((e) => e.tagName === "th" && e.childNodes.some((c) => "value" in c && c.value === "Median speed")) as never, "style")).toContain("text-align:right");
  });

  it("puts tables and code in boxes that scroll on their own, and gives long URLs places to break", () => {
    for (const tag of ["table", "pre"]) {
      const parent = els.find((e) => e.tagName === tag)?.parentNode as never;
      expect(attr(parent, "style"), tag).toBe("overflow-x:auto;width:0;min-width:100%;margin:0 0 16px");
    }
    expect(html).toContain("https://<wbr>data.<wbr>example.<wbr>org/<wbr>registries/");
    expect(html).toContain("const a = 1;");
  });
});

describe("the text part", () => {
  let full: CompiledIssue;
  beforeAll(async () => {
    const root = await tempProject({ samples: true, articles: { "stress.md": await readFile(join(REPO, "test/fixtures/email-stress/stress.md"), "utf8") } });
    const path = join(root, "presswork.config.yaml");
    await writeFile(path, (await readFile(path, "utf8")).replace("content: summary", "content: full"));
    full = (await assemble({ root, now: NOW, cacheDir: false })).newsletter?.next as CompiledIssue;
  });

  it("describes the images, and writes out each URL once per article", () => {
    expect(full.text).toContain("[Image: The finished die, seen through a microscope: a grid of logic blocks");
    expect(full.text).toContain("[Image: A 150 mm wafer under yellow cleanroom light");
    for (const section of full.text.split("-".repeat(60))) {
      const urls = [...section.matchAll(/https?:\/\/[^\s>)]+/g)].map((m) => m[0]);
      expect(urls.filter((u, i) => urls.indexOf(u) !== i), section.slice(0, 80)).toEqual([]);
    }
    expect(full.text).toContain("shuttle runs\n<https://example.org/open-shuttle>");
    // A URL broken over two lines cannot be followed: break opportunities are for the HTML only.
    expect(full.text).toContain("https://data.example.org/registries/broadband/2026/quarterly/exports/full-dataset-with-every-column-included.csv?format=csv&encoding=utf-8");
  });

  it("keeps a table's headers as written, units included", () => {
    expect(full.text).toMatch(/Town +Take-up +Median price +Median speed/);
    expect(full.text).toContain("Mbit/s");
    expect(full.text).not.toMatch(/MEDIAN|MBIT/);
  });

  it("numbers footnotes [1] in the text with the notes below, and shows tasks as ☑ and ☐", () => {
    const stress = full.text.slice(full.text.indexOf("A Stress Test of Long-Form Email\nWide tables"));
    expect(stress).toMatch(/has\s+to\s+survive\[1\],\s+in\s+one\s+article/);
    expect(stress).toMatch(/Notes\n\n\[1\] The notes should read inside the email, with a link\s+<https:\/\/example\.org\/notes>\./);
    expect(stress).toContain("[2] A second note.");
    expect(stress).toContain("- ☑ Collect the data");
    expect(stress).toContain("- ☐ Publish the corrections");
  });
});

describe("the greeting", () => {
  it.each([
    ["Ann Example", "Hi Ann,"],
    ["  Zoë  ", "Hi Zoë,"],
    ["Dr. Ann Smith", "Hi Ann,"],
    ["Dr Ann Smith", "Hi Ann,"],
    ["mrs J. Jones", "Hi Jones,"],
    ["Prof Li Wei", "Hi Li,"],
    ["Drew Barry", "Hi Drew,"],
    ["Dr", "Hi Dr,"],
    ["", ""],
    [undefined, ""],
  ])("greets %j as %j", (name, expected) => {
    expect(greetingFor(name)).toBe(expected);
  });
});

describe("the subject of a shortened issue", () => {
  it("counts the articles the message holds, not those it had to leave out", async () => {
    const summary = Array.from({ length: 40 }, (_, i) => `Sentence ${i} of a summary long enough to weigh on the size of the email.`).join(" ");
    const articles = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`long-${i}.md`, article(`title: Long story ${i}\ndate: 2026-12-${String(i + 1).padStart(2, "0")}\nsummary: ${summary}`, "Body.")]));
    const root = await tempProject({ articles });
    const path = join(root, "presswork.config.yaml");
    await writeFile(path, (await readFile(path, "utf8")).replace("maxArticles: 10", "maxArticles: 30"));
    const issue = (await assemble({ root, now: new Date("2027-01-31T00:00:00Z"), cacheDir: false })).newsletter?.next as CompiledIssue;
    expect(issue.shortened).toBe("fewer articles");
    const held = issue.plan.articles.length;
    expect(held).toBeLessThan(30);
    expect(issue.plan.more).toBe(30 - held);
    expect(issue.subject).toBe(`Signal & Noise #1: Long story 29 and ${held - 1} more`);
    expect(issue.preheader).toMatch(new RegExp(`Plus ${held - 1} more\\.$`));
    const headlines = elements(issue.html).filter((e) => e.tagName === "h2" && attr(e, "dir") === "auto");
    expect(headlines).toHaveLength(held);
    expect(issue.html).toContain(`${30 - held} more articles on Signal &amp; Noise`);
  });
});
