import { generateKeyPairSync } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { attr, elements, type Element } from "../helpers/html.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config, NewsletterConfig } from "../../src/config/schema.js";
import { addressKey, buildMessage, listTag, verifyUnsubscribeToken } from "../../src/issues/message.js";
import type { CompiledIssue } from "../../src/issues/render.js";
import { greetingFor } from "../../src/issues/greeting.js";
import { personalise } from "../../src/issues/tokens.js";
import { assemble, build } from "../../src/pipeline/build.js";
import { xmllint } from "../helpers/feeds.js";
import { NOW, removeProjects, tempProject } from "../helpers/project.js";

const SECRET = "test-secret-not-for-production";
let issue: CompiledIssue;
let config: Config;
let newsletter: NewsletterConfig;

beforeAll(async () => {
  const root = await tempProject({ samples: true });
  const result = await assemble({ root, now: NOW, cacheDir: false });
  expect(result.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
  issue = result.newsletter?.next as CompiledIssue;
  config = result.config as Config;
  newsletter = config.newsletter as NewsletterConfig;
});
afterAll(removeProjects);


describe("planning the next issue", () => {
  it("gathers what was published since the last sent issue, newest first, numbered after it", () => {
    expect(issue.plan.number).toBe(3);
    expect(issue.plan.articles.map((a) => a.slug)).toEqual(["open-silicon-fab", "rust-in-the-kernel", "undersea-cable-repair", "municipal-broadband"]);
    expect(issue.subject).toBe("Signal & Noise #3: A Community Fab Tapes Out Its First Open-Source RISC-V Chip and 3 more");
    expect(issue.preheader).toBe("A volunteer fab in Eindhoven produced working samples of an open RISC-V microcontroller. Plus 3 more.");
    expect(issue.plan.note?.text).toContain("below the waterline");
  });

  it("in `each` mode, sends the oldest unsent article alone", async () => {
    const root = await tempProject({ samples: true });
    const text = (await readFile(join(root, "presswork.config.yaml"), "utf8")).replace("mode: digest", "mode: each");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(join(root, "presswork.config.yaml"), text);
    const result = await assemble({ root, now: NOW, cacheDir: false });
    expect(result.newsletter?.next?.plan.articles.map((a) => a.slug)).toEqual(["municipal-broadband"]);
  });

  it("in `each` mode, an article published before the last issue went out still gets its own issue after it", async () => {
    const root = await tempProject({ samples: true });
    const { writeFile } = await import("node:fs/promises");
    const config = join(root, "presswork.config.yaml");
    await writeFile(config, (await readFile(config, "utf8")).replace("mode: digest", "mode: each"));
    // Issue #3 carried the oldest waiting article alone, sent days after the next ones were published.
    const record = JSON.parse(await readFile(join(root, "newsletter/sent.json"), "utf8")) as { issues: unknown[] };
    record.issues.push({ number: 3, date: "2026-11-29T08:00:00Z", subject: "Signal & Noise #3", articles: ["tag:signal-noise.example,2026-11-05:municipal-broadband"] });
    await writeFile(join(root, "newsletter/sent.json"), JSON.stringify(record));
    const result = await assemble({ root, now: NOW, cacheDir: false });
    expect(result.newsletter?.next?.plan.number).toBe(4);
    expect(result.newsletter?.next?.plan.articles.map((a) => a.slug)).toEqual(["undersea-cable-repair"]);
    // Another article of the same day as #3's (a date without a time): it comes next, not never.
    await writeFile(join(root, "articles/same-day.md"), "---\ntitle: Same day\ndate: 2026-11-05\n---\n\nAlso on the fifth.\n");
    const sameDay = await assemble({ root, now: NOW, cacheDir: false });
    expect(sameDay.newsletter?.next?.plan.articles.map((a) => a.slug)).toEqual(["same-day"]);
  });

  it("links an editor's note to an article named by its file, as an article's body does", async () => {
    const root = await tempProject({ samples: true });
    const { writeFile } = await import("node:fs/promises");
    await writeFile(join(root, "newsletter/notes/3.md"), "Start with [the qubits story](../../articles/quantum-error-correction.md).\n");
    const cacheDir = join(root, ".presswork-cache");
    const result = await assemble({ root, now: NOW, cacheDir });
    expect(result.files.flatMap((f) => f.messages.map(String))).toEqual([]);
    expect(result.newsletter?.next?.plan.note?.html).toContain('href="https://signal-noise.example/articles/quantum-error-correction/"');
    // The article goes back to being a draft: the note's link breaks, though the note's text is the same and its issue was cached.
    const article = join(root, "articles/quantum-error-correction.md");
    await writeFile(article, (await readFile(article, "utf8")).replace(/^---\n/, "---\ndraft: true\n"));
    const again = await assemble({ root, now: NOW, cacheDir });
    expect(again.files.flatMap((f) => f.messages.map((m) => `${f.path} ${m.ruleId}`))).toEqual(["newsletter/notes/3.md broken-link"]);
  });

  it("starts at issue 1 with every published article when nothing was sent yet", async () => {
    const root = await tempProject({ samples: true });
    const { rm } = await import("node:fs/promises");
    await rm(join(root, "newsletter/sent.json"));
    const result = await assemble({ root, now: NOW, cacheDir: false });
    expect(result.newsletter?.next?.plan.number).toBe(1);
    expect(result.newsletter?.next?.plan.articles).toHaveLength(8);
  });
});

describe("the compiled issue", () => {
  it("keeps every personalisation token through MJML's minification, in text and in links", () => {
    expect(issue.html).toContain('href="%%unsubscribe_url%%"');
    expect(issue.html).toContain("%%greeting%%");
    expect(issue.text).toContain("Unsubscribe: %%unsubscribe_url%%");
    const copy = personalise(issue.html, { unsubscribe_url: "https://x.example/u?a=1&b=2", name: "<Ann>", greeting: greetingFor("<Ann> Smith") }, "html");
    expect(copy).not.toMatch(/%%[a-z_]+%%/);
    expect(copy).toContain('href="https://x.example/u?a=1&amp;b=2"');
    expect(copy).toContain("Hi &lt;Ann&gt;,");
  });

  it("comes with its HTML whitespace collapsed, so more of an issue fits before Gmail clips it", () => {
    // Outlook's conditional comments and code blocks keep their line breaks.
    const body = issue.html.slice(issue.html.indexOf("<body")).replace(/<pre[\s\S]*?<\/pre>/g, "").replace(/\s*<!--\[if [\s\S]*?<!\[endif\]-->\s*/g, " ");
    expect(body).not.toMatch(/\n|>\s{2,}</);
  });

  it("refuses a copy with a token it has no value for", () => {
    expect(() => personalise("Hi %%nickname%%", { unsubscribe_url: "u", name: "n", greeting: "" }, "text")).toThrow("%%nickname%% has no value");
  });

  it("is light and dark, has a language, and uses only absolute links and images with alt text", () => {
    const els = elements(issue.html);
    expect(attr(els.find((e) => e.tagName === "html") as Element, "lang")).toBe("en");
    expect(issue.html).toContain('<meta name="color-scheme" content="light dark">');
    // Apple Mail 13 and later read the CSS property, no longer the meta (hteumeuleu/email-bugs#104): without it, no dark mode there.
    expect(issue.html).toMatch(/:root\s*\{[^}]*(?<![\w-])color-scheme:\s*light dark/);
    expect(issue.html).toContain("prefers-color-scheme: dark");
    for (const a of els.filter((e) => e.tagName === "a")) expect(attr(a, "href")).toMatch(/^(https:\/\/|mailto:|%%unsubscribe_url%%$)/);
    const images = els.filter((e) => e.tagName === "img");
    expect(images.length).toBeGreaterThan(0);
    for (const img of images) {
      expect(attr(img, "src")).toMatch(/^https:\/\//);
      expect(attr(img, "alt")?.trim()).toBeTruthy();
    }
  });

  it("leads with a story and its picture, then quieter cards, each linking once to its article, each with a labelled Quick Reads box", () => {
    const els = elements(issue.html);
    for (const a of issue.plan.articles) {
      // Once from the card's headline, once from "In this issue".
      expect(els.filter((e) => e.tagName === "a" && attr(e, "href") === a.url), a.slug).toHaveLength(2);
    }
    expect(issue.html).not.toMatch(/Read more/i);
    const pictures = els.filter((e) => e.tagName === "img").map((e) => attr(e, "src"));
    expect(pictures).toEqual(["https://signal-noise.example/articles/open-silicon-fab/wafer.png"]);
    expect(issue.html).toContain("The first wafer from the line, photographed before dicing.");
    expect(issue.html).toContain("Forty volunteers, a second-hand lithography line and a design anyone can download.");
    const labels = els.filter((e) => e.tagName === "h3").map((e) => e.childNodes.map((c) => ("value" in c ? c.value : "")).join(""));
    expect(labels).toEqual(issue.plan.articles.filter((a) => a.points.length > 0).map(() => "Quick Reads"));
    expect(issue.html).not.toContain('height="auto"');
  });

  it("pads its preheader, so an inbox's preview stops after it", () => {
    const hidden = /<div style="display:none[^"]*" aria-hidden="true">([^<]*)<\/div>/.exec(issue.html)?.[1] ?? "";
    expect(hidden.startsWith(issue.preheader)).toBe(true);
    expect(hidden.slice(issue.preheader.length).replace(/&#847;|&zwnj;|&nbsp;|\u034f|\u200c|\u00a0/g, "")).toBe("");
    expect(hidden.length - issue.preheader.length).toBeGreaterThan(150);
  });

  it("has a readable text part with every article, its link and the footer", () => {
    for (const a of issue.plan.articles) {
      expect(issue.text).toContain(`\n${a.title}\n`);
      expect(issue.text).toContain(`\n${a.url}\n`);
    }
    expect(issue.text).toContain("View in your browser: https://signal-noise.example/issues/3/");
    expect(issue.text.replace(/\s+/g, " ")).toContain(newsletter.postalAddress);
    // Prose wraps at 78 characters as plain-text mail should (RFC 5322, 2.1.1); only a line of one long word, an address, is longer.
    for (const line of issue.text.split("\n")) if (line.length > 78) expect(line).not.toContain(" ");
    expect(issue.text.replace(/\s+/g, " ")).toContain(newsletter.reason);
  });

  it("keeps the lines of a postal address written on several", async () => {
    const root = await tempProject({ samples: true });
    const path = join(root, "presswork.config.yaml");
    await writeFile(path, (await readFile(path, "utf8")).replace(`postalAddress: ${newsletter.postalAddress}`, "postalAddress: |\n    Signal & Noise\n    12 Example Street\n    London EC1A 1AA"));
    const text = (await assemble({ root, now: NOW, cacheDir: false })).newsletter?.next?.text ?? "";
    expect(text).toContain("\nSignal & Noise\n12 Example Street\nLondon EC1A 1AA\n");
  });
});

describe("the text part of an issue sent in full", () => {
  it("keeps apart what the HTML shows by its look alone: a term and its definition, a power, a formula's subscript, struck words; an ordinal, a ® and a footnote's mark read as they are", async () => {
    const root = await tempProject({ samples: true });
    const config = join(root, "presswork.config.yaml");
    await writeFile(config, (await readFile(config, "utf8")).replace("content: summary ", "content: full "));
    const body = "Energy is E = mc<sup>2</sup>, water H<sub>2</sub>O.[^1]\n\nThe 21<sup>st</sup> Acme<sup>®</sup> chip.\n\nThe price ~~rose~~ fell by 3 %.\n\n<dl><dt>Node</dt><dd>The size class of a chip process.</dd></dl>\n\n[^1]: A note.\n";
    await writeFile(join(root, "articles/glossary.md"), `---\ntitle: A Glossary\ndate: 2026-11-28\n---\n\n${body}`);
    const text = (await assemble({ root, now: NOW, cacheDir: false })).newsletter?.next?.text ?? "";
    expect(text).toContain("Energy is E = mc^2, water H_2O.[1]");
    // An ordinal and a trademark sign read as they are.
    expect(text).toContain("The 21st Acme® chip.");
    expect(text).toContain("The price ~~rose~~ fell by 3 %.");
    expect(text).toContain("\nNode\n  The size class of a chip process.\n");
  });
});

describe("each recipient's message", () => {
  it("parses as multipart/alternative UTF-8 with the headers RFC 2369 and RFC 8058 ask for", async () => {
    const raw = await buildMessage(issue, { address: "ann@example.org", name: "Ann Ø'Neil" }, config, newsletter, { secret: SECRET, date: NOW });
    const mail = await simpleParser(raw);
    expect(mail.subject).toBe(issue.subject);
    expect(mail.from?.value).toEqual([{ address: "newsletter@signal-noise.example", name: "Signal & Noise" }]);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value : []).toEqual([{ address: "ann@example.org", name: "Ann Ø'Neil" }]);
    expect(mail.replyTo?.value[0]?.address).toBe("editors@signal-noise.example");
    expect(mail.date?.toISOString()).toBe(NOW.toISOString());
    expect(mail.messageId).toMatch(/^<issue-3\.[0-9a-f]{24}\.[0-9a-f]{8}@signal-noise\.example>$/);
    expect(raw.toString()).toMatch(/Content-Type: multipart\/alternative/);
    expect(raw.toString()).toMatch(/Content-Type: text\/plain; charset=utf-8/);
    expect(raw.toString()).toMatch(/Content-Type: text\/html; charset=utf-8/);
    expect(raw.toString()).toContain('List-ID: "Signal & Noise Weekly" <weekly.signal-noise.example>');
    const lines = new Map(mail.headerLines.map((h) => [h.key, h.line]));
    expect(lines.get("list-unsubscribe-post")).toBe("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
    // Gmail's feedback loop: Postmaster Tools shows the spam rate by issue, list, kind and sender, four fields apart,
    // the sender last and of 5 to 15 characters.
    const feedback = /^Feedback-ID: issue-3:list-([0-9a-f]{8}):newsletter:([^:]+)$/.exec(lines.get("feedback-id") ?? "");
    expect(feedback?.[1]).toBe(listTag(newsletter.listId));
    expect(feedback?.[2]?.length).toBeGreaterThanOrEqual(5);
    expect(feedback?.[2]?.length).toBeLessThanOrEqual(15);
    const test = await simpleParser(await buildMessage(issue, { address: "ann@example.org" }, config, newsletter, { secret: SECRET, date: NOW, test: true }));
    expect(test.headerLines.find((h) => h.key === "feedback-id")?.line).toBe(`Feedback-ID: issue-3-test:list-${feedback?.[1]}:newsletter:${feedback?.[2]}`);
    expect(mail.headerLines.filter((h) => h.key === "list-unsubscribe")).toHaveLength(1);
    const listUnsubscribe = /^List-Unsubscribe: (.*)$/m.exec(raw.toString())?.[1] ?? "";
    const match = /^<(https:\/\/news\.signal-noise\.example\/unsubscribe\?list=weekly\.signal-noise\.example&token=([^>]+))>, <mailto:unsubscribe@signal-noise\.example\?subject=unsubscribe%20\d+\.[0-9a-f]{24}\.[0-9a-f]{12}>$/.exec(listUnsubscribe);
    expect(match, listUnsubscribe).not.toBeNull();
    const [, url = "", token = ""] = match ?? [];
    expect(verifyUnsubscribeToken(decodeURIComponent(token), newsletter.listId, SECRET)).toBe(addressKey("ann@example.org", SECRET));
    expect(decodeURIComponent(token)).not.toContain(Buffer.from("ann@example.org").toString("base64url").slice(0, 12));
    expect(verifyUnsubscribeToken(decodeURIComponent(token), newsletter.listId, "another secret")).toBeUndefined();
    expect(mail.html).toContain(url.replaceAll("&", "&amp;"));
    expect(mail.html).toContain("Hi Ann,");
    expect(mail.text).toContain("\nHi Ann,\n");
    expect(mail.text).toContain(`Unsubscribe: ${url}`);
    expect(String(mail.html)).not.toMatch(/%%[a-z_]+%%/);
    expect(String(mail.text)).not.toMatch(/%%[a-z_]+%%/);
  });

  it("names a list with accents in List-ID as an RFC 2047 word, so every header stays 7-bit for a relay without SMTPUTF8", async () => {
    const named = { ...newsletter, name: 'Señal y Ruido — "Semanal"' };
    const raw = await buildMessage(issue, { address: "ann@example.org" }, config, named, { secret: SECRET, date: NOW });
    const head = raw.subarray(0, raw.indexOf("\r\n\r\n"));
    expect([...head].filter((byte) => byte > 0x7e)).toEqual([]);
    const list = (await simpleParser(raw)).headers.get("list") as { id?: { name?: string; id?: string } } | undefined;
    expect(list?.id?.id).toBe("weekly.signal-noise.example");
    // mailparser leaves List-ID's phrase as it stands: decoded as the phrase of an address, as a mail client reads one.
    const phrase = await simpleParser(`From: ${list?.id?.name} <list@example.org>\r\n\r\n`);
    expect(phrase.from?.value[0]?.name).toBe('Señal y Ruido — "Semanal"');
  });

  it("gives one reader's copies of two newsletters sent from one domain with one secret, and each test copy, a Message-ID of its own", async () => {
    const to = { address: "ann@example.org" };
    const idOf = async (letter: NewsletterConfig, test = false) => (await simpleParser(await buildMessage(issue, to, config, letter, { secret: SECRET, date: NOW, ...(test ? { test } : {}) }))).messageId;
    const weekly = await idOf(newsletter);
    expect(await idOf(newsletter)).toBe(weekly);
    expect(await idOf({ ...newsletter, listId: "daily.signal-noise.example" })).not.toBe(weekly);
    const [first, second] = [await idOf(newsletter, true), await idOf(newsletter, true)];
    expect(first).not.toBe(second);
    expect(first).not.toBe(weekly);
  });

  it("gives each recipient their own unsubscribe link and Message-ID, the same on every build", async () => {
    const a = await simpleParser(await buildMessage(issue, { address: "a@example.org" }, config, newsletter, { secret: SECRET, date: NOW }));
    const b = await simpleParser(await buildMessage(issue, { address: "b@example.org" }, config, newsletter, { secret: SECRET, date: NOW }));
    const again = await simpleParser(await buildMessage(issue, { address: "A@Example.org" }, config, newsletter, { secret: SECRET, date: NOW }));
    expect(a.messageId).not.toBe(b.messageId);
    expect(again.messageId).toBe(a.messageId);
    const unsubscribeOf = (m: typeof a) => m.headerLines.find((h) => h.key === "list-unsubscribe")?.line;
    expect(unsubscribeOf(a)).toMatch(/^List-Unsubscribe: <https:/);
    expect(unsubscribeOf(a)).not.toBe(unsubscribeOf(b));
    // Nobody is greeted as "reader": without a name there is no greeting.
    expect(a.text).not.toMatch(/^(Hi|Hello)\b/m);
    expect(a.html).not.toMatch(/>\s*(Hi|Hello)\b/);
    expect(String(a.messageId)).not.toContain("a@example.org");
  });

  it("opens the plain text with one blank line under the browser link, with a greeting or without", async () => {
    const named = await simpleParser(await buildMessage(issue, { address: "ann@example.org", name: "Ann Example" }, config, newsletter, { secret: SECRET, date: NOW }));
    const nameless = await simpleParser(await buildMessage(issue, { address: "bob@example.org" }, config, newsletter, { secret: SECRET, date: NOW }));
    const opening = (text: string | undefined) => (text ?? "").split("\n").slice(2, 6);
    const link = "View in your browser: https://signal-noise.example/issues/3/";
    const note = opening(named.text)[3] ?? "";
    expect(note).not.toBe("");
    expect(opening(named.text)).toEqual([link, "", "Hi Ann,", note]);
    expect(opening(nameless.text)).toEqual([link, "", note, expect.any(String)]);
    expect(nameless.text).not.toMatch(/\n\n\n/);
    // The preview and the files written for the next issue follow the same rule.
    const preview = personalise(issue.text, { unsubscribe_url: "u", name: "reader", greeting: "" }, "text");
    expect(opening(preview)).toEqual(opening(nameless.text));
    expect(preview).not.toMatch(/\n\n\n/);
  });

  it("is DKIM-signed over both List-Unsubscribe headers, and the signature verifies", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const der = publicKey.export({ type: "spki", format: "der" }).toString("base64");
    const raw = await buildMessage(issue, { address: "ann@example.org" }, config, newsletter, {
      secret: SECRET,
      date: NOW,
      dkim: { domainName: "signal-noise.example", keySelector: "pw2026", privateKey: pem },
    });
    const resolver = async (name: string, type: string) => {
      if (name === "pw2026._domainkey.signal-noise.example" && type === "TXT") return [[`v=DKIM1; k=rsa; p=${der}`]];
      throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
    };
    const result = await dkimVerify(raw, { resolver });
    const [signature] = result.results;
    expect(signature?.status.result).toBe("pass");
    // mailauth 4 reports the signed header names at run time, though its types leave them out.
    const { signingHeaders } = (signature ?? {}) as { signingHeaders?: { keys?: string } };
    const signed = (signingHeaders?.keys ?? "").toLowerCase().split(": ").join(":").split(":");
    expect(signed).toEqual(expect.arrayContaining(["list-unsubscribe", "list-unsubscribe-post", "list-id", "feedback-id", "from", "subject"]));
  });

  it("decodes to exactly the personalised issue, with every line within RFC limits", async () => {
    const recipient = { address: "zoë@example.org", name: "Zoë $& $1 Smith" };
    const raw = await buildMessage(issue, recipient, config, newsletter, { secret: SECRET, date: NOW });
    const mail = await simpleParser(raw);
    const url = /^List-Unsubscribe: <([^>]+)>/m.exec(raw.toString())?.[1] ?? "";
    const values = { unsubscribe_url: url, name: recipient.name, greeting: "Hi Zoë," };
    expect(mail.text).toBe(personalise(issue.text, values, "text"));
    expect(mail.html).toBe(personalise(issue.html, values, "html"));
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value : []).toEqual([{ address: "zoë@example.org", name: "Zoë $& $1 Smith" }]);
    const lines = raw.toString("latin1").split("\r\n");
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(998);
    const bodyStart = lines.findIndex((l) => l === "Content-Transfer-Encoding: quoted-printable");
    expect(Math.max(...lines.slice(bodyStart).filter((l) => !l.startsWith("Content-")).map((l) => l.length))).toBeLessThanOrEqual(76);
    expect(raw.toString("latin1")).not.toMatch(/[^\r]\n/);
  });

  it("prefixes a test send's subject with [TEST]", async () => {
    const mail = await simpleParser(await buildMessage(issue, { address: "me@example.org" }, config, newsletter, { secret: SECRET, date: NOW, test: true }));
    expect(mail.subject).toBe(`[TEST] ${issue.subject}`);
  });

  it.each([
    ["a name", { address: "x@example.org", name: "Eve\r\nBcc: all@example.org" }],
    ["an address", { address: "x@example.org\nBcc: all@example.org" }],
  ])("refuses %s with a line break", async (_what, recipient) => {
    await expect(buildMessage(issue, recipient, config, newsletter, { secret: SECRET, date: NOW })).rejects.toMatchObject({ id: "header-injection" });
  });
});

describe("issue outputs in dist/", () => {
  let root: string;
  const read = (path: string) => readFile(join(root, "dist", path), "utf8");
  beforeAll(async () => {
    root = await tempProject({ samples: true });
    await build({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
  });

  it("lists the issues on a page and in valid RSS and Atom feeds", async () => {
    const index = await read("issues/index.html");
    expect(index).toContain('href="/issues/2/"');
    expect(await xmllint(await read("issues/atom.xml"), "atom")).toEqual([]);
    const rss = await read("issues/feed.xml");
    expect(await xmllint(rss)).toEqual([]);
    expect(rss).toContain("<link>https://signal-noise.example/issues/2/</link>");
  });

  it("previews the next issue as HTML, text and a message to a placeholder, never a subscriber", async () => {
    expect(await read("issues/next/index.html")).toContain("Hi Reader,");
    expect(await read("issues/next/issue.txt")).toContain("Issue #3");
    const mail = await simpleParser(await readFile(join(root, "dist/issues/next/issue.eml")));
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : "").toBe("reader@example.com");
    expect(mail.subject).toBe(issue.subject);
  });
});
