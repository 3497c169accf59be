import { existsSync } from "node:fs";
import { readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse.js";
import { build } from "../../src/pipeline/build.js";
import { serviceSettings } from "../../src/service/settings.js";
import { keepScreenshot, launchBrowser } from "../helpers/browser.js";
import { runCliHere } from "../helpers/cli.js";
import { attr, elements, type Element } from "../helpers/html.js";
import { NOW, removeProjects, tempProject } from "../helpers/project.js";
import { headings, lowContrast, sidewaysScroll } from "../helpers/reading.js";

const SUBSCRIBE = "https://news.signal-noise.example/subscribe";
let root: string;
const read = (path: string) => readFile(join(root, "dist", path), "utf8");
const text = (el: Element): string => el.childNodes.map((n) => ("value" in n ? n.value : "tagName" in n ? text(n as Element) : "")).join("");
/** The elements named `tag` inside `el`. */
const within = (el: Element, tag: string): Element[] =>
  el.childNodes.flatMap((c) => ("tagName" in c ? [...(c.tagName === tag ? [c as Element] : []), ...within(c as Element, tag)] : []));
const meta = (els: Element[], key: string) => attr(els.find((e) => e.tagName === "meta" && (attr(e, "property") === key || attr(e, "name") === key)) as Element, "content");

beforeAll(async () => {
  root = await tempProject({ samples: true, newsletter: { "notes/2.md": "A short note on **issue two**, with [a link](https://example.org/two).\n" } });
  const built = await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
  expect(built.files.flatMap((f) => f.messages.map(String))).toEqual([]);
});
afterAll(removeProjects);

describe("each sent issue's page", () => {
  it("is a page of the site: its layout and navigation, one heading, a canonical URL, a description and an OpenGraph card", async () => {
    for (const n of [1, 2]) {
      const html = await read(`issues/${n}/index.html`);
      const els = elements(html);
      const subject = text(els.find((e) => e.tagName === "h1") as Element);
      expect(subject).toMatch(new RegExp(`^Signal & Noise #${n}: `));
      expect(els.filter((e) => e.tagName === "h1")).toHaveLength(1);
      expect(els.filter((e) => e.tagName === "main")).toHaveLength(1);
      expect(els.find((e) => e.tagName === "nav" && attr(e, "aria-label") === "Sections")?.childNodes.some((a) => "tagName" in a && attr(a as Element, "href") === "/issues/")).toBe(true);
      expect(attr(els.find((e) => e.tagName === "link" && attr(e, "rel") === "canonical") as Element, "href")).toBe(`https://signal-noise.example/issues/${n}/`);
      expect(text(els.find((e) => e.tagName === "title") as Element)).toBe(subject);
      expect(meta(els, "og:title")).toBe(subject);
      expect(meta(els, "og:type")).toBe("article");
      expect(meta(els, "og:url")).toBe(`https://signal-noise.example/issues/${n}/`);
      expect(meta(els, "description")).toMatch(/\. Plus 1 more\.$/);
    }
    const second = elements(await read("issues/2/index.html"));
    expect(meta(second, "og:image")).toBe("https://signal-noise.example/articles/small-models-on-device/phone-chip.png");
  });

  it("is not the email pasted onto the web: no greeting, no unsubscribe link, no link to view itself, no token", async () => {
    for (const n of [1, 2]) {
      const html = await read(`issues/${n}/index.html`);
      expect(html).not.toMatch(/%%[a-z_]+%%/);
      expect(html).not.toMatch(/href="[^"]*unsubscribe/i);
      expect(html).not.toMatch(/View in your browser/i);
      expect(html).not.toMatch(/>\s*(Hi|Hello)\b/);
      expect(html).not.toContain("<table");
    }
  });

  it("shows each story with its headline linking to the article, its Quick Reads and summary, and the editor's note", async () => {
    const els = elements(await read("issues/2/index.html"));
    const stories = els.filter((e) => e.tagName === "section" && attr(e, "class") === "story");
    expect(stories).toHaveLength(2);
    const links = stories.map((story) => within(within(story, "h2")[0] as Element, "a")[0] as Element);
    expect(links.map((a) => attr(a, "href"))).toEqual(["/articles/right-to-repair-e-waste/", "/articles/small-models-on-device/"]);
    expect(stories.map((story) => within(story, "h3").map(text))).toEqual([["Quick Reads"], ["Quick Reads"]]);
    const html = await read("issues/2/index.html");
    expect(html).toContain("A short note on <strong>issue two</strong>");
    expect(html).toContain('<a href="https://example.org/two">a link</a>');
  });

  it("offers a subscribe form where the email had its unsubscribe link, named for the issue page", async () => {
    const els = elements(await read("issues/1/index.html"));
    const forms = els.filter((e) => e.tagName === "form");
    expect(forms).toHaveLength(1);
    expect(attr(forms[0] as Element, "action")).toBe(SUBSCRIBE);
    expect(attr(els.find((e) => e.tagName === "input" && attr(e, "name") === "form") as Element, "value")).toBe("issue");
  });

  it("links to the issue before and after it", async () => {
    const first = elements(await read("issues/1/index.html"));
    expect(first.filter((e) => e.tagName === "a" && attr(e, "rel") === "next").map((a) => attr(a, "href"))).toEqual(["/issues/2/"]);
    const second = elements(await read("issues/2/index.html"));
    expect(second.filter((e) => e.tagName === "a" && attr(e, "rel") === "prev").map((a) => attr(a, "href"))).toEqual(["/issues/1/"]);
  });
});

