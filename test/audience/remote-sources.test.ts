import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { afterAll, describe, expect, it } from "vitest";
import { readSubscribers, remoteSource, SubscriberListError } from "../../src/audience/source.js";
import { openStore } from "../../src/store/database.js";
import { SubscriberList } from "../../src/store/subscribers.js";
import { runCliAsync } from "../helpers/cli.js";
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
      const root = await tempProject({ samples: true });
      const configPath = join(root, "presswork.config.yaml");
      await writeFile(configPath, (await readFile(configPath, "utf8")).replace("url: https://signal-noise.example/unsubscribe?list={list}&token={token}", `url: http://127.0.0.1:${port}/unsubscribe?list={list}&token={token}`));
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
        const first = await runCliAsync(["send", "--subscribers", "db", "--now", "2026-11-29T12:00:00Z"], root, env);
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
        const second = await runCliAsync(["send", "--subscribers", `${service.url}/api/subscribers`, "--now", "2026-12-02T12:00:00Z"], root, { ...env, PRESSWORK_API_TOKEN: API_TOKEN });
        expect(second.code, second.stderr).toBe(0);
        const next = smtp.received.slice(received).map((m) => m.to[0]);
        expect(next).toHaveLength(29);
        expect(next).not.toContain("reader7@example.org");
      } finally {
        await service.close();
        await smtp.close();
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
      await expect(read("good")).rejects.toThrow(SubscriberListError);
      await expect(read("good")).rejects.toThrow(/was cut off after \d+ rows/);
      expect(rows.length).toBeGreaterThan(0);
      await expect(read("bad")).rejects.toThrow(/refused PRESSWORK_API_TOKEN \(401\)/);
    } finally {
      server.close();
    }
  });
});
