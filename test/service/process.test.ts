import { once } from "node:events";
import { readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { unsubscribeUrl } from "../../src/issues/message.js";
import { openStore } from "../../src/store/database.js";
import { SubscriberList } from "../../src/store/subscribers.js";
import { backends } from "../helpers/databases.js";
import { startPostgres } from "../helpers/postgres.js";
import { removeProjects, tempProject } from "../helpers/project.js";
import { spawnServe } from "../helpers/serve.js";
import { mailTo, postForm, postJson, SECRET, startService } from "../helpers/service.js";
import { startSmtp } from "../helpers/smtp.js";
import { loadConfig } from "../../src/config/load.js";
import { serviceSettings } from "../../src/service/settings.js";

const LIST = "weekly.signal-noise.example";
afterAll(removeProjects);

/** Runs `tasks` with at most `width` at a time; stops starting new ones once `stop()` says so. */
async function pool<T>(tasks: Array<() => Promise<T>>, width: number, stop: () => boolean): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length && !stop()) await tasks[next++]?.();
    }),
  );
}

for (const backend of await backends("service process tests")) {
  describe(`presswork serve as a process on ${backend.name}`, () => {
    // Two service processes start and a burst runs between them: longer than the default timeout on a busy machine.
    it("loses no acknowledged request when killed with SIGKILL during a burst, and mails every confirmation after restart", { timeout: 180_000 }, async () => {
      const root = await tempProject();
      const databaseUrl = await backend.fresh("sigkill");
      const config = (await loadConfig(root)).config!;
      const store = await openStore({ url: databaseUrl, root });
      const list = new SubscriberList(store, LIST, SECRET);
      const members = Array.from({ length: 400 }, (_, i) => `member${i}@example.org`);
      await list.importRows(members.map((m, i) => ({ line: i + 2, address: { address: m, identity: m }, status: "active" as const, fields: {} })), "import:csv", new Date());
      await store.close();

      const smtp = await startSmtp();
      const env = { DATABASE_URL: databaseUrl, PRESSWORK_SECRET: SECRET, PRESSWORK_TRUST_PROXY: "loopback", PRESSWORK_SUBSCRIBE_PER_MINUTE: "100000", SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" };
      const serve = await spawnServe(root, env);
      const acknowledged = { subscribed: [] as string[], unsubscribed: [] as string[] };
      let answered = 0;
      let killed = false;
      const tasks = members.flatMap((member, i) => [
        async () => {
          const address = `burst${i}@example.org`;
          try {
            const r = await postJson(`${serve.url}/subscribe`, { email: address }, { "x-forwarded-for": `203.0.113.${i % 250}` });
            if (r.status === 202) acknowledged.subscribed.push(address);
          } catch {
            // Cut off by the kill: no answer, no promise made.
          }
          answered++;
        },
        async () => {
          const target = new URL(unsubscribeUrl(config.newsletter!, member, SECRET));
          try {
            const r = await postForm(`${serve.url}/unsubscribe${target.search}`, { "List-Unsubscribe": "One-Click" });
            if (r.status === 200) acknowledged.unsubscribed.push(member);
          } catch {
            // As above.
          }
          answered++;
        },
      ]);
      const killer = (async () => {
        while (answered < 250) await new Promise((r) => setTimeout(r, 5));
        serve.child.kill("SIGKILL");
        killed = true;
      })();
      await pool(tasks, 16, () => killed);
      await killer;
      expect(await serve.exited).toBe("SIGKILL");
      expect(acknowledged.subscribed.length + acknowledged.unsubscribed.length).toBeGreaterThanOrEqual(200);

      const again = await spawnServe(root, env);
      try {
        expect((await fetch(`${again.url}/healthz`)).status).toBe(200);
        const reopened = await openStore({ url: databaseUrl, root });
        // Mail the killed worker had claimed waits out its lease (5 minutes), as if another worker held it: end it now.
        await reopened.db.updateTable("mail_queue").set({ locked_until: null }).where("sent_at", "is", null).execute();
        const rows = new Map((await reopened.db.selectFrom("subscribers").select(["identity", "status"]).execute()).map((r) => [r.identity, r.status]));
        const queued = new Set((await reopened.db.selectFrom("mail_queue").innerJoin("subscribers", "subscribers.id", "mail_queue.subscriber_id").select("identity").where("kind", "=", "confirm").execute()).map((r) => r.identity));
        await reopened.close();
        for (const address of acknowledged.subscribed) {
          expect(rows.get(address), address).toBe("pending");
          expect(queued.has(address), address).toBe(true);
        }
        for (const address of acknowledged.unsubscribed) expect(rows.get(address), address).toBe("unsubscribed");
        // The queue survived the kill: every acknowledged subscriber gets their confirmation, before the kill or after.
        for (const address of acknowledged.subscribed) await mailTo(smtp, address, 1, 60_000);
      } finally {
        again.child.kill("SIGTERM");
        await again.exited;
        await smtp.close();
      }
    });
  });
}

describe("presswork serve as a process", () => {
  it("finishes a request in flight on SIGTERM, then exits 0", async () => {
    const root = await tempProject();
    const serve = await spawnServe(root, { DATABASE_URL: "", PRESSWORK_SECRET: SECRET });
    const { port } = new URL(serve.url);
    const body = "email=slow.typist%40example.org&name=Slow";
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    let response = "";
    socket.on("data", (chunk: Buffer) => (response += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    // Asking to continue: the server's "100 Continue" says it has the request in hand, however busy the machine.
    socket.write(`POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
    await Promise.race([once(socket, "data"), closed]);
    expect(response).toMatch(/^HTTP\/1\.1 100 /);
    socket.write(body.slice(0, 10));
    serve.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    expect(serve.child.exitCode).toBeNull();
    socket.end(body.slice(10));
    await closed;
    expect(response).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 303 /);
    expect(await serve.exited).toBe(0);
    expect(serve.output()).toContain("finishing the requests in flight");
  });

  it("stops within a container's 10-second grace, cutting a body that never finishes and a mail server that never answers", async () => {
    const root = await tempProject();
    // A mail server that takes the connection and never greets: the confirmation's send waits on it.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const serve = await spawnServe(root, { DATABASE_URL: "", PRESSWORK_SECRET: SECRET, SMTP_URL: `smtp://127.0.0.1:${(silent.address() as AddressInfo).port}` });
    try {
      expect((await postForm(`${serve.url}/subscribe`, { email: "waiting@example.org" })).status).toBe(303);
      // A client that sends its headers and part of its body, then nothing.
      const socket = connect(Number(new URL(serve.url).port), "127.0.0.1");
      socket.on("error", () => {});
      await once(socket, "connect");
      socket.write("POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=");
      await new Promise((r) => setTimeout(r, 1000));
      const stopping = Date.now();
      serve.child.kill("SIGTERM");
      expect(await serve.exited).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(10_000);
      socket.destroy();
    } finally {
      serve.child.kill("SIGKILL");
      silent.close();
    }
  });

  // Some twenty runs of the CLI, one after another: 21 s on 2 cores alone, over 50 s beside other work.
  it("refuses to start without its secret, with a config error, or on a port in use, saying why", { timeout: 180_000 }, async () => {
    const root = await tempProject();
    const { runCli, runCliHere } = await import("../helpers/cli.js");
    const noSecret = runCli(["serve", "--port", "0"], root, { PRESSWORK_SECRET: "", PRESSWORK_PUBLIC_URL: "http://127.0.0.1/" });
    expect(noSecret.code).toBe(3);
    expect(noSecret.stderr).toContain("PRESSWORK_SECRET is not set");
    const sample = await readFile(join(root, "presswork.config.yaml"), "utf8");
    const withoutForm = await tempProject({ config: sample.replace(/\n  subscribe:\n    url: [^\n]*/, "") });
    const noUrl = runCli(["serve", "--port", "0"], withoutForm, { PRESSWORK_SECRET: SECRET, PRESSWORK_PUBLIC_URL: "" });
    expect(noUrl.code).toBe(3);
    expect(noUrl.stderr).toContain("newsletter.subscribe.url");
    const badDb = runCli(["serve", "--port", "0"], root, { PRESSWORK_SECRET: SECRET, PRESSWORK_PUBLIC_URL: "http://127.0.0.1/", DATABASE_URL: "mysql://x@y/z" });
    expect(badDb.code).toBe(3);
    expect(badDb.stderr).toContain("DATABASE_URL must be postgres://");
    // A proxy setting it cannot use is a setting to fix (exit 3), not a database that may come back (exit 4).
    for (const [value, why] of [
      ["true", "trusting every proxy"],
      ["0.0.0.0/0", "trusting every proxy"],
      ["10.0.0.0/33", "neither an address, a range"],
      ["10.0.0.1/255.0.255.0", "neither an address, a range"],
      ["2", "not a number of hops"],
    ]) {
      const badProxy = runCli(["serve", "--port", "0"], root, { PRESSWORK_SECRET: SECRET, PRESSWORK_PUBLIC_URL: "http://127.0.0.1/", PRESSWORK_TRUST_PROXY: value as string });
      expect(badProxy.code, badProxy.stderr).toBe(3);
      expect(badProxy.stderr).toContain(why);
    }
    const config = (await loadConfig(root)).config!;
    for (const good of ["loopback", "10.0.0.0/8, 192.168.1.7", "::1, fd00::/8, uniquelocal", "172.16.0.0/255.240.0.0"]) {
      expect(serviceSettings(root, config, { PRESSWORK_SECRET: SECRET, PRESSWORK_PUBLIC_URL: "http://127.0.0.1/", PRESSWORK_TRUST_PROXY: good }, { host: "127.0.0.1", port: 0 }).trustProxy).toEqual(good.split(",").map((v) => v.trim()));
    }
    // A DKIM key nodemailer cannot sign with would have every confirmation go out unsigned.
    const badKey = runCli(["serve", "--port", "0"], root, { PRESSWORK_SECRET: SECRET, PRESSWORK_PUBLIC_URL: "http://127.0.0.1/", DKIM_PRIVATE_KEY: "not a key", DKIM_SELECTOR: "pw2026" });
    expect(badKey.code, badKey.stderr).toBe(3);
    expect(badKey.stderr).toContain("DKIM_PRIVATE_KEY is not a private key in PEM form");
    // A mistyped SMTP_URL ends the process (a supervisor restarts a process that exits, not one that hangs).
    for (const url of ["smtp//mail.example.com", "smtp://mail.example.com:99999"]) {
      const badSmtp = runCli(["serve", "--port", "0"], root, { PRESSWORK_SECRET: SECRET, PRESSWORK_PUBLIC_URL: "http://127.0.0.1/", SMTP_URL: url }, 20_000);
      expect(badSmtp.code, badSmtp.stderr).toBe(3);
      expect(badSmtp.stderr).toContain("SMTP_URL");
    }
    const badFlag = runCli(["serve", "--port", "http"], root, { PRESSWORK_SECRET: SECRET });
    expect(badFlag.code).toBe(2);
    const broken = await tempProject({ templates: { "email/confirm.mjml.liquid": "<mjml><mj-body>\n<mj-text>{{ tokens.confirm_url }}</mj-text>\n</mj-body></mjml>\n", "email/welcome.mjml.liquid": "<mjml><mj-body><mj-section><mj-column>\n<mj-text>{{ tokens.nickname }}</mj-text>\n</mj-column></mj-section></mj-body></mjml>\n" } });
    const badTemplates = runCli(["serve", "--port", "0"], broken, { PRESSWORK_SECRET: SECRET, PRESSWORK_PUBLIC_URL: "http://127.0.0.1/" });
    expect(badTemplates.code).toBe(1);
    expect(badTemplates.stderr).toMatch(/^templates\/email\/(confirm|welcome)\.mjml\.liquid:\d+:\d+ {2}error {2}/m);
    // A page only a failed confirmation shows is checked at start too, not when its first visitor meets it.
    const confirmFailed = await readFile(join(root, "templates/service/confirm-failed.liquid"), "utf8");
    const brokenPage = await tempProject({ templates: { "service/confirm-failed.liquid": `${confirmFailed}{% if %}\n` } });
    const line = confirmFailed.split("\n").length;
    const badPage = runCli(["serve", "--port", "0"], brokenPage, { PRESSWORK_SECRET: SECRET, PRESSWORK_PUBLIC_URL: "http://127.0.0.1/" });
    expect(badPage.code, badPage.stderr).toBe(1);
    expect(badPage.stderr).toMatch(new RegExp(`^templates/service/confirm-failed\\.liquid:${line}:\\d+ {2}error {2}template error`, "m"));
    const checked = await runCliHere(["check"], brokenPage);
    expect(checked.code).toBe(1);
    expect(checked.stderr).toMatch(new RegExp(`^templates/service/confirm-failed\\.liquid:${line}:\\d+ {2}error {2}template error`, "m"));
    const latin1 = await tempProject();
    await writeFile(join(latin1, "templates/service/thanks.liquid"), Buffer.from("<p>Merci, caf\xe9 compris.</p>\n", "latin1"));
    const notUtf8 = runCli(["serve", "--port", "0"], latin1, { PRESSWORK_SECRET: SECRET, PRESSWORK_PUBLIC_URL: "http://127.0.0.1/" });
    expect(notUtf8.code).toBe(1);
    expect(notUtf8.stderr).toContain("templates/service/thanks.liquid:1:1  error  bytes that are not UTF-8; save the file as UTF-8  encoding");
    const checkedLatin1 = await runCliHere(["check"], latin1);
    expect(checkedLatin1.code).toBe(1);
    expect(checkedLatin1.stderr).toContain("templates/service/thanks.liquid:1:1  error  bytes that are not UTF-8; save the file as UTF-8  encoding");
    // A missing templates folder, the service's pages or the email's, stops it the same way, naming the folder.
    for (const folder of ["service", "email"]) {
      const missing = await tempProject();
      await rm(join(missing, "templates", folder), { recursive: true });
      const stopped = runCli(["serve", "--port", "0"], missing, { PRESSWORK_SECRET: SECRET, PRESSWORK_PUBLIC_URL: "http://127.0.0.1/" });
      expect(stopped.code, stopped.stderr).toBe(1);
      expect(stopped.stderr).toMatch(new RegExp(`^templates/${folder}/:1:1 {2}error {2}is missing: .* templates-missing$`, "m"));
    }
    // So does a page's template missing from a folder copied from an earlier version, and check names it too.
    const older = await tempProject();
    await rm(join(older, "templates/service/confirm.liquid"));
    const missingPage = "templates/service/confirm.liquid:1:1  error  is missing: the service shows this page";
    const withoutPage = runCli(["serve", "--port", "0"], older, { PRESSWORK_SECRET: SECRET, PRESSWORK_PUBLIC_URL: "http://127.0.0.1/" });
    expect(withoutPage.code, withoutPage.stderr).toBe(1);
    expect(withoutPage.stderr).toContain(missingPage);
    const checkedOlder = await runCliHere(["check"], older);
    expect(checkedOlder.code).toBe(1);
    expect(checkedOlder.stderr).toContain(missingPage);
    const serve = await spawnServe(root, { PRESSWORK_SECRET: SECRET });
    try {
      const busy = runCli(["serve", "--port", new URL(serve.url).port], root, { PRESSWORK_SECRET: SECRET, PRESSWORK_PUBLIC_URL: "http://127.0.0.1/" });
      expect(busy.code).toBe(4);
      expect(busy.stderr).toContain("the port is in use");
    } finally {
      serve.child.kill("SIGTERM");
      await serve.exited;
    }
  });
});

describe("a database that is down", () => {
  it("on PostgreSQL gives 503 and a log line, never a crash, and the service recovers when it is back", async () => {
    const postgres = await startPostgres();
    if ("reason" in postgres) {
      if (process.env["PRESSWORK_CI"] === "1") throw new Error(`PostgreSQL is required under PRESSWORK_CI=1: ${postgres.reason}`);
      process.stderr.write(`SKIPPED the database-down test on PostgreSQL: ${postgres.reason}\n`);
      return;
    }
    const smtp = await startSmtp();
    const running = await startService({ databaseUrl: await postgres.database("down"), smtp });
    try {
      expect((await postJson(`${running.url}/subscribe`, { email: "before@example.org" })).status).toBe(202);
      await postgres.pause();
      const during = await postJson(`${running.url}/subscribe`, { email: "during@example.org" });
      expect(during.status).toBe(503);
      expect(await during.json()).toEqual({ error: "The list is out of reach for a moment. Please try again in a few minutes." });
      expect((await fetch(`${running.url}/healthz`)).status).toBe(503);
      const page = await postForm(`${running.url}/unsubscribe${new URL(unsubscribeUrl(running.config.newsletter!, "before@example.org", SECRET)).search}`, { "List-Unsubscribe": "One-Click" });
      expect(page.status).toBe(503);
      expect(await page.text()).toContain("Out of reach");
      expect(running.logs.some((l) => l.includes("database unavailable"))).toBe(true);
      await postgres.start();
      expect((await postJson(`${running.url}/subscribe`, { email: "after@example.org" })).status).toBe(202);
      expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    } finally {
      await running.close();
      await smtp.close();
      await postgres.stop();
    }
  });

  it("on SQLite, locked by another process past the busy timeout, keeps answering meanwhile, gives 503 and recovers", async () => {
    const root = await tempProject();
    const smtp = await startSmtp();
    const running = await startService({ databaseUrl: "", smtp, root });
    const other = new Database(`${root}/data/presswork.sqlite`);
    try {
      other.exec("BEGIN EXCLUSIVE");
      const answered: string[] = [];
      const waiting = postJson(`${running.url}/subscribe`, { email: "locked@example.org" }).then((r) => (answered.push("subscribe"), r));
      // The wait for the lock leaves the event loop free: a read is answered long before the write gives up.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const health = await fetch(`${running.url}/healthz`);
      answered.push("healthz");
      expect(health.status).toBe(200);
      const during = await waiting;
      expect(answered).toEqual(["healthz", "subscribe"]);
      expect(during.status).toBe(503);
      expect(running.logs.some((l) => l.includes("database unavailable (SQLITE_BUSY)"))).toBe(true);
      other.exec("ROLLBACK");
      expect((await postJson(`${running.url}/subscribe`, { email: "locked@example.org" })).status).toBe(202);
    } finally {
      other.close();
      await running.close();
      await smtp.close();
    }
  });
});
