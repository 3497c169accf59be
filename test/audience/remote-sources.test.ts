import { readFile, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest } from "node:http";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { afterAll, describe, expect, it } from "vitest";
import { listReporter } from "../../src/audience/report-back.js";
import { readSubscribers, remoteSource } from "../../src/audience/source.js";
import { openStore } from "../../src/store/database.js";
import { SubscriberList } from "../../src/store/subscribers.js";
import { runCliHere } from "../helpers/cli.js";
import { backends } from "../helpers/databases.js";
import { freePort } from "../helpers/postgres.js";
import { initRepo } from "../helpers/git.js";
import { article, put, removeProjects, tempProject } from "../helpers/project.js";
import { API_TOKEN, postForm, SECRET, startService } from "../helpers/service.js";
import { startSmtp } from "../helpers/smtp.js";

const LIST = "weekly.signal-noise.example";
afterAll(removeProjects);

for (const backend of await backends("send from the database tests")) {
  describe(`presswork send --subscribers db and --subscribers URL on ${backend.name}`, () => {
    it("sends to the database's active subscribers; one click on a sent message's List-Unsubscribe takes the address out of the next send", async () => {
      const port = await freePort();
      const root = await tempProject({ samples: true, built: true });
      const configPath = join(root, "presswork.config.yaml");
      await writeFile(configPath, (await readFile(configPath, "utf8")).replace("url: https://news.signal-noise.example/unsubscribe?list={list}&token={token}", `url: http://127.0.0.1:${port}/unsubscribe?list={list}&token={token}`));
      // The send keeps its state on a branch of the project's repository.
      initRepo(root);
      const databaseUrl = await backend.fresh("send");
      const store = await openStore({ url: databaseUrl, root });
      const members = Array.from({ length: 33 }, (_, i) => `reader${i}@example.org`);
      await new SubscriberList(store, LIST, SECRET).importRows(
        members.map((m, i) => ({ line: i + 2, address: { address: m, identity: m }, name: `Reader ${i}`, status: i < 30 ? ("active" as const) : ("unsubscribed" as const), fields: {} })),
        "import:csv",
        new Date(),
      );
      await store.close();
      const smtp = await startSmtp();
      const service = await startService({ databaseUrl, smtp, root, port });
      try {
        const env = { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1", DATABASE_URL: databaseUrl };
        const first = await runCliHere(["send", "--subscribers", "db", "--now", "2026-11-29T12:00:00Z"], root, env);
        expect(first.code, first.stderr).toBe(0);
        expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(members.slice(0, 30).sort());

        // As Gmail does: POST List-Unsubscribe=One-Click to the https URL of the message's List-Unsubscribe header.
        const message = await simpleParser(smtp.received.find((m) => m.to[0] === "reader7@example.org")?.raw ?? Buffer.alloc(0));
        const header = message.headerLines.find((h) => h.key === "list-unsubscribe")?.line ?? "";
        const oneClick = /<(http[^>]+)>/.exec(header)?.[1] ?? "";
        expect(oneClick.startsWith(`http://127.0.0.1:${port}/unsubscribe?`)).toBe(true);
        expect((await postForm(oneClick, { "List-Unsubscribe": "One-Click" })).status).toBe(200);

        await put(join(root, "articles/late-news.md"), article("title: Late News\ndate: 2026-12-01T09:00:00Z\nsummary: Something new."));
        const received = smtp.received.length;
        const second = await runCliHere(["send", "--subscribers", `${service.url}/api/subscribers`, "--now", "2026-12-02T12:00:00Z"], root, { ...env, PRESSWORK_API_TOKEN: API_TOKEN });
        expect(second.code, second.stderr).toBe(0);
        const next = smtp.received.slice(received).map((m) => m.to[0]);
        expect(next).toHaveLength(29);
        expect(next).not.toContain("reader7@example.org");
      } finally {
        await service.close();
        await smtp.close();
      }
    });

    it("reports the hard bounces it meets back to the list as events, once each; a report the service missed goes again with the next send", async () => {
      const root = await tempProject({ samples: true, built: true });
      initRepo(root);
      const databaseUrl = await backend.fresh("bounces");
      const store = await openStore({ url: databaseUrl, root });
      const list = new SubscriberList(store, LIST, SECRET);
      const members = Array.from({ length: 10 }, (_, i) => `reader${i}@example.org`);
      await list.importRows(
        members.map((m, i) => ({ line: i + 2, address: { address: m, identity: m }, name: `Reader ${i}`, status: "active" as const, fields: {} })),
        "import:csv",
        new Date("2026-11-01T00:00:00Z"),
      );
      const smtp = await startSmtp();
      smtp.behave("reader3@example.org", { rcpt: 550, text: "5.1.1 <reader3@example.org>: no such user" });
      const service = await startService({ databaseUrl, smtp, root });
      // In front of the service: its events endpoint answers 503 while `down` (a restart), the rest goes through.
      let down = true;
      const proxy = createServer((incoming, outgoing) => {
        if (down && incoming.url?.startsWith("/api/events")) {
          incoming.resume();
          outgoing.writeHead(503).end();
          return;
        }
        const target = new URL(incoming.url ?? "/", service.url);
        const forward = httpRequest(target, { method: incoming.method, headers: incoming.headers }, (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        });
        incoming.pipe(forward);
      });
      await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
      const api = `http://127.0.0.1:${(proxy.address() as { port: number }).port}/api/subscribers`;
      const status = async (address: string) => (await store.db.selectFrom("subscribers").select("status").where("email", "=", address).executeTakeFirst())?.status;
      const bounceEvents = async () => (await store.db.selectFrom("events").select(["address_key", "source", "issue"]).where("type", "=", "bounced").execute()).sort((a, b) => a.address_key.localeCompare(b.address_key));
      try {
        const env = { PRESSWORK_SECRET: SECRET, SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1", PRESSWORK_API_TOKEN: API_TOKEN };
        const first = await runCliHere(["send", "--subscribers", api, "--now", "2026-11-29T12:00:00Z"], root, env);
        expect(first.code).toBe(1);
        expect(first.stderr).toMatch(/some hard bounces could not be reported to http:\/\/127\.0\.0\.1:\d+\/api\/events \(.*503/);
        expect(first.stderr + first.stdout).not.toContain("reader3@");
        expect(await status("reader3@example.org")).toBe("active");

        // The service is back; the next send meets reader3 on its suppression list, still active on the list, and reader5 bounces.
        down = false;
        smtp.behave("reader5@example.org", { rcpt: 550, text: "5.1.1 no such user" });
        await put(join(root, "articles/late-news.md"), article("title: Late News\ndate: 2026-12-01T09:00:00Z\nsummary: Something new."));
        const second = await runCliHere(["send", "--subscribers", api, "--now", "2026-12-02T12:00:00Z"], root, env);
        expect(second.stdout).toMatch(/Reported 2 hard bounce\(s\) to http:\/\/127\.0\.0\.1:\d+\/api\/events/);
        expect(await status("reader3@example.org")).toBe("bounced");
        expect(await status("reader5@example.org")).toBe("bounced");
        const events = await bounceEvents();
        expect(events.map((e) => [e.address_key, e.issue])).toEqual(
          [
            [list.keyOf("reader3@example.org"), 3],
            [list.keyOf("reader5@example.org"), 4],
          ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
        );
        expect(new Set(events.map((e) => e.source))).toEqual(new Set(["send"]));

        // The same bounce reported again, to the service or straight to the database, is recorded once.
        const bounce = { key: list.keyOf("reader3@example.org"), issue: 3, at: new Date("2026-11-29T12:00:05Z") };
        for (const source of [{ url: api, token: API_TOKEN }, { database: databaseUrl, root, list: LIST }]) {
          const again = listReporter(source, { secret: SECRET, list: LIST });
          again?.add(bounce);
          expect(await again?.close()).toBeUndefined();
        }
        expect(await bounceEvents()).toHaveLength(2);
        // A send from the database reports there, and leaves both out.
        smtp.behave("reader8@example.org", { rcpt: 550, text: "5.1.1 no such user" });
        await put(join(root, "articles/later-news.md"), article("title: Later News\ndate: 2026-12-03T09:00:00Z\nsummary: Something newer."));
        const third = await runCliHere(["send", "--subscribers", "db", "--now", "2026-12-04T12:00:00Z"], root, { ...env, DATABASE_URL: databaseUrl });
        expect(third.stdout).toMatch(/Reported 1 hard bounce\(s\) to the subscriber database/);
        expect(await status("reader8@example.org")).toBe("bounced");
        expect(await bounceEvents()).toHaveLength(3);
      } finally {
        proxy.close();
        await service.close();
        await smtp.close();
        await store.close();
      }
    });
  });
}

describe("subscriber sources that are not files", () => {
  it("name what they lack: a database, an API token, https", () => {
    const context = { env: {}, root: "/nonexistent", list: LIST };
    expect(remoteSource("subs.csv", context)).toBeUndefined();
    expect(() => remoteSource("db", context)).toThrow(/set DATABASE_URL/);
    expect(remoteSource("db", { ...context, env: { DATABASE_URL: "postgres://db.example/news" } })).toEqual({ database: "postgres://db.example/news", root: "/nonexistent", list: LIST });
    expect(() => remoteSource("https://news.example.com/api/subscribers", context)).toThrow(/needs PRESSWORK_API_TOKEN/);
    expect(() => remoteSource("http://news.example.com/api/subscribers", { ...context, env: { PRESSWORK_API_TOKEN: "t" } })).toThrow(/use https/);
    expect(remoteSource("http://127.0.0.1:8787/api/subscribers", { ...context, env: { PRESSWORK_API_TOKEN: "t" } })).toEqual({ url: "http://127.0.0.1:8787/api/subscribers", token: "t" });
  });

  it("treat a list cut off in the middle as an error, not as a shorter list, and a refused token as one", async () => {
    const server = createServer((request, response) => {
      if (request.headers.authorization !== "Bearer good") {
        response.writeHead(401).end();
        return;
      }
      response.writeHead(200, { "content-type": "application/x-ndjson" });
      for (let i = 0; i < 500; i++) response.write(`${JSON.stringify({ email: `cut${i}@example.org`, status: "active" })}\n`);
      setTimeout(() => response.socket?.destroy(), 50);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/subscribers`;
    try {
      const rows: unknown[] = [];
      const read = async (token: string) => {
        for await (const row of readSubscribers({ url, token })) rows.push(row);
      };
      await expect(read("good")).rejects.toMatchObject({ id: "subscriber-list" });
      await expect(read("good")).rejects.toThrow(/was cut off after \d+ rows/);
      expect(rows.length).toBeGreaterThan(0);
      await expect(read("bad")).rejects.toThrow(/refused PRESSWORK_API_TOKEN \(401\)/);
    } finally {
      server.close();
    }
  });
});
