import { createReadStream, existsSync, statSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { extname, join, normalize } from "node:path";
import { simpleParser } from "mailparser";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../helpers/browser.js";
import { runCliAsync } from "../helpers/cli.js";
import { initRepo } from "../helpers/git.js";
import { freePort } from "../helpers/postgres.js";
import { article, put, removeProjects, tempProject } from "../helpers/project.js";
import { spawnServe, type ServeProcess } from "../helpers/serve.js";
import { mailTo, SECRET } from "../helpers/service.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp", ".avif": "image/avif", ".xml": "application/xml", ".json": "application/json", ".js": "text/javascript" };

/** Serves a built dist/ on a loopback port, as a static host would: a folder answers with its index.html. */
async function serveStatic(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    let file = join(dir, path);
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!file.startsWith(dir) || !existsSync(file)) {
      response.writeHead(404).end("not found");
      return;
    }
    response.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

let browser: Browser;
let smtp: TestSmtp;
let serve: ServeProcess | undefined;
let site: Server | undefined;
beforeAll(async () => {
  browser = await launchBrowser();
  smtp = await startSmtp();
});
afterAll(async () => {
  serve?.child.kill("SIGTERM");
  if (serve) await serve.exited;
  site?.close();
  await browser?.close();
  await smtp?.close();
  await removeProjects();
});

describe("a reader's whole way, in Chromium without JavaScript", () => {
  it("subscribes through the footer of the built site, confirms from the mail, gets an issue, leaves with one click as Gmail does, and the next issue leaves them out", async () => {
    const root = await tempProject({ samples: true, built: true });
    const servicePort = await freePort();
    const service = `http://127.0.0.1:${servicePort}`;
    const configPath = join(root, "presswork.config.yaml");
    await writeFile(
      configPath,
      (await readFile(configPath, "utf8"))
        .replace("https://news.signal-noise.example/subscribe", `${service}/subscribe`)
        .replace("https://news.signal-noise.example/unsubscribe?", `${service}/unsubscribe?`),
    );
    initRepo(root);
    const env = { PRESSWORK_SECRET: SECRET, DATABASE_URL: `sqlite:${join(root, "data/list.sqlite")}`, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1", PRESSWORK_TRUST_PROXY: "loopback" };

    const built = await runCliAsync(["build", "--now", "2026-11-29T12:00:00Z"], root, env);
    expect(built.code, built.stderr).toBe(0);
    const served = await serveStatic(join(root, "dist"));
    site = served.server;
    serve = await spawnServe(root, env, servicePort);

    // Subscribe through the footer form of the home page: a cross-origin form post, no JavaScript, no CORS.
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${served.url}/`);
    const form = page.locator("footer form.subscribe");
    await expect(form.getAttribute("action")).resolves.toBe(`${service}/subscribe`);
    await form.getByLabel("Email address").fill("reader@example.org");
    await form.getByLabel("Name").fill("Rita Reader");
    await Promise.all([page.waitForURL(`${service}/subscribe/thanks`), form.getByRole("button", { name: "Subscribe" }).click()]);
    await expect(page.locator("h1").textContent()).resolves.toContain("Check your inbox");
    // The redirect stayed on the service's own origin.
    expect(new URL(page.url()).origin).toBe(service);

    // The confirmation mail, read as a mail client would, and its link followed in the browser.
    const confirmation = await mailTo(smtp, "reader@example.org", 1, 30_000);
    const link = /https?:\/\/[^\s"<>]+\/confirm\?token=[^\s"<>]+/.exec(confirmation.text ?? "")?.[0] ?? "";
    expect(link.startsWith(`${service}/confirm?token=`)).toBe(true);
    await page.goto(link);
    // Opening the link confirms nothing (mail scanners open every link): the reader's click on the button does.
    await expect(page.locator("h1").textContent()).resolves.toContain("Confirm your subscription");
    await page.getByRole("button", { name: "Confirm my subscription" }).click();
    await page.waitForSelector("h1:has-text('You are subscribed')");
    await context.close();
    await mailTo(smtp, "reader@example.org", 2, 30_000);

    // Someone else is on the list too, on the operator's word.
    const added = await runCliAsync(["subscribers", "add", "other@example.org", "--name", "Otto"], root, env);
    expect(added.code, added.stderr).toBe(0);

    const issueMails = (from: number) => smtp.received.slice(from).filter((m) => m.raw.toString("latin1").includes("Message-ID: <issue-"));
    const before = smtp.received.length;
    const first = await runCliAsync(["send", "--subscribers", "db", "--now", "2026-11-29T12:00:00Z"], root, env);
    expect(first.code, first.stderr).toBe(0);
    expect(issueMails(before).map((m) => m.to[0]).sort()).toEqual(["other@example.org", "reader@example.org"]);

    // Gmail's one-click: POST List-Unsubscribe=One-Click to the https URL of the header, no cookies, no redirects followed.
    const issue = await simpleParser(issueMails(before).find((m) => m.to[0] === "reader@example.org")?.raw ?? Buffer.alloc(0));
    expect(issue.headerLines.find((h) => h.key === "list-unsubscribe-post")?.line).toBe("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
    const header = issue.headerLines.find((h) => h.key === "list-unsubscribe")?.line ?? "";
    const oneClick = /<(http[^>]+)>/.exec(header)?.[1] ?? "";
    expect(oneClick.startsWith(`${service}/unsubscribe?`)).toBe(true);
    const answer = await fetch(oneClick, { method: "POST", body: "List-Unsubscribe=One-Click", headers: { "content-type": "application/x-www-form-urlencoded" }, redirect: "manual" });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("set-cookie")).toBeNull();

    await put(join(root, "articles/late-news.md"), article("title: Late News\ndate: 2026-12-01T09:00:00Z\nsummary: Something new."));
    const middle = smtp.received.length;
    const second = await runCliAsync(["send", "--subscribers", "db", "--now", "2026-12-02T12:00:00Z"], root, env);
    expect(second.code, second.stderr).toBe(0);
    expect(issueMails(middle).map((m) => m.to[0])).toEqual(["other@example.org"]);
  }, 240_000);
});
