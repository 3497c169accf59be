import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, parseFragment, type DefaultTreeAdapterMap } from "parse5";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Article } from "../../src/content/article.js";
import { build } from "../../src/pipeline/build.js";
import { rawItemContents } from "../helpers/feeds.js";
import { article, NOW, removeProjects, tempProject } from "../helpers/project.js";

type Node = DefaultTreeAdapterMap["node"];
const payloads = (await readFile(join(import.meta.dirname, "../fixtures/xss-payloads.txt"), "utf8")).split(/\n(?=[^\n])/).filter((p) => !p.startsWith("[r]:"));
const FORBIDDEN_TAGS = new Set(["script", "iframe", "form", "style", "object", "embed", "meta", "link", "base", "frameset", "frame", "svg", "math", "textarea", "button", "noscript", "video", "body"]);
const SAFE_DATA_IMAGE = /^data:image\/(png|gif|jpeg|webp);base64,/i;

/** Every way the parsed HTML could run script or escape the page, as readable strings. */
function dangers(html: string, whole = false, allowStyle?: RegExp): string[] {
  const found: string[] = [];
  const visit = (node: Node, inBody: boolean) => {
    if ("tagName" in node) {
      const bodyPart = inBody || node.tagName === "main";
      if (bodyPart && FORBIDDEN_TAGS.has(node.tagName)) found.push(`<${node.tagName}>`);
      if (!whole || bodyPart) {
        for (const { name, value } of node.attrs) {
          if (/^on/i.test(name)) found.push(`${node.tagName}[${name}]`);
          if (name === "style" && !(node.tagName === "img" && allowStyle?.test(value))) found.push(`${node.tagName}[style=${value}]`);
          if (["href", "src", "action", "formaction", "data", "srcset", "poster", "cite"].includes(name)) {
            const url = value.replace(/[\u0000-\u0020]/g, "").toLowerCase();
            if (/^(javascript|vbscript):/.test(url) || /(^|,)javascript:/.test(url)) found.push(`${node.tagName}[${name}=${value}]`);
            if (url.startsWith("data:") && !(node.tagName === "img" && name === "src" && SAFE_DATA_IMAGE.test(value))) found.push(`${node.tagName}[${name}=data:…]`);
          }
          if ((name === "id" || name === "name") && !value.startsWith("user-content-") && ["location", "cookie"].includes(value)) found.push(`clobbering ${name}=${value}`);
        }
      }
    }
    if ("childNodes" in node) for (const child of node.childNodes) visit(child, whole ? (("tagName" in node && node.tagName === "main") || inBody) : true);
    if ("content" in node && node.content) visit(node.content as Node, inBody);
  };
  visit((whole ? parse(html) : parseFragment(html)) as Node, false);
  return found;
}

let root: string;
let articles: Article[];

beforeAll(async () => {
  const files: Record<string, string> = {};
  payloads.forEach((payload, i) => {
    const body = `Paragraph before.\n\n${payload}${payload.startsWith("[ref") ? "\n\n[r]: javascript:alert(1)" : ""}\n\nParagraph after.`;
    files[`p${String(i).padStart(2, "0")}.md`] = article(`title: Payload ${i}\ndate: 2026-11-01T00:${String(i).padStart(2, "0")}:00Z`, body);
    // The same payload in a Quick Reads point, whose HTML pages, feeds and emails show outside the body.
    const point = `## Quick Reads\n\n- Point before.\n- ${payload.replaceAll("\n", "\n  ")}${payload.startsWith("[ref") ? "\n\n[r]: javascript:alert(1)" : ""}\n\nParagraph after.`;
    files[`q${String(i).padStart(2, "0")}.md`] = article(`title: Point payload ${i}\ndate: 2026-11-02T00:${String(i).padStart(2, "0")}:00Z`, point);
  });
  files["styled.md"] = article("title: Styled\ndate: 2026-10-02", "Before.\n\n<style>.pull-quote { color: red }</style>\n\nAfter.");
  files["allowed.md"] = article("title: Allowed\ndate: 2026-10-01", '<img src="data:image/png;base64,iVBORw0KGgo=" alt="dot"> <mark>marked</mark> <abbr title="World Wide Web">WWW</abbr>');
  root = await tempProject({ articles: files, config: (await readFile(join(import.meta.dirname, "../../presswork.config.yaml"), "utf8")).replace("limit: 20", "limit: 100") });
  const result = await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
  expect(result.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
  articles = result.articles;
});
afterAll(removeProjects);

describe("untrusted HTML in articles", () => {
  it("has a corpus of at least 25 payloads", () => {
    expect(payloads.length).toBeGreaterThanOrEqual(25);
    expect(articles).toHaveLength(2 * payloads.length + 2);
    expect(articles.filter((a) => a.title.startsWith("Point payload") && a.points[0] === "Point before.")).toHaveLength(payloads.length);
  });

  it("never reaches the web page, the feed HTML or the email HTML", () => {
    for (const a of articles) {
      expect(dangers(a.body.html.web), `${a.title} web`).toEqual([]);
      expect(dangers(a.body.html.feed), `${a.title} feed`).toEqual([]);
      expect(dangers(a.body.html.email, false, /^width:100%;max-width:\d+px;height:auto;display:block;border:0$/), `${a.title} email`).toEqual([]);
      expect(dangers(a.pointsHtml.web.join("")), `${a.title} points on the web`).toEqual([]);
      expect(dangers(a.pointsHtml.feed.join("")), `${a.title} points in feeds`).toEqual([]);
      expect(dangers(a.pointsHtml.email.join(""), false, /^width:100%;max-width:\d+px;height:auto;display:block;border:0$/), `${a.title} points in email`).toEqual([]);
    }
  });

  it("never reaches a built page or a feed file", async () => {
    for (const a of articles) {
      const page = await readFile(join(root, "dist", a.path, "index.html"), "utf8");
      expect(dangers(page, true), a.title).toEqual([]);
    }
    for (const path of ["feed.xml", "atom.xml"]) {
      const contents = rawItemContents(await readFile(join(root, "dist", path), "utf8"));
      expect(contents).toHaveLength(articles.length);
      contents.forEach((html, i) => expect(dangers(html), `${path} item ${i}`).toEqual([]));
    }
    const json = JSON.parse(await readFile(join(root, "dist/feed.json"), "utf8")) as { items: Array<{ title: string; content_html: string }> };
    for (const item of json.items) expect(dangers(item.content_html), item.title).toEqual([]);
  });

  it("keeps the text around a payload and the markup the allow-list permits", () => {
    for (const a of articles.filter((a) => a.title !== "Allowed" && a.title !== "Styled")) expect(a.body.html.web, `${a.title}: ${a.pointsHtml.web.join(" | ")}`).toContain("Paragraph");
    const allowed = articles.find((a) => a.title === "Allowed")?.body.html.web ?? "";
    expect(allowed).toContain('src="data:image/png;base64,iVBORw0KGgo="');
    expect(allowed).toContain("<mark>marked</mark>");
    expect(allowed).toContain('<abbr title="World Wide Web">WWW</abbr>');
  });

  it("leaves a <style> element out with the rules it holds, which would otherwise show as text", () => {
    const styled = articles.find((a) => a.title === "Styled") as Article;
    for (const html of [styled.body.html.web, styled.body.html.feed, styled.body.html.email]) {
      expect(html).toContain("After.");
      expect(html).not.toContain("pull-quote");
    }
  });
});
