import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createQueryId, sql, type KyselyPlugin, type RootOperationNode } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { parseAddress, type Address } from "../../src/audience/address.js";
import { openStore, parseDatabaseUrl, type Store } from "../../src/store/database.js";
import { migrations } from "../../src/store/migrations.js";
import { claimantName, claimDue, markFailed, markSent, MAX_ATTEMPTS, reclaimStale, type Claimant } from "../../src/store/queue.js";
import { listRows, SubscriberList } from "../../src/store/subscribers.js";
import { backends, sharedPostgresOrSkip } from "../helpers/databases.js";
import { REPO } from "../helpers/project.js";

const SECRET = "store-test-secret";
const LIST = "weekly.signal-noise.example";
const T0 = new Date("2026-11-29T12:00:00.000Z");
const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

function address(text: string): Address {
  const parsed = parseAddress(text);
  if ("reason" in parsed) throw new Error(parsed.reason);
  return parsed;
}

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe("DATABASE_URL", () => {
  it("defaults to data/presswork.sqlite under the project, and takes sqlite: paths, file paths and postgres URLs", () => {
    expect(parseDatabaseUrl(undefined, "/srv/news")).toEqual({ dialect: "sqlite", path: "/srv/news/data/presswork.sqlite" });
    expect(parseDatabaseUrl("sqlite:db/list.sqlite", "/srv/news")).toEqual({ dialect: "sqlite", path: "/srv/news/db/list.sqlite" });
    expect(parseDatabaseUrl("sqlite:///var/lib/presswork/list.sqlite", "/srv/news")).toEqual({ dialect: "sqlite", path: "/var/lib/presswork/list.sqlite" });
    expect(parseDatabaseUrl("/var/lib/list.db", "/srv/news")).toEqual({ dialect: "sqlite", path: "/var/lib/list.db" });
    expect(parseDatabaseUrl("postgres://u:p@db.example:5432/news", "/srv")).toEqual({ dialect: "postgres", url: "postgres://u:p@db.example:5432/news" });
    expect(() => parseDatabaseUrl("mysql://u@h/db", "/srv")).toThrow(/postgres:\/\/…/);
  });

  it("refuses a mistyped postgres URL, which would become a file path named with its password, without repeating it", () => {
    for (const typo of ["postgres//user:S3cretPass@127.0.0.1:5432/db", "postgresql:/user:S3cretPass@db.example/news", "user:S3cretPass@db.example/news", "sqlite:postgres:S3cretPass@db"]) {
      const refused = (() => {
        try {
          parseDatabaseUrl(typo, "/srv/news");
        } catch (error) {
          return error as Error & { id?: string };
        }
      })();
      expect(refused, typo).toMatchObject({ id: "database-url", message: expect.stringContaining("looks like a mistyped URL") });
      expect(refused?.message).not.toContain("S3cretPass");
    }
    expect(parseDatabaseUrl("postgres-backup.sqlite", "/srv/news")).toEqual({ dialect: "sqlite", path: "/srv/news/postgres-backup.sqlite" });
    // A real path may hold an @ (a Synology volume's @appstore).
    expect(parseDatabaseUrl("/volume1/@appstore/presswork.sqlite", "/srv/news")).toEqual({ dialect: "sqlite", path: "/volume1/@appstore/presswork.sqlite" });
    expect(() => parseDatabaseUrl("sqlite:data/100%.sqlite", "/srv/news")).toThrow(/DATABASE_URL has a % in its path that is not followed by two hexadecimal digits/);
  });
});

describe("a PostgreSQL server that refuses DATABASE_URL", () => {
  it("is a setting to fix (database-refused, exit 3), not an outage: a database that does not exist", async (ctx) => {
    const postgres = sharedPostgresOrSkip("the refused-database test");
    if (!postgres) return ctx.skip();
    const url = new URL(await postgres.database("refused"));
    url.pathname = "/no_such_database";
    await expect(openStore({ url: url.href, root: "/nonexistent" })).rejects.toMatchObject({ id: "database-refused", message: expect.stringContaining('database "no_such_database" does not exist') });
  });
});