describe("the issues index", () => {
  it("lists every issue once with its date, its subject (its number said once) and its articles", async () => {
    const els = elements(await read("issues/index.html"));
    const list = els.find((e) => e.tagName === "ol" && attr(e, "class") === "issue-list") as Element;
    const entries = list.childNodes.filter((c): c is Element => "tagName" in c && c.tagName === "li");
    expect(entries).toHaveLength(2);
    for (const [i, entry] of entries.entries()) {
      const n = 2 - i;
      const words = text(entry).replace(/\s+/g, " ");
      expect(words.match(new RegExp(`#${n}\\b`, "g")), words).toHaveLength(1);
      const sub = (tag: string) => within(entry, tag);
      expect(attr(sub("time")[0] as Element, "datetime")).toMatch(/^2026-1[01]-\d\dT08:00:00\.000Z$/);
      expect(attr(sub("h2")[0]?.childNodes.find((c) => "tagName" in c) as Element, "href")).toBe(`/issues/${n}/`);
      expect(sub("li").map((li) => attr(li.childNodes.find((c) => "tagName" in c) as Element, "href"))).toHaveLength(2);
    }
  });
});

describe("the subscribe form", () => {
  const pages = ["index.html", "articles/open-silicon-fab/index.html", "tags/index.html", "archive/index.html", "issues/index.html", "404.html"];

  it("is in the footer of every page: email, an optional name, a honeypot hidden from people and screen readers, and the form's name", async () => {
    for (const path of pages) {
      const els = elements(await read(path));
      const forms = els.filter((e) => e.tagName === "form");
      expect(forms, path).toHaveLength(1);
      const form = forms[0] as Element;
      expect(attr(form, "action"), path).toBe(SUBSCRIBE);
      expect(attr(form, "method"), path).toBe("post");
      const input = (name: string) => els.find((e) => e.tagName === "input" && attr(e, "name") === name) as Element;
      const label = (el: Element) => text(els.find((e) => e.tagName === "label" && attr(e, "for") === attr(el, "id")) as Element);
      expect(attr(input("email"), "type")).toBe("email");
      expect(attr(input("email"), "required")).toBe("");
      expect(label(input("email"))).toBe("Email address");
      expect(attr(input("name"), "required")).toBeUndefined();
      expect(label(input("name"))).toMatch(/^Name/);
      // No longer than the service keeps: the browser stops the reader, instead of the service refusing what they typed.
      expect([attr(input("email"), "maxlength"), attr(input("name"), "maxlength")]).toEqual(["254", "200"]);
      expect(attr(input("website"), "tabindex")).toBe("-1");
      expect(attr(input("website"), "autocomplete")).toBe("off");
      expect(attr(input("form"), "type")).toBe("hidden");
      expect(attr(input("form"), "value")).toBe("footer");
      expect(within(els.find((e) => e.tagName === "footer") as Element, "form"), path).toHaveLength(1);
    }
  });

  it("has a page of its own, whose footer does not repeat it", async () => {
    const els = elements(await read("subscribe/index.html"));
    const forms = els.filter((e) => e.tagName === "form");
    expect(forms).toHaveLength(1);
    expect(attr(els.find((e) => e.tagName === "input" && attr(e, "name") === "form") as Element, "value")).toBe("subscribe-page");
    expect(text(els.find((e) => e.tagName === "h1") as Element)).toBe("Subscribe to Signal & Noise Weekly");
    expect(attr(els.find((e) => e.tagName === "link" && attr(e, "rel") === "canonical") as Element, "href")).toBe("https://signal-noise.example/subscribe/");
  });

  it("appears nowhere without newsletter.subscribe.url, and there is no subscribe page", async () => {
    const project = await tempProject({ samples: true });
    const path = join(project, "presswork.config.yaml");
    await writeFile(path, (await readFile(path, "utf8")).replace(/\n {2}subscribe:\n.*\n/, "\n"));
    await build({ root: project, now: NOW, out: join(project, "dist"), cacheDir: false });
    const html = (await readdir(join(project, "dist"), { recursive: true })).filter((f) => f.endsWith(".html") && !f.startsWith("issues/next"));
    expect(html.length).toBeGreaterThan(20);
    for (const file of html) expect(await readFile(join(project, "dist", file), "utf8"), file).not.toContain("<form");
    expect(existsSync(join(project, "dist/subscribe"))).toBe(false);
    expect(await readFile(join(project, "dist/sitemap.xml"), "utf8")).not.toContain("/subscribe/");
  });

  it("refuses a subscribe URL that is not absolute, with its place in the config", async () => {
    const project = await tempProject({ samples: true });
    const path = join(project, "presswork.config.yaml");
    await writeFile(path, (await readFile(path, "utf8")).replace("url: https://news.signal-noise.example/subscribe", "url: /subscribe"));
    const { code, stderr } = await runCliHere(["check", "--now", NOW.toISOString()], project);
    expect(code).toBe(1);
    expect(stderr).toMatch(/presswork\.config\.yaml:\d+:\d+ {2}error {2}'newsletter\.subscribe\.url' is "\/subscribe", is not an absolute http\(s\) URL/);
  });

  it("warns when the unsubscribe URL is not the /unsubscribe of the service the subscribe URL names, and not when it is", async () => {
    const project = await tempProject({ samples: true });
    const path = join(project, "presswork.config.yaml");
    const sample = await readFile(path, "utf8");
    const clean = await runCliHere(["check", "--now", NOW.toISOString()], project);
    expect(clean.stderr).not.toContain("config-unsubscribe-url");
    for (const wrong of ["https://signal-noise.example/unsubscribe", "https://news.signal-noise.example/unsubscribe.html", "https://news.signal-noise.example/list/unsubscribe"]) {
      await writeFile(path, sample.replace("url: https://news.signal-noise.example/unsubscribe?", `url: ${wrong}?`));
      const { code, stderr } = await runCliHere(["check", "--strict", "--now", NOW.toISOString()], project);
      expect(code).toBe(1);
      const line = sample.split("\n").findIndex((l) => l.includes("news.signal-noise.example/unsubscribe")) + 1;
      expect(stderr).toContain(`presswork.config.yaml:${line}:1  warning  'newsletter.unsubscribe.url' is "${wrong}", not the /unsubscribe of the service`);
      expect(stderr).toContain("Use https://news.signal-noise.example/unsubscribe?list={list}&token={token}");
    }
    // A service under a path: its /unsubscribe sits beside its /subscribe.
    await writeFile(path, sample.replace("news.signal-noise.example/subscribe", "signal-noise.example/api/subscribe").replace("news.signal-noise.example/unsubscribe", "signal-noise.example/api/unsubscribe"));
    expect((await runCliHere(["check", "--strict", "--now", NOW.toISOString()], project)).stderr).not.toContain("config-unsubscribe-url");
  });

  it("warns when the unsubscribe URL is http://, for which mail clients offer no one-click button, and not for a loopback one", async () => {
    const project = await tempProject({ samples: true });
    const path = join(project, "presswork.config.yaml");
    const sample = await readFile(path, "utf8");
    const line = sample.split("\n").findIndex((l) => l.includes("news.signal-noise.example/unsubscribe")) + 1;
    await writeFile(path, sample.replace("url: https://news.signal-noise.example/unsubscribe?", "url: http://news.signal-noise.example/unsubscribe?").replace("url: https://news.signal-noise.example/subscribe", "url: http://news.signal-noise.example/subscribe"));
    const plain = await runCliHere(["check", "--strict", "--now", NOW.toISOString()], project);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain(`presswork.config.yaml:${line}:1  warning  'newsletter.unsubscribe.url' is http://, and mail clients offer one-click unsubscribe only for an https URL (RFC 8058`);
    expect(plain.stderr).toContain("https://news.signal-noise.example/unsubscribe…  config-unsubscribe-https");
    await writeFile(path, sample.replace("url: https://news.signal-noise.example/unsubscribe?", "url: http://127.0.0.1:8787/unsubscribe?").replace("url: https://news.signal-noise.example/subscribe", "url: http://127.0.0.1:8787/subscribe"));
    const loopback = await runCliHere(["check", "--strict", "--now", NOW.toISOString()], project);
    expect(loopback.stderr).not.toContain("config-unsubscribe-https");
    expect(loopback.code, loopback.stderr).toBe(0);
  });

  it("a subscribe URL written with a trailing slash still sends the site's forms and the service's links to /subscribe and beside it, where the service answers", async () => {
    const project = await tempProject({ samples: true });
    const path = join(project, "presswork.config.yaml");
    const text = (await readFile(path, "utf8")).replace("url: https://news.signal-noise.example/subscribe", "url: https://news.signal-noise.example/subscribe/");
    await writeFile(path, text);
    const { code, stderr } = await runCliHere(["build", "--now", NOW.toISOString()], project);
    expect(code, stderr).toBe(0);
    const forms = elements(await readFile(join(project, "dist/index.html"), "utf8")).filter((e) => e.tagName === "form" && attr(e, "class") === "subscribe");
    expect(forms.length).toBeGreaterThan(0);
    for (const form of forms) expect(attr(form, "action")).toBe("https://news.signal-noise.example/subscribe");
    const { config } = parseConfig(text);
    if (!config) throw new Error("the config did not parse");
    // Confirmation links are made from the service's public address: /confirm beside /subscribe, not /subscribe/confirm.
    expect(serviceSettings(project, config, { PRESSWORK_SECRET: "s" }, { host: "127.0.0.1", port: 0 }).publicUrl).toBe("https://news.signal-noise.example/");
  });
});

