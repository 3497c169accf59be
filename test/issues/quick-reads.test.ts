import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseFeed } from "@rowanmanning/feed-parser";
import { simpleParser, type ParsedMail } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/pipeline/build.js";
import { send } from "../../src/pipeline/send.js";
import { initRepo } from "../helpers/git.js";
import { attr, elements, type Element } from "../helpers/html.js";
import { NOW, removeProjects, tempProject } from "../helpers/project.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";

const SITE = "https://signal-noise.example/";
const ARTICLE = "articles/open-silicon-fab/index.md";
const RULING = "https://eur-lex.example/licence/cern-ohl";

let smtp: TestSmtp;
let root: string;
/** Issue #3 as a subscriber received it. */
let mail: ParsedMail;

/** The words of a parsed element. */
const words = (el: Element): string => el.childNodes.map((n) => ("value" in n ? n.value : "childNodes" in n ? words(n as Element) : "")).join("");

/** The elements inside `el`. */
const within = (el: Element): Element[] => el.childNodes.flatMap((n) => ("tagName" in n ? [n, ...within(n)] : []));

/** The links inside the elements of `html` that `inside` picks, as [words, href], a list for each such element. */
function linksIn(html: string, inside: (el: Element) => boolean): Array<Array<[string, string]>> {
  return elements(html)
    .filter(inside)
    .map((box) => within(box).flatMap((el) => (el.tagName === "a" ? [[words(el), attr(el, "href") ?? ""] as [string, string]] : [])));
}

beforeAll(async () => {
  smtp = await startSmtp();
  root = await tempProject({ samples: true });
  const source = join(root, ARTICLE);
  const text = await readFile(source, "utf8");
  await writeFile(
    source,
    text
      .replace("- Every layer of the design, down to the masks, is published under an open licence.", `- Every layer of the design, down to the masks, is published under [an open licence](${RULING}).`)
      .replace("- The chip runs at 48 MHz on a 180 nm process, good enough for sensors and teaching.", "- The chip runs at 48 MHz on a *180 nm* process, as [our kernel piece](../rust-in-the-kernel/index.md) explains."),
  );
  // An editor's note that opens with a section titled like Quick Reads keeps it.
  await writeFile(join(root, "newsletter/notes/3.md"), "## Key points\n\n- The [cable ship](https://cable.example/ship) story first.\n\nThanks for reading.\n");
  initRepo(root);
  await writeFile(join(root, "subs.csv"), "email\nreader@example.org\n");
  const outcome = await send({ root, now: NOW, env: { PRESSWORK_SECRET: "test-secret", SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" }, dryRun: false, retryFailed: false, subscribers: "subs.csv" });
  expect(outcome.report?.sent).toBe(1);
  mail = await simpleParser(smtp.received[0]?.raw ?? "");
  await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
}, 120_000);
afterAll(async () => {
  await smtp?.close();
  await removeProjects();
});

describe("a Quick Reads point with links", () => {
  const expected = (base: string): Array<[string, string]> => [
    ["an open licence", RULING],
    ["our kernel piece", `${base}articles/rust-in-the-kernel/`],
  ];

  it("keeps its links and emphasis on the article's page, a link to another article's file going to its page", async () => {
    const html = await readFile(join(root, "dist/articles/open-silicon-fab/index.html"), "utf8");
    expect(linksIn(html, (el) => el.tagName === "aside" && attr(el, "class") === "quick-reads")).toEqual([expected("/")]);
    expect(html).toContain("on a <em>180 nm</em> process");
  });

  it("keeps them in the feed item, with every address absolute", async () => {
    const item = parseFeed(await readFile(join(root, "dist/feed.xml"), "utf8")).items.find((i) => i.url === `${SITE}articles/open-silicon-fab/`);
    expect(linksIn(item?.content ?? "", (el) => el.tagName === "section")).toEqual([expected(SITE)]);
  });

  it("keeps them in the email's box, styled as the email's other links, and writes each address after its words in the plain text", () => {
    const boxes = linksIn(String(mail.html), (el) => el.tagName === "div" && (attr(el, "class") ?? "").split(" ").includes("panel"));
    expect(boxes.filter((links) => links.length > 0)).toEqual([expected(SITE)]);
    // Styled inline as the note's links are, for a client that drops <style>.
    const anchors = elements(String(mail.html)).filter((el) => el.tagName === "a");
    const style = (href: string) => attr(anchors.find((a) => attr(a, "href") === href) as Element, "style");
    expect(style(RULING)).toMatch(/color:/);
    expect(style(RULING)).toBe(style("https://cable.example/ship"));
    const text = mail.text ?? "";
    const box = text.slice(text.indexOf("Quick Reads", text.indexOf("A Community Fab")));
    expect(box.replace(/\s+/g, " ")).toContain(`published under an open licence <${RULING}>.`);
    expect(box.replace(/\s+/g, " ")).toContain(`as our kernel piece <${SITE}articles/rust-in-the-kernel/> explains.`);
  });

  it("keeps them on the sent issue's page as the email showed them, after the article's points change", async () => {
    const source = join(root, ARTICLE);
    await writeFile(source, (await readFile(source, "utf8")).replace(`[an open licence](${RULING})`, "an open licence"));
    await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
    const quickReads = (el: Element) => el.tagName === "aside" && attr(el, "class") === "quick-reads";
    const issue = linksIn(await readFile(join(root, "dist/issues/3/index.html"), "utf8"), quickReads);
    expect(issue.filter((links) => links.length > 0)).toEqual([expected("/")]);
    expect(linksIn(await readFile(join(root, "dist/articles/open-silicon-fab/index.html"), "utf8"), quickReads)).toEqual([expected("/").slice(1)]);
  });

  it("leaves an editor's note that opens with such a section whole", () => {
    expect(String(mail.html)).toContain('The <a href="https://cable.example/ship"');
    expect(mail.text).toContain("Key points");
  });
});