for (const backend of await backends("store tests")) {
  describe(`the subscriber store on ${backend.name}`, () => {
    async function list(label: string): Promise<SubscriberList> {
      const store = await openStore({ url: await backend.fresh(label), root: "/nonexistent" });
      open.push(store);
      return new SubscriberList(store, LIST, SECRET);
    }

    async function subscriber(l: SubscriberList, identity: string) {
      return l.store.db.selectFrom("subscribers").selectAll().where("identity", "=", identity).executeTakeFirst();
    }

    it("applies its migrations once: opening the same database again changes nothing", async () => {
      const url = await backend.fresh("migrations");
      const first = await openStore({ url, root: "/nonexistent" });
      await new SubscriberList(first, LIST, SECRET).add(address("ann@example.org"), "Ann", T0);
      await first.close();
      const again = await openStore({ url, root: "/nonexistent" });
      open.push(again);
      const applied = (await again.db.selectFrom("kysely_migration" as never).selectAll().execute()) as Array<{ name: string }>;
      expect(applied.map((m) => m.name).sort()).toEqual(Object.keys(migrations(again.dialect)).sort());
      expect(await new SubscriberList(again, LIST, SECRET).counts()).toMatchObject({ active: 1 });
    });

    it("subscribes as pending with proof of consent, one confirmation mail, and no second one within 15 minutes", async () => {
      const l = await list("subscribe");
      const consent = { source: "form:footer", wording: "2026-11", ip: "203.0.113.9", userAgent: "Mozilla/5.0" };
      expect(await l.subscribe(address("Ann@Example.org"), "Ann", consent, T0)).toBe("new");
      expect(await l.subscribe(address("ann@example.org"), undefined, consent, later(5))).toBe("refreshed");
      const row = await subscriber(l, "ann@example.org");
      expect(row).toMatchObject({ status: "pending", email: "Ann@example.org", name: "Ann" });
      expect(row?.confirm_nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
      const queued = await l.store.db.selectFrom("mail_queue").selectAll().execute();
      expect(queued.map((q) => q.kind)).toEqual(["confirm"]);
      expect(await l.subscribe(address("ann@example.org"), undefined, consent, later(20))).toBe("refreshed");
      expect(await l.store.db.selectFrom("mail_queue").selectAll().execute()).toHaveLength(2);
      const history = await l.history("ann@example.org");
      expect(history.consents).toEqual([{ subscribedAt: T0.toISOString(), confirmedAt: null, source: "form:footer", wording: "2026-11" }]);
      expect(history.events.map((e) => e.type)).toEqual(["subscribed"]);
    });

    it("confirms once with the nonce, records when, lifts a suppression and queues a welcome; the same link again is 'already'", async () => {
      const l = await list("confirm");
      await l.unsubscribe(l.keyOf("bob@example.org"), "one-click", T0);
      expect((await l.history("bob@example.org")).suppression?.reason).toBe("unsubscribed");
      await l.subscribe(address("bob@example.org"), undefined, { source: "form:page" }, later(1));
      const nonce = (await subscriber(l, "bob@example.org"))?.confirm_nonce ?? "";
      expect(await l.confirm(nonce, later(2))).toBe("confirmed");
      expect(await l.confirm(nonce, later(3))).toBe("already");
      const history = await l.history("bob@example.org");
      expect(history.subscriber?.status).toBe("active");
      expect(history.consents[0]?.confirmedAt).toBe(later(2).toISOString());
      expect(history.suppression).toBeUndefined();
      expect(history.events.map((e) => `${e.type}:${e.source}`)).toEqual(["unsubscribed:one-click", "subscribed:form:page", "confirmed:link"]);
      expect((await l.store.db.selectFrom("mail_queue").select("kind").orderBy("id").execute()).map((q) => q.kind)).toEqual(["confirm", "welcome"]);
      expect(await l.confirm("not-a-nonce", later(4))).toBe("used");
    });

    it("keeps an address that stopped stopped, with its name, until its owner confirms: a stranger's request mails only a confirmation, a few at most", async () => {
      const l = await list("stopped-until-confirmed");
      const stopped = { "gone@example.org": "unsubscribed", "dead@example.org": "bounced", "angry@example.org": "complained" } as const;
      for (const [who, status] of Object.entries(stopped)) {
        await l.add(address(who), "Their Name", T0);
        const key = l.keyOf(who);
        if (status === "unsubscribed") await l.unsubscribe(key, "one-click", later(1));
        else await l.record({ id: `r-${who}`, type: status, ...(status === "bounced" ? { bounce: "hard" as const } : {}), key, at: later(1), source: "mailbox" });
      }
      const never = async () => {
        const keys: string[] = [];
        for await (const key of l.stoppedKeys()) keys.push(key);
        return keys;
      };
      expect((await never()).sort()).toEqual(Object.keys(stopped).map((who) => l.keyOf(who)).sort());
      // Anyone may type these addresses into the form, with any name, again and again.
      for (let minutes = 10; minutes <= 130; minutes += 20) {
        for (const who of Object.keys(stopped)) await l.subscribe(address(who), "Visit cheap-pills.example now", { source: "form:footer" }, later(minutes));
      }
      for (const [who, status] of Object.entries(stopped)) {
        const row = await subscriber(l, who);
        expect({ status: row?.status, name: row?.name }, who).toEqual({ status, name: "Their Name" });
        const confirms = await l.store.db.selectFrom("mail_queue").select("id").where("subscriber_id", "=", row?.id ?? 0).where("kind", "=", "confirm").execute();
        expect(confirms, who).toHaveLength(3);
      }
      // A send leaves them out, whatever list it reads.
      expect((await never()).sort()).toEqual(Object.keys(stopped).map((who) => l.keyOf(who)).sort());
      // Its owner's click brings one back, and lifts what stopped it.
      const nonce = (await subscriber(l, "gone@example.org"))?.confirm_nonce ?? "";
      expect(await l.confirmState(nonce)).toBe("pending");
      expect(await l.confirm(nonce, later(140))).toBe("confirmed");
      expect((await subscriber(l, "gone@example.org"))?.status).toBe("active");
      expect(await never()).not.toContain(l.keyOf("gone@example.org"));
      expect(await never()).toContain(l.keyOf("dead@example.org"));
    });

    it("mails a confirmation to one who comes back after a subscription that used its confirmations, and asks no more of one who complained about it", async () => {
      const l = await list("confirm-cap-since");
      const confirms = async (who: string) => (await l.store.db.selectFrom("mail_queue").innerJoin("subscribers", "subscribers.id", "mail_queue.subscriber_id").select("kind").where("identity", "=", who).where("kind", "=", "confirm").execute()).length;
      // Three asks, three mails, the cap; then a confirmation and a mistaken unsubscribe the next day.
      for (const minutes of [0, 20, 40]) await l.subscribe(address("alice@example.org"), undefined, { source: "form:footer" }, later(minutes));
      expect(await confirms("alice@example.org")).toBe(3);
      // As the service's worker does, once each is sent.
      await l.store.db.updateTable("mail_queue").set({ sent_at: later(41).toISOString() }).where("kind", "=", "confirm").execute();
      expect(await l.confirm((await subscriber(l, "alice@example.org"))?.confirm_nonce ?? "", later(60))).toBe("confirmed");
      await l.unsubscribe(l.keyOf("alice@example.org"), "one-click", later(24 * 60));
      expect(await l.subscribe(address("alice@example.org"), undefined, { source: "form:footer" }, later(24 * 60 + 5))).toBe("resubscribed");
      expect(await confirms("alice@example.org")).toBe(4);
      expect(await l.confirm((await subscriber(l, "alice@example.org"))?.confirm_nonce ?? "", later(24 * 60 + 6))).toBe("confirmed");

      // Asked back for by someone else, the owner marks the confirmation as spam: the link dies and nothing more is queued for it.
      await l.add(address("bea@example.org"), undefined, T0);
      await l.unsubscribe(l.keyOf("bea@example.org"), "one-click", later(1));
      await l.subscribe(address("bea@example.org"), undefined, { source: "form:footer" }, later(2));
      const nonce = (await subscriber(l, "bea@example.org"))?.confirm_nonce ?? "";
      expect(await l.confirmState(nonce)).toBe("pending");
      await l.record({ id: "arf-1", type: "complained", key: l.keyOf("bea@example.org"), at: later(3), source: "mailbox" });
      expect(await l.confirmState(nonce)).toBe("used");
      const unsent = await l.store.db.selectFrom("mail_queue").innerJoin("subscribers", "subscribers.id", "mail_queue.subscriber_id").select("mail_queue.id").where("identity", "=", "bea@example.org").where("sent_at", "is", null).execute();
      expect(unsent).toEqual([]);
      expect((await subscriber(l, "bea@example.org"))?.status).toBe("unsubscribed");
    });

    it("unsubscribes at once and idempotently, drops unsent mail, and an old confirmation link no longer resubscribes", async () => {
      const l = await list("unsubscribe");
      await l.subscribe(address("cy@example.org"), undefined, { source: "form:footer" }, T0);
      const nonce = (await subscriber(l, "cy@example.org"))?.confirm_nonce ?? "";
      await l.confirm(nonce, later(1));
      const key = l.keyOf("cy@example.org");
      expect(await l.unsubscribe(key, "one-click", later(2))).toBe("unsubscribed");
      expect(await l.unsubscribe(key, "one-click", later(3))).toBe("already");
      expect(await l.store.db.selectFrom("mail_queue").selectAll().where("sent_at", "is", null).execute()).toHaveLength(0);
      expect(await l.confirm(nonce, later(4))).toBe("used");
      const history = await l.history("cy@example.org");
      expect(history.subscriber?.status).toBe("unsubscribed");
      expect(history.events.filter((e) => e.type === "unsubscribed")).toHaveLength(1);
    });

    it("commits unsubscribes made at once in one batch, and answers each with its own outcome", async () => {
      const l = await list("unsubscribe-batch");
      const members = ["ann", "bo", "cy", "di"].map((n) => `${n}@example.org`);
      await l.importRows(members.map((m, i) => ({ line: i + 2, address: address(m), status: "active" as const, fields: {} })), "import:csv", T0);
      await l.subscribe(address("pending@example.org"), undefined, { source: "form:footer" }, T0);
      expect(await l.unsubscribe(l.keyOf("di@example.org"), "one-click", later(1))).toBe("unsubscribed");
      const before = { ...l.unsubscribes.stats };
      const asked = [
        ["ann@example.org", "unsubscribed"],
        ["ann@example.org", "already"],
        ["bo@example.org", "unsubscribed"],
        ["di@example.org", "already"],
        ["never.listed@example.org", "unknown"],
        ["pending@example.org", "unsubscribed"],
        ["cy@example.org", "unsubscribed"],
        ["bo@example.org", "already"],
      ] as const;
      const outcomes = await Promise.all(asked.map(([who], i) => l.unsubscribe(l.keyOf(who), i % 2 ? "one-click" : "unsubscribe-page", later(2))));
      expect(outcomes).toEqual(asked.map(([, outcome]) => outcome));
      expect(l.unsubscribes.stats.batches - before.batches).toBe(1);
      expect(l.unsubscribes.stats.largest).toBe(asked.length);

      for (const who of ["ann", "bo", "cy", "di", "pending"]) {
        const history = await l.history(`${who}@example.org`);
        expect(history.subscriber?.status, who).toBe("unsubscribed");
        expect(history.events.filter((e) => e.type === "unsubscribed"), who).toHaveLength(1);
      }
      expect((await l.history("ann@example.org")).events.at(-1)?.source).toBe("unsubscribe-page");
      expect((await l.history("bo@example.org")).events.at(-1)?.source).toBe("unsubscribe-page");
      expect((await l.history("cy@example.org")).events.at(-1)?.source).toBe("unsubscribe-page");
      expect((await l.history("never.listed@example.org")).suppression?.reason).toBe("unsubscribed");
      // The pending subscriber's confirmation mail is dropped with the rest of the batch's changes.
      expect(await l.store.db.selectFrom("mail_queue").selectAll().where("sent_at", "is", null).execute()).toHaveLength(0);
      expect(await l.counts()).toMatchObject({ active: 0, pending: 0, unsubscribed: 5, suppressed: 1 });
    });

    // Two transactions at once: SQLite runs one write transaction at a time.
    if (backend.name === "PostgreSQL") it("never deadlocks two replicas' unsubscribe batches that name the same subscribers in opposite orders", async () => {
      const url = await backend.fresh("unsubscribe-deadlock");
      const replica = async () => {
        const store = await openStore({ url, root: "/nonexistent" });
        open.push(store);
        return new SubscriberList(store, LIST, SECRET);
      };
      const holder = await replica();
      // A list of thousands, whose rows the statement finds by their index: in the order the batch names them, unless it is told otherwise.
      const names = ["ann", "bo", ...Array.from({ length: 5000 }, (_, i) => `reader${i}`)];
      await holder.importRows(names.map((n, i) => ({ line: i + 2, address: address(`${n}@example.org`), status: "active" as const, fields: {} })), "import:csv", T0);
      await sql`analyze subscribers`.execute(holder.store.db);
      const [x, y] = [await replica(), await replica()];
      const [low, high] = [holder.keyOf("ann@example.org"), holder.keyOf("bo@example.org")].sort() as [string, string];
      const waiters = async (n: number) => {
        for (let i = 0; ; i++) {
          const waiting = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(holder.store.db);
          if ((waiting.rows[0]?.n ?? 0) >= n) return;
          if (i > 500) throw new Error(`${n} requests never waited for a lock`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };
      // A transaction holds the later subscriber while two batches come in, as another batch being committed would.
      let release = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      let holding = () => {};
      const held = new Promise<void>((resolve) => (holding = resolve));
      const other = holder.store.db.transaction().execute(async (trx) => {
        await trx.selectFrom("subscribers").select("id").where("address_key", "=", high).forUpdate().execute();
        holding();
        await released;
      });
      await held;
      const first = Promise.all([x.unsubscribe(high, "one-click", later(1)), x.unsubscribe(low, "one-click", later(1))]);
      let second: Promise<unknown[]> = Promise.resolve([]);
      let rowsAwaited: number | undefined;
      try {
        await waiters(1);
        second = Promise.all([y.unsubscribe(low, "unsubscribe-page", later(2)), y.unsubscribe(high, "unsubscribe-page", later(2))]);
        await waiters(2);
        // Taken in arrival order, the first batch would hold the later row, waiting for it to be free, and the second the
        // earlier one, waiting in line for the later: a deadlock once the later is free. In key order, the second waits for the earlier.
        const awaited = await sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'tuple' and not granted and database = (select oid from pg_database where datname = current_database())`.execute(holder.store.db);
        rowsAwaited = awaited.rows[0]?.n;
      } finally {
        release();
        await other;
      }
      expect(rowsAwaited).toBe(0);
      const outcomes = await Promise.allSettled([first, second]);
      expect(outcomes.map((o) => (o.status === "rejected" ? String(o.reason) : "fulfilled"))).toEqual(["fulfilled", "fulfilled"]);
      expect(outcomes.flatMap((o) => (o.status === "fulfilled" ? o.value : [])).sort()).toEqual(["already", "already", "unsubscribed", "unsubscribed"]);
      expect(await holder.counts()).toMatchObject({ active: names.length - 2, unsubscribed: 2 });
    });

    it("commits subscribes made at once in one batch, each with one consent, one event and one confirmation mail", async () => {
      const l = await list("subscribe-batch");
      await l.add(address("active@example.org"), undefined, T0);
      await l.subscribe(address("waiting@example.org"), undefined, { source: "form:footer" }, T0);
      await l.add(address("gone@example.org"), undefined, T0);
      await l.unsubscribe(l.keyOf("gone@example.org"), "one-click", T0);
      const asked = [
        ["new.one@example.org", "new"],
        ["active@example.org", "already-active"],
        ["new.one@example.org", "refreshed"],
        ["waiting@example.org", "refreshed"],
        ["gone@example.org", "resubscribed"],
        ["new.two@example.org", "new"],
      ] as const;
      const before = { ...l.subscribes.stats };
      const outcomes = await Promise.all(asked.map(([who], i) => l.subscribe(address(who), `Reader ${i}`, { source: `form:f${i}`, wording: "v3", ip: "192.0.2.9" }, later(20))));
      expect(outcomes).toEqual(asked.map(([, outcome]) => outcome));
      expect(l.subscribes.stats.batches - before.batches).toBe(1);

      const confirms = async (who: string) =>
        (await l.store.db.selectFrom("mail_queue").innerJoin("subscribers", "subscribers.id", "mail_queue.subscriber_id").select("kind").where("identity", "=", who).where("kind", "=", "confirm").execute()).length;
      for (const who of ["new.one", "new.two"]) {
        const history = await l.history(`${who}@example.org`);
        expect(history.subscriber?.status).toBe("pending");
        expect(history.consents).toHaveLength(1);
        expect(history.events.map((e) => e.type)).toEqual(["subscribed"]);
        expect(await confirms(`${who}@example.org`)).toBe(1);
      }
      expect((await l.history("new.one@example.org")).consents[0]).toMatchObject({ source: "form:f2", wording: "v3" });
      expect((await subscriber(l, "new.one@example.org"))?.name).toBe("Reader 0");
      // Asked again 20 minutes after the first: a second confirmation mail.
      expect(await confirms("waiting@example.org")).toBe(2);
      // One who had stopped stays so until the link is used.
      expect((await subscriber(l, "gone@example.org"))?.status).toBe("unsubscribed");
      expect(await confirms("gone@example.org")).toBe(1);
      expect((await subscriber(l, "active@example.org"))?.status).toBe("active");
    });

    it("answers the other requests of a batch when one of them fails, and commits theirs", async () => {
      const l = await list("batch-failure");
      await l.importRows(["ann", "bo", "cy"].map((n, i) => ({ line: i + 2, address: address(`${n}@example.org`), status: "active" as const, fields: {} })), "import:csv", T0);
      const refused = ["bo@example.org", "refused.new@example.org"].map((a) => `'${l.keyOf(a)}'`).join(", ");
      // A database that refuses some requests' events: each error is its own request's answer.
      if (l.store.dialect === "sqlite") {
        await sql.raw(`create trigger refuse before insert on events when new.address_key in (${refused}) begin select raise(abort, 'refused for this test'); end`).execute(l.store.db);
      } else {
        await sql.raw(`create function refuse() returns trigger language plpgsql as $$ begin if new.address_key in (${refused}) then raise exception 'refused for this test'; end if; return new; end $$`).execute(l.store.db);
        await sql.raw("create trigger refuse before insert on events for each row execute function refuse()").execute(l.store.db);
      }
      const outcomes = await Promise.allSettled(["ann", "bo", "cy"].map((n) => l.unsubscribe(l.keyOf(`${n}@example.org`), "one-click", later(1))));
      expect(outcomes.map((o) => (o.status === "fulfilled" ? o.value : String(o.reason)))).toEqual(["unsubscribed", expect.stringContaining("refused for this test"), "unsubscribed"]);
      expect((await subscriber(l, "ann@example.org"))?.status).toBe("unsubscribed");
      expect((await subscriber(l, "bo@example.org"))?.status).toBe("active");
      expect((await subscriber(l, "cy@example.org"))?.status).toBe("unsubscribed");
      const subscribed = await Promise.allSettled(["new@example.org", "refused.new@example.org", "ann@example.org"].map((a) => l.subscribe(address(a), undefined, { source: "form:footer" }, later(2))));
      expect(subscribed.map((o) => (o.status === "fulfilled" ? o.value : String(o.reason)))).toEqual(["new", expect.stringContaining("refused for this test"), "resubscribed"]);
      expect((await l.history("new@example.org")).events.map((e) => e.type)).toEqual(["subscribed"]);
      // The refused subscriber and its confirmation mail are not half there: neither is.
      expect(await subscriber(l, "refused.new@example.org")).toBeUndefined();
      expect(await l.store.db.selectFrom("mail_queue").select("subscriber_id").execute()).toHaveLength(2);
    });

    it("records a reported event once per id; a hard bounce stops mail, a soft one and an older one change nothing", async () => {
      const l = await list("events");
      await l.add(address("dee@example.org"), undefined, later(10));
      const key = l.keyOf("dee@example.org");
      const event = { id: "msg-1", type: "bounced" as const, bounce: "soft" as const, key, at: later(20), source: "mailbox", issue: 4, detail: "4.2.2 mailbox full" };
      expect(await l.record(event)).toBe(true);
      expect(await l.record(event)).toBe(false);
      expect((await subscriber(l, "dee@example.org"))?.status).toBe("active");
      expect(await l.record({ ...event, id: "old", bounce: "hard", at: later(5) })).toBe(true);
      expect((await subscriber(l, "dee@example.org"))?.status).toBe("active");
      expect(await l.record({ ...event, id: "msg-2", bounce: "hard", at: later(30), detail: "5.1.1 no such user" })).toBe(true);
      const history = await l.history("dee@example.org");
      expect(history.subscriber).toMatchObject({ status: "bounced", statusAt: later(30).toISOString() });
      expect(history.events.map((e) => [e.type, e.bounce, e.issue])).toEqual([
        ["bounced", "hard", 4],
        ["subscribed", null, null],
        ["bounced", "soft", 4],
        ["bounced", "hard", 4],
      ]);
      // An address the list does not hold (mailed from a file) goes on the suppression list.
      expect(await l.record({ ...event, id: "msg-3", type: "complained", key: l.keyOf("eve@example.org") })).toBe(true);
      expect((await l.history("eve@example.org")).suppression?.reason).toBe("complained");
    });

    it("forgets an address but keeps its keyed hash suppressed: no import or add brings it back", async () => {
      const l = await list("forget");
      await l.subscribe(address("fay@example.org"), "Fay", { source: "form:footer", ip: "198.51.100.7" }, T0);
      await l.confirm((await subscriber(l, "fay@example.org"))?.confirm_nonce ?? "", later(1));
      expect(await l.forget("fay@example.org", later(2))).toBe(true);
      expect(await subscriber(l, "fay@example.org")).toBeUndefined();
      expect(await l.store.db.selectFrom("consents").selectAll().execute()).toHaveLength(0);
      expect(await l.store.db.selectFrom("mail_queue").selectAll().execute()).toHaveLength(0);
      const history = await l.history("fay@example.org");
      expect(history).toEqual({ consents: [], events: [], suppression: { reason: "forgotten", at: later(2).toISOString() } });
      const dump = JSON.stringify(await Promise.all(["subscribers", "consents", "events", "suppressions", "mail_queue"].map((t) => l.store.db.selectFrom(t as never).selectAll().execute())));
      expect(dump).not.toMatch(/fay|198\.51/i);
      const counts = await l.importRows([{ line: 2, address: address("fay@example.org"), status: "active", fields: {} }], "import:csv", later(3));
      expect(counts).toEqual({ added: 0, stopped: 0, unchanged: 0, suppressed: 1 });
      await expect(l.add(address("fay@example.org"), undefined, later(4))).rejects.toMatchObject({ id: "subscriber-refused" });
    });

    it("imports new rows with their status and opt-in times, stops known ones a file says stopped, and never reactivates", async () => {
      const l = await list("import");
      await l.add(address("gus@example.org"), undefined, T0);
      await l.add(address("hal@example.org"), undefined, T0);
      await l.unsubscribe(l.keyOf("hal@example.org"), "one-click", later(1));
      const optin = new Date("2024-03-01T10:00:00Z");
      const counts = await l.importRows(
        [
          { line: 2, address: address("ivy@example.org"), name: "Ivy", status: "active", subscribedAt: optin, confirmedAt: optin, fields: { company: "Acme" } },
          { line: 3, address: address("gus@example.org"), status: "unsubscribed", stoppedAt: later(2), fields: {} },
          { line: 4, address: address("hal@example.org"), status: "active", fields: {} },
          { line: 5, address: address("jo@example.org"), status: "bounced", fields: {} },
        ],
        "import:mailchimp",
        later(3),
      );
      expect(counts).toEqual({ added: 2, stopped: 1, unchanged: 1, suppressed: 0 });
      expect((await subscriber(l, "ivy@example.org"))?.fields).toBe('{"company":"Acme"}');
      expect((await l.history("ivy@example.org")).consents).toEqual([{ subscribedAt: optin.toISOString(), confirmedAt: optin.toISOString(), source: "import:mailchimp", wording: null }]);
      expect((await subscriber(l, "gus@example.org"))?.status).toBe("unsubscribed");
      expect((await subscriber(l, "hal@example.org"))?.status).toBe("unsubscribed");
      expect((await subscriber(l, "jo@example.org"))?.status).toBe("bounced");
      expect(await l.counts()).toMatchObject({ active: 1, unsubscribed: 2, bounced: 1 });
    });

    it("records a confirmation only when the export says when it was given", async () => {
      const l = await list("confirmations");
      const optin = new Date("2024-03-01T10:00:00Z");
      await l.importRows(
        [
          { line: 2, address: address("single@example.org"), status: "active", subscribedAt: optin, fields: {} },
          { line: 3, address: address("double@example.org"), status: "active", subscribedAt: optin, confirmedAt: later(1), fields: {} },
        ],
        "import:mailchimp",
        later(3),
      );
      expect((await l.history("single@example.org")).consents).toMatchObject([{ subscribedAt: optin.toISOString(), confirmedAt: null }]);
      expect((await l.history("double@example.org")).consents).toMatchObject([{ subscribedAt: optin.toISOString(), confirmedAt: later(1).toISOString() }]);
    });

    it("lets a row that stops mail win over an active row of the same address, next to it or batches away", async () => {
      const rows = [
        { line: 2, address: address("Ann@Example.org"), name: "Ann", status: "active" as const, subscribedAt: T0, fields: {} },
        { line: 3, address: address("ann@example.org"), status: "unsubscribed" as const, stoppedAt: later(2), fields: {} },
        { line: 4, address: address("bob@example.org"), status: "bounced" as const, stoppedAt: later(2), fields: {} },
        { line: 5, address: address("BOB@example.org"), name: "Bob", status: "active" as const, fields: {} },
      ];
      const near = await list("duplicates-near");
      expect(await near.importRows(rows, "import:csv", later(3))).toEqual({ added: 2, stopped: 0, unchanged: 2, suppressed: 0 });
      const far = await list("duplicates-far");
      for (const row of rows) await far.importRows([row], "import:csv", later(3));
      for (const l of [near, far]) {
        expect(await subscriber(l, "ann@example.org")).toMatchObject({ email: "Ann@example.org", name: "Ann", status: "unsubscribed", status_at: later(2).toISOString() });
        expect((await l.history("ann@example.org")).consents).toMatchObject([{ subscribedAt: T0.toISOString() }]);
        expect(await subscriber(l, "bob@example.org")).toMatchObject({ status: "bounced" });
      }
    });

    it("keeps SQL metacharacters as data in every field", async () => {
      const l = await list("metacharacters");
      const name = `Robert'); DROP TABLE subscribers;-- "x" \\ %_`;
      const tricky = address(`o'brien+%_--@example.org`);
      await l.subscribe(tricky, name, { source: `form:'; delete from consents;--`, wording: `v1' or '1'='1`, userAgent: "\u0000\u2028" }, T0);
      const row = await subscriber(l, tricky.identity);
      expect(row).toMatchObject({ email: tricky.address, name });
      const history = await l.history(tricky.identity);
      expect(history.consents[0]).toMatchObject({ source: `form:'; delete from consents;--`, wording: `v1' or '1'='1` });
      expect(await l.counts()).toMatchObject({ pending: 1 });
    });

    it("streams the active list in id order a batch at a time", async () => {
      const l = await list("stream");
      const rows = Array.from({ length: 2345 }, (_, i) => ({ line: i + 2, address: address(`r${i}@example.org`), status: (i % 10 === 0 ? "unsubscribed" : "active") as "active" | "unsubscribed", fields: {} }));
      await l.importRows(rows, "import:csv", T0);
      const seen: string[] = [];
      for await (const r of l.rows(["active"], 500)) seen.push(r.email);
      expect(seen).toEqual(rows.filter((r) => r.status === "active").map((r) => r.address.address));
    });

    it("hands each due mail to one worker at a time and backs off after failures", async () => {
      const l = await list("queue");
      await l.subscribe(address("kit@example.org"), undefined, { source: "form:footer" }, T0);
      const [mail, ...rest] = await claimDue(l.store, T0, 10, 60_000);
      expect(rest).toHaveLength(0);
      expect(mail).toMatchObject({ kind: "confirm", email: "kit@example.org", attempts: 1, status: "pending" });
      expect(await claimDue(l.store, later(0.5), 10, 60_000)).toHaveLength(0);
      if (!mail) throw new Error("nothing claimed");
      expect(await markFailed(l.store, mail, "421 try later", later(0.5), false)).toBe("retry");
      expect(await claimDue(l.store, later(1), 10, 60_000)).toHaveLength(0);
      const again = await claimDue(l.store, later(1.6), 10, 60_000);
      expect(again.map((m) => m.attempts)).toEqual([2]);
      await markSent(l.store, mail.id, later(2));
      expect(await claimDue(l.store, later(600), 10, 60_000)).toHaveLength(0);
      expect(await markFailed(l.store, { id: mail.id, attempts: MAX_ATTEMPTS }, "x", later(3), false)).toBe("failed");
    });

    it("gives a restarted worker back what a killed worker of its host had claimed, at once, and leaves live and other hosts' claims to their lease", async () => {
      const l = await list("reclaim");
      for (const who of ["ada", "bo", "cy", "di"]) await l.subscribe(address(`${who}@example.org`), undefined, { source: "form:footer" }, T0);
      const worker = (host: string, pid: number, instance: string): Claimant => ({ host, pid, instance });
      const killed = worker("vps", 4100, "aaaa");
      const live = worker("vps", 4200, "bbbb");
      const elsewhere = worker("replica-2", 4100, "cccc");
      const container = worker("vps", 1, "dddd");
      const [a, b, c, d] = [killed, live, elsewhere, container];
      for (const claimant of [a, b, c, d]) expect(await claimDue(l.store, T0, 1, 5 * 60_000, claimantName(claimant as Claimant))).toHaveLength(1);
      // A new process on vps: pid 1 again (a restarted container), or another pid; 4200 still runs, 4100 does not.
      const restarted = worker("vps", 1, "eeee");
      const isRunning = (pid: number) => pid === 4200 || pid === 1;
      expect(await reclaimStale(l.store, restarted, later(0.5), isRunning)).toBe(2);
      const resent = await claimDue(l.store, later(0.5), 10, 5 * 60_000, claimantName(restarted));
      expect(resent.map((m) => m.email).sort()).toEqual(["ada@example.org", "di@example.org"]);
      // Nothing more is taken back: the live worker's and the other host's claims wait for their lease, then are free.
      expect(await reclaimStale(l.store, restarted, later(1), isRunning)).toBe(0);
      expect(await claimDue(l.store, later(1), 10, 5 * 60_000)).toHaveLength(0);
      expect((await claimDue(l.store, later(5.5), 10, 5 * 60_000)).map((m) => m.email).sort()).toEqual(["bo@example.org", "cy@example.org"]);
    });
  });
}

describe("SQLite reads a list without sorting it", () => {
  it("walks a list's subscribers of a status in id order on an index that an unsubscribe does not rewrite", async () => {
    const dir = mkdtempSync(join(tmpdir(), "presswork-plan-"));
    try {
      const store = await openStore({ url: `sqlite:${join(dir, "list.sqlite")}`, root: dir });
      open.push(store);
      // The queries the send's list read and the suppressed keys' read run, as they run them.
      const ran: RootOperationNode[] = [];
      const capture: KyselyPlugin = { transformQuery: ({ node }) => (ran.push(node), node), transformResult: async ({ result }) => result };
      const traced: Store = { ...store, db: store.db.withPlugin(capture) };
      await listRows(traced, LIST, ["active"]).next();
      await new SubscriberList(traced, LIST, SECRET).stoppedKeys().next();
      const file = new Database(join(dir, "list.sqlite"), { readonly: true });
      const plans = ran.slice(0, 2).map((node) => {
        const query = store.db.getExecutor().compileQuery(node, createQueryId());
        return (file.prepare(`explain query plan ${query.sql}`).all(...(query.parameters as unknown[])) as Array<{ detail: string }>).map((step) => step.detail);
      });
      file.close();
      expect(plans).toEqual([["SEARCH subscribers USING INDEX subscribers_list_id (list=? AND id>?)"], ["SEARCH subscribers USING INDEX subscribers_list_id (list=? AND id>?)"]]);
      // No index holds the status: changing it rewrites the row alone.
      const indexes = await sql<{ name: string; sql: string | null }>`select name, sql from sqlite_master where type = 'index' and tbl_name = 'subscribers'`.execute(store.db);
      expect(indexes.rows.filter((index) => /status/.test(index.sql ?? "")).map((index) => index.name)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("SQLite checkpoints in the background", () => {
  it("copies committed changes into the database file from its thread, the writer never stopping to do it, and leaves no WAL at close", async () => {
    const dir = mkdtempSync(join(tmpdir(), "presswork-checkpoint-"));
    try {
      const path = join(dir, "list.sqlite");
      const store = await openStore({ url: `sqlite:${path}`, root: dir, service: { onBackgroundError: (message) => expect.fail(message) } });
      const l = new SubscriberList(store, LIST, SECRET);
      const rows = Array.from({ length: 2000 }, (_, i) => ({ line: i + 2, address: address(`reader${i}@example.org`), status: "active" as const, fields: {} }));
      // Far fewer WAL pages than the writer's own checkpoint waits for.
      for (let i = 0; i < rows.length; i += 100) await l.importRows(rows.slice(i, i + 100), "import:csv", T0);
      await Promise.all(rows.slice(0, 300).map((r) => l.unsubscribe(l.keyOf(r.address.identity), "one-click", later(1))));
      // The database file alone (without its WAL) holds what was committed, once the thread has been by.
      // A copy taken while the thread writes pages into the file can be torn, and one taken before the thread's
      // first checkpoint has no tables yet: either copy says "not yet".
      const inFile = () => {
        copyFileSync(path, join(dir, "file-only.sqlite"));
        const copy = new Database(join(dir, "file-only.sqlite"), { readonly: true });
        try {
          return copy.prepare("select status, count(*) as n from subscribers group by status order by status").all();
        } catch (error) {
          if (["SQLITE_CORRUPT", "SQLITE_NOTADB"].includes((error as { code?: string }).code ?? "")) return "torn copy";
          if (/no such table/.test((error as Error).message)) return "not checkpointed yet";
          throw error;
        } finally {
          copy.close();
        }
      };
      const expected = [{ status: "active", n: 1700 }, { status: "unsubscribed", n: 300 }];
      // A bound for a busy machine, where the thread may wait seconds for its turn; a pass takes a few turns of 50 ms.
      const deadline = Date.now() + 30_000;
      let seen = inFile();
      while (JSON.stringify(seen) !== JSON.stringify(expected) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        seen = inFile();
      }
      expect(seen).toEqual(expected);
      await store.close();
      expect(existsSync(`${path}-wal`)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("starts the WAL over under a steady stream of commits, instead of letting it grow until the writer stops to checkpoint", async () => {
    const dir = mkdtempSync(join(tmpdir(), "presswork-checkpoint-"));
    try {
      const path = join(dir, "list.sqlite");
      const store = await openStore({ url: `sqlite:${path}`, root: dir, service: { onBackgroundError: (message) => expect.fail(message), walRestartFrames: 300 } });
      open.push(store);
      // SQLite counts each time it starts the WAL over in the WAL file's header (its checkpoint sequence number).
      const restarts = () => {
        const header = Buffer.alloc(32);
        const file = openSync(`${path}-wal`, "r");
        try {
          readSync(file, header, 0, 32, 0);
        } finally {
          closeSync(file);
        }
        return header.readUInt32BE(12);
      };
      // Each commit writes about five pages. Left to itself, the WAL grows until the writer's own checkpoint at
      // 40,000 pages and is started over then: twice in 20,000 commits, and now and then by chance. Started over
      // each time the thread (once it is up, however late on a busy machine) sees it past 300 pages, ten times come
      // within a few thousand.
      // Commits one after the other: a pause in which the thread could empty the WAL by chance comes only when the
      // machine takes the CPU away.
      const before = restarts();
      let commits = 0;
      while (commits < 20_000 && (commits % 50 !== 0 || restarts() - before < 10)) {
        const i = commits++;
        await store.transaction(async (trx) => {
          await trx.insertInto("webhook_calls").values({ id: `call-${i}-${"x".repeat(400)}`, at: T0.toISOString() }).execute();
        });
      }
      const written = (await sql<{ n: number }>`select count(*) as n from webhook_calls`.execute(store.db)).rows[0]?.n;
      expect(written).toBe(commits);
      // The WAL's longest run (the file's size) is not held to a bound: it depends on how soon the thread came up.
      expect(restarts() - before).toBeGreaterThanOrEqual(10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("SQLite gives disk back", () => {
  it("cuts a WAL that a long write grew back to 128 MiB when it starts over, instead of keeping its largest size for good", async () => {
    const dir = mkdtempSync(join(tmpdir(), "presswork-wal-"));
    try {
      const path = join(dir, "list.sqlite");
      const store = await openStore({ url: `sqlite:${path}`, root: dir });
      open.push(store);
      const wal = () => statSync(`${path}-wal`).size;
      // One transaction of 150 MB, as a large import makes beside the service.
      await sql`create table filler (x blob)`.execute(store.db);
      await store.db.transaction().execute(async (tx) => {
        for (let i = 0; i < 150; i++) await sql`insert into filler values (zeroblob(1048576))`.execute(tx);
      });
      expect(wal()).toBeGreaterThan(150 * 1024 * 1024);
      // The next writes start the WAL over, once its pages are in the database file.
      await sql`delete from filler`.execute(store.db);
      await sql`insert into filler values (1)`.execute(store.db);
      expect(wal()).toBeLessThanOrEqual(128 * 1024 * 1024);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("SQLite opened by a user who cannot write it", () => {
  it("refuses to start, saying whose the file is, where SQLite would open it read-only and the service would answer every sign-up 503", async () => {
    const dir = mkdtempSync(join(tmpdir(), "presswork-readonly-"));
    type Refusal = { id?: string; message?: string };
    try {
      chmodSync(dir, 0o755);
      const path = join(dir, "list.sqlite");
      await (await openStore({ url: `sqlite:${path}`, root: dir })).close();
      /** As root, who may write anything: the open runs as nobody, in a process that loads the code first. */
      const asNobody = (): Refusal => {
        const code = `import "better-sqlite3"; const { openStore } = await import(${JSON.stringify(join(REPO, "lib/store/database.js"))}); process.setgid(65534); process.setuid(65534);
          try { await openStore({ url: ${JSON.stringify(`sqlite:${path}`)}, root: ${JSON.stringify(dir)} }); console.log("{}"); } catch (e) { console.log(JSON.stringify({ id: e.id, message: e.message })); }`;
        return JSON.parse(spawnSync(process.execPath, ["--input-type=module", "-e", code], { cwd: REPO, encoding: "utf8" }).stdout || "{}") as Refusal;
      };
      /** Another user's file, as this user meets it. */
      const asThisUser = async (): Promise<Refusal> => {
        chmodSync(path, 0o444);
        chmodSync(dir, 0o555);
        return openStore({ url: `sqlite:${path}`, root: dir }).then(
          () => ({}),
          (error: Refusal) => error,
        );
      };
      const refused = process.getuid?.() === 0 ? asNobody() : await asThisUser();
      expect(refused.id).toBe("database-read-only");
      expect(refused.message).toContain(`${path} cannot be written`);
      expect(refused.message).toMatch(/belongs to user \d+, and this process runs as \d+/);
    } finally {
      chmodSync(dir, 0o755);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