describe("the newsletter's pages in a browser", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** A page of dist/ served at http://site.test/, as it will be deployed; the subscribe service's posts are caught. */
  async function open(path: string, options: { width?: number; scheme?: "light" | "dark"; javaScript?: boolean; posts?: Request[] } = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: options.width ?? 375, height: 800 }, colorScheme: options.scheme ?? "light", javaScriptEnabled: options.javaScript ?? true });
    const page = await context.newPage();
    await page.route("**/*", async (route) => {
      const url = new URL(route.request().url());
      if (url.href === SUBSCRIBE) {
        options.posts?.push(route.request());
        return route.fulfill({ status: 303, headers: { location: "http://site.test/thanks/" } });
      }
      if (url.hostname !== "site.test") return route.fulfill({ status: 204 });
      const file = url.pathname.endsWith("/") ? `${url.pathname}index.html` : url.pathname;
      return route.fulfill({ path: join(root, "dist", decodeURIComponent(file)) }).catch(() => route.fulfill({ status: 404, body: "not found" }));
    });
    await page.goto(`http://site.test/${path}`);
    return page;
  }

  it("posts the form as a plain form, without JavaScript, with an empty honeypot and the form's name", async () => {
    const posts: Request[] = [];
    const page = await open("articles/open-silicon-fab/", { javaScript: false, posts });
    await page.getByLabel("Email address").fill("ann@example.org");
    await page.getByLabel("Name (optional)").fill("Ann Example");
    await page.getByRole("button", { name: "Subscribe" }).click();
    await page.waitForURL("http://site.test/thanks/");
    expect(posts).toHaveLength(1);
    const [post] = posts as [Request];
    expect(post.method()).toBe("POST");
    expect(post.headers()["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(Object.fromEntries(new URLSearchParams(post.postData() ?? ""))).toEqual({ email: "ann@example.org", name: "Ann Example", website: "", form: "footer" });
    await page.context().close();
  });

  it("keeps the honeypot out of sight and out of the accessibility tree", async () => {
    const page = await open("subscribe/");
    const trap = page.locator('input[name="website"]');
    const box = await trap.boundingBox();
    expect(box ? box.x + box.width : 0).toBeLessThanOrEqual(0);
    const fields = await page.getByRole("textbox").evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).name));
    expect(fields).toEqual(["email", "name"]);
    expect(await page.locator("form").first().ariaSnapshot()).not.toMatch(/Leave this empty|website/i);
    await page.context().close();
  });

  for (const scheme of ["light", "dark"] as const) {
    for (const width of [320, 375]) {
      it(`shows the issue, the index and the subscribe page at ${width} px in ${scheme} mode: no sideways scroll, headings, 4.5:1 contrast`, async () => {
        for (const path of ["issues/2/", "issues/", "subscribe/"]) {
          const page = await open(path, { width, scheme });
          const where = `${path} at ${width} px, ${scheme}`;
          expect(await sidewaysScroll(page), where).toBe(0);
          expect((await headings(page)).filter((h) => h.startsWith("h1 ")), where).toHaveLength(1);
          expect(await lowContrast(page), where).toEqual([]);
          await keepScreenshot(page, `site/${path.replace(/\W+/g, "-")}${width}-${scheme}.jpeg`);
          await page.context().close();
        }
      });
    }
  }
});

