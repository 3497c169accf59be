import { readFile, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { simpleParser } from "mailparser";
import { extname, join, normalize, sep } from "node:path";
import { personalise } from "../issues/tokens.js";
import { build, type Assembly } from "../pipeline/build.js";
import { problemLines } from "../validate/lines.js";
import { previewValues } from "../issues/preview.js";
import { unsubscribeLink } from "../issues/unsubscribe-url.js";
import { WarmFiles } from "../cache/warm.js";
import { CACHE_DIR } from "../cache/store.js";
import { startCatcher, listen, type CaughtMessage } from "./catcher.js";
import { watchInputs } from "./watch.js";
import { darken, emailPage, imagesOff, inboxPage, listPage, messagePage, withLiveScript, withoutStyles, type EmailView, type Problem } from "./ui.js";

/** Where and how to run the preview. */
export interface PreviewOptions {
  root: string;
  port: number;
  smtpPort: number;
  log: (line: string) => void;
}

/** A running preview. */
export interface Preview {
  url: string;
  smtpPort: number;
  /** The folders watched once watching began, relative to the project root ("" for the root itself). */
  watched: () => string[];
  close: () => Promise<void>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".xml": "application/xml; charset=utf-8",
  ".xsl": "text/xsl; charset=utf-8",
  ".json": "application/feed+json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".eml": "message/rfc822",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".svg": "image/svg+xml",
};

/**
 * Serves the site as it will be deployed, the next email, past issues, the
 * feeds and a mail catcher's inbox on 127.0.0.1, rebuilding on every change
 * to articles, templates or config and reloading open pages by themselves.
 * Bad input shows as an overlay with file and line; the server keeps running.
 */
export async function startPreview(options: PreviewOptions): Promise<Preview> {
  const outDir = join(options.root, CACHE_DIR, "preview-site");
  const clients = new Set<ServerResponse>();
  let version = 0;
  let problems: Problem[] = [];
  let assembly: Assembly | undefined;
  let building: Promise<void> | undefined;
  let again = false;
  let base = "/";
  // The cache's journals and the output's manifest, parsed once instead of for every edited file.
  const warm = new WarmFiles();

  const state = () => JSON.stringify({ version, problems });
  const broadcast = () => {
    for (const client of clients) client.write(`data: ${state()}\n\n`);
  };
  const rebuild = async (): Promise<void> => {
    if (building) {
      again = true;
      return building;
    }
    building = (async () => {
      try {
        const result = await build({ root: options.root, now: new Date(), out: outDir, warm });
        problems = result.files.flatMap((f) =>
          f.messages.filter((m) => m.fatal).map((m) => ({ file: f.path, line: m.line ?? 1, column: m.column ?? 1, severity: "error", reason: m.reason })),
        );
        // Every problem in the terminal too, as check prints it: the overlay shows the errors of the page open.
        for (const { text } of problemLines(result.files)) options.log(text);
        if (problems.length === 0) {
          assembly = result;
          base = result.config ? new URL(result.config.site.url).pathname : "/";
          version++;
        }
      } catch (error) {
        problems = [{ file: "presswork", line: 1, column: 1, severity: "error", reason: (error as Error).message }];
      }
      options.log(problems.length ? `${problems.length} problem(s): the overlay shows them` : `rebuilt (${version})`);
      broadcast();
    })();
    await building;
    building = undefined;
    if (again) {
      again = false;
      await rebuild();
    }
  };

  const catcher = await startCatcher(options.smtpPort, (message: CaughtMessage) => {
    options.log(`caught "${message.subject}"`);
    broadcast();
  });

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      response.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      response.end(`Presswork preview: ${error.message}`);
    });
  });

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const path = decodeURIComponent(url.pathname);
    const send = (status: number, type: string, body: string | Buffer) => {
      response.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      response.end(body);
    };
    const html = (body: string) => send(200, TYPES[".html"] as string, body);
    if (path === "/_presswork/events") {
      response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      response.write(`data: ${state()}\n\n`);
      clients.add(response);
      request.on("close", () => clients.delete(response));
      return;
    }
    if (path === "/_presswork/email") return html(withLiveScript(emailPage(await emailView(assembly, outDir), url.searchParams.get("scheme") === "dark" ? "dark" : "light")));
    if (path === "/_presswork/email/frame") {
      const letter = assembly?.newsletter;
      if (!letter?.next) return send(404, TYPES[".txt"] as string, "No issue is due.");
      // Images and links point at the published site; here they come from the preview. The unsubscribe URL stays as configured.
      const siteUrl = assembly?.config?.site.url ?? "";
      const local = siteUrl ? letter.next.html.split(siteUrl).join(`http://${request.headers.host ?? "127.0.0.1"}${base}`) : letter.next.html;
      let copy = personalise(local, previewValues(letter.newsletter), "html");
      if (url.searchParams.get("images") === "off") copy = imagesOff(copy);
      if (url.searchParams.get("styles") === "off") copy = withoutStyles(copy);
      return html(url.searchParams.get("scheme") === "dark" ? darken(copy) : copy);
    }
    if (path === "/_presswork/issues") {
      const issues = assembly?.newsletter?.past ?? [];
      return html(withLiveScript(listPage("Past issues", [...issues].reverse().map((i) => ({ href: `${base}issues/${i.number}/`, label: i.subject })))));
    }
    if (path === "/_presswork/feeds") {
      const tags = [...new Set(assembly?.articles.flatMap((a) => a.tags.map((t) => t.slug)) ?? [])].sort();
      const links = [
        { href: `${base}feed.xml`, label: "RSS 2.0" },
        { href: `${base}atom.xml`, label: "Atom 1.0" },
        { href: `${base}feed.json`, label: "JSON Feed 1.1" },
        ...tags.map((t) => ({ href: `${base}tags/${t}/feed.xml`, label: `Topic ${t} (RSS)` })),
      ];
      return html(withLiveScript(listPage("Feeds", links)));
    }
    if (path === "/_presswork/inbox") return html(withLiveScript(inboxPage(catcher.messages)));
    const caught = /^\/_presswork\/inbox\/(\d+)$/.exec(path);
    if (caught) {
      const message = catcher.messages.find((m) => m.id === Number(caught[1]));
      return message ? html(messagePage(message)) : send(404, TYPES[".txt"] as string, "No such message.");
    }
    await serveSite(path, outDir, base, send);
  };

  await listen(server, options.port, "--port").catch(async (error: Error) => {
    await catcher.close();
    throw error;
  });
  let timer: NodeJS.Timeout | undefined;
  // Watching starts beside the first build: an edit saved while that build runs (half a minute on a large
  // archive without a cache), once the inputs are watched, brings a rebuild instead of waiting unseen for the next edit.
  const watching = watchInputs(
    options.root,
    () => {
      clearTimeout(timer);
      timer = setTimeout(() => void rebuild(), 80);
    },
    options.log,
  );
  // Its failure is thrown once the first build is done.
  watching.catch(() => {});
  await rebuild();
  const watcher = await watching.catch(async (error: unknown) => {
    clearTimeout(timer);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await catcher.close();
    throw error;
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}${base}`,
    smtpPort: catcher.port,
    watched: watcher.watched,
    close: async () => {
      await watcher.close();
      clearTimeout(timer);
      for (const client of clients) client.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await catcher.close();
    },
  };
}

/** The next issue for the email page, its headers read from the sample message the build wrote. */
async function emailView(assembly: Assembly | undefined, outDir: string): Promise<EmailView | undefined> {
  const next = assembly?.newsletter?.next;
  const newsletter = assembly?.config?.newsletter;
  if (!next || !newsletter) return undefined;
  const sample = await readFile(join(outDir, "issues/next/issue.eml")).catch(() => undefined);
  const headers = sample ? (await simpleParser(sample)).headerLines.map((h) => ({ key: h.key, line: h.line.replace(/\r?\n[ \t]+/g, " ") })) : [];
  return {
    number: next.plan.number,
    subject: next.subject,
    preheader: next.preheader,
    unsubscribeUrl: unsubscribeLink(newsletter.unsubscribe.url, newsletter.listId),
    headers,
    bytes: Buffer.byteLength(next.html),
    text: personalise(next.text, previewValues(newsletter), "text"),
  };
}

/** Serves a file of the built site under the site's base path; HTML pages get the live script. */
async function serveSite(path: string, outDir: string, base: string, send: (status: number, type: string, body: string | Buffer) => void): Promise<void> {
  if (!path.startsWith(base)) return send(404, TYPES[".txt"] as string, `The site lives under ${base}`);
  let file = normalize(join(outDir, path.slice(base.length)));
  if (!file.startsWith(outDir + sep) && file !== outDir) return send(403, TYPES[".txt"] as string, "Outside the site.");
  const info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) file = join(file, "index.html");
  const body = await readFile(file).catch(() => undefined);
  if (!body) {
    const missing = await readFile(join(outDir, "404.html"), "utf8").catch(() => "Not found");
    return send(404, TYPES[".html"] as string, withLiveScript(missing));
  }
  const type = TYPES[extname(file)] ?? "application/octet-stream";
  send(200, type, type.startsWith("text/html") ? withLiveScript(body.toString("utf8")) : body);
}