describe("an issue sent in full", () => {
  it("gives each article's footnotes and headings ids of their own on the issue's page, and each article's links reach its own", async () => {
    const project = await tempProject({ samples: true });
    const config = join(project, "presswork.config.yaml");
    await writeFile(config, (await readFile(config, "utf8")).replace("content: summary", "content: full"));
    // Issue #2's two articles, the sent issue's page showing both bodies.
    for (const [file, source] of [["right-to-repair-e-waste.md", "A"], ["small-models-on-device/index.md", "B"]] as const) {
      const path = join(project, "articles", file);
      await writeFile(path, `${await readFile(path, "utf8")}\nA claim.[^1]\n\n## Background\n\nOf ${source}. [Back to it](#background), [skip to the page's content](#main)\n\n[^1]: Source ${source}.\n`);
    }
    const out = join(project, "dist");
    await build({ root: project, now: NOW, out, cacheDir: false });
    const els = elements(await readFile(join(out, "issues/2/index.html"), "utf8"));
    const ids = els.map((el) => attr(el, "id")).filter((id): id is string => id !== undefined);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    const text = (node: Element): string => node.childNodes.map((child) => ("value" in child ? child.value : "tagName" in child ? text(child) : "")).join("");
    const target = (link: Element) => els.find((el) => `#${attr(el, "id")}` === attr(link, "href"));
    // Each article's footnote reference leads to its own note, in document order: A's first.
    const refs = els.filter((el) => attr(el, "data-footnote-ref") !== undefined);
    expect(refs.map((ref) => text(target(ref) as Element).trim())).toEqual([expect.stringContaining("Source A."), expect.stringContaining("Source B.")]);
    // Each article's link to its "Background" lands on its own heading of that name, not on the first.
    const background = els.filter((el) => el.tagName === "a" && attr(el, "href")?.endsWith("background")).map((link) => target(link));
    expect(background.map((heading) => heading && text(heading))).toEqual(["Background", "Background"]);
    expect(background[0]).not.toBe(background[1]);
    // Every link within the page lands on an element of it.
    const inPage = els.filter((el) => el.tagName === "a" && attr(el, "href")?.startsWith("#"));
    expect(inPage.filter((link) => !target(link)).map((link) => attr(link, "href"))).toEqual([]);
  });

  it("shows its articles' bodies, and a rebuild after an edit to one of them updates the issue's page", async () => {
    const project = await tempProject({ samples: true });
    const config = join(project, "presswork.config.yaml");
    await writeFile(config, (await readFile(config, "utf8")).replace("content: summary", "content: full"));
    const out = join(project, "dist");
    const cacheDir = join(project, ".presswork-cache");
    await build({ root: project, now: NOW, out, cacheDir });
    const page = () => readFile(join(out, "issues/2/index.html"), "utf8");
    expect(await page()).toContain("Where the numbers come from");
    const article = join(project, "articles/right-to-repair-e-waste.md");
    await writeFile(article, (await readFile(article, "utf8")).replace("## Where the numbers come from", "## Where the figures come from"));
    const before = (await stat(join(out, "issues/1/index.html"))).mtimeMs;
    await build({ root: project, now: NOW, out, cacheDir });
    expect(await page()).toContain("Where the figures come from");
    expect((await stat(join(out, "issues/1/index.html"))).mtimeMs).toBe(before);
  });
});
