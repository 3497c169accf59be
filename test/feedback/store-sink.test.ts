import { Kysely, Migrator, PostgresDialect, SqliteDialect } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { parseAddress, type Address } from "../../src/audience/address.js";
import { configSchema, type FeedbackConfig } from "../../src/config/schema.js";
import { eventId, type FeedbackEvent } from "../../src/feedback/event.js";
import { DatabaseSink } from "../../src/feedback/store-sink.js";
import { addressKey } from "../../src/issues/message.js";
import { openStore, parseDatabaseUrl, type Store } from "../../src/store/database.js";
import { migrations } from "../../src/store/migrations.js";
import { SubscriberList } from "../../src/store/subscribers.js";
import { backends } from "../helpers/databases.js";

const SECRET = "sink-test-secret";
const LIST = "weekly.signal-noise.example";
const T0 = new Date("2026-11-02T07:00:00.000Z");
const day = (n: number) => new Date(T0.getTime() + n * 86_400_000).toISOString();
const RULES: FeedbackConfig = configSchema.shape.feedback.parse(undefined);

function address(text: string): Address {
  const parsed = parseAddress(text);
  if ("reason" in parsed) throw new Error(parsed.reason);
  return parsed;
}

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** A feedback event as the mailbox or a webhook makes it. */
function event(kind: FeedbackEvent["kind"], key: string, at: string, extra: Partial<FeedbackEvent> = {}): FeedbackEvent {
  return { id: eventId(kind, key, at, extra.issue), kind, recipient: { key, via: "verp" }, source: "imap", format: "dsn", at, ...extra };
}

for (const backend of await backends("feedback sink tests")) {
  describe(`feedback into the subscriber database on ${backend.name}`, () => {
    async function setup(label: string) {
      const store = await openStore({ url: await backend.fresh(label), root: "/nonexistent" });
      open.push(store);
      const list = new SubscriberList(store, LIST, SECRET);
      return { store, list, sink: new DatabaseSink(list, RULES) };
    }
    const status = async (list: SubscriberList, identity: string) => (await list.history(identity)).subscriber?.status;

    it("stops mail at a hard bounce, once: the same report again changes nothing and is not recorded twice", async () => {
      const { list, sink } = await setup("hard");
      await list.add(address("ann@example.org"), "Ann", new Date(day(0)));
      const key = list.keyOf("ann@example.org");
      const bounce = event("hard-bounce", key, day(1), { issue: 12, status: "5.1.1", diagnostic: "smtp; 550 5.1.1 <address>... User unknown" });
      expect(await sink.apply(bounce)).toBe("stopped");
      expect(await sink.apply(bounce)).toBe("duplicate");
      const history = await list.history("ann@example.org");
      expect(history.subscriber).toMatchObject({ status: "bounced", statusAt: day(1) });
      expect(history.events.filter((e) => e.type === "bounced")).toEqual([{ type: "bounced", bounce: "hard", at: day(1), source: "mailbox", issue: 12, detail: "dsn: 5.1.1 smtp; 550 5.1.1 <address>... User unknown" }]);
      expect(sink.takeCounts()).toEqual({ recorded: 1, duplicates: 1, stopped: 1, ignored: 0 });
    });

    it("suppresses after three soft bounces for different issues within the window, counting again after a delivery", async () => {
      const { list, sink } = await setup("soft");
      await list.add(address("bo@example.org"), undefined, new Date(day(0)));
      const key = list.keyOf("bo@example.org");
      const soft = (issue: number, at: string, source: FeedbackEvent["source"] = "imap") => event("soft-bounce", key, at, { issue, status: "4.2.2", source });
      expect(await sink.apply(soft(1, day(1)))).toBe("recorded");
      // A relay's second report about the same issue is one bounce.
      expect(await sink.apply({ ...soft(1, day(2)), id: "second-report" })).toBe("recorded");
      expect(await sink.apply(soft(2, day(8)))).toBe("recorded");
      expect(await status(list, "bo@example.org")).toBe("active");
      // A delivery resets the count; one with nothing to reset is not kept.
      expect(await sink.apply(event("delivered", key, day(9), { source: "ses", format: "delivery" }))).toBe("recorded");
      expect(await sink.apply(event("delivered", key, day(10), { source: "ses", format: "delivery" }))).toBe("ignored");
      expect(await sink.apply(soft(3, day(15), "mailgun"))).toBe("recorded");
      expect(await sink.apply(soft(4, day(22)))).toBe("recorded");
      expect(await status(list, "bo@example.org")).toBe("active");
      expect(await sink.apply(soft(5, day(29)))).toBe("stopped");
      const history = await list.history("bo@example.org");
      expect(history.subscriber).toMatchObject({ status: "bounced", statusAt: day(29) });
      expect(history.events.map((e) => [e.type, e.bounce, e.issue, e.source])).toEqual([
        ["subscribed", null, null, "cli"],
        ["bounced", "soft", 1, "mailbox"],
        ["bounced", "soft", 1, "mailbox"],
        ["bounced", "soft", 2, "mailbox"],
        ["delivered", null, null, "webhook:ses"],
        ["bounced", "soft", 3, "webhook:mailgun"],
        ["bounced", "soft", 4, "mailbox"],
        ["bounced", "soft", 5, "mailbox"],
      ]);
      expect(history.events.at(-1)?.detail).toBe("3 soft bounces within 30 days, the last of issue #5 (4.2.2): 4.2.2");
      expect(history.events.find((e) => e.type === "delivered")?.detail).toBe("delivered (delivery): resets 2 soft bounces");
    });

    it("does not count soft bounces older than the window", async () => {
      const { list, sink } = await setup("window");
      await list.add(address("cy@example.org"), undefined, new Date(day(0)));
      const key = list.keyOf("cy@example.org");
      for (const [issue, at] of [[1, day(1)], [2, day(20)], [3, day(40)]] as const) await sink.apply(event("soft-bounce", key, at, { issue }));
      expect(await status(list, "cy@example.org")).toBe("active");
      await sink.apply(event("soft-bounce", key, day(45), { issue: 4 }));
      expect(await status(list, "cy@example.org")).toBe("bounced");
    });

    it("unsubscribes and suppresses at a complaint, unsubscribes at an unsubscribe mail, and ignores what changes nothing", async () => {
      const { list, sink } = await setup("complaint");
      for (const a of ["dee@example.org", "eve@example.org"]) await list.add(address(a), undefined, new Date(day(0)));
      expect(await sink.apply(event("complaint", list.keyOf("dee@example.org"), day(3), { issue: 7, format: "arf", feedbackType: "abuse" }))).toBe("stopped");
      expect(await sink.apply(event("unsubscribe", list.keyOf("eve@example.org"), day(3), { issue: 7, format: "unsubscribe-mail" }))).toBe("stopped");
      expect(await sink.apply(event("auto-reply", list.keyOf("eve@example.org"), day(4)))).toBe("ignored");
      const { recipient: _, ...nobody } = event("hard-bounce", "0".repeat(24), day(4));
      expect(await sink.apply(nobody)).toBe("ignored");
      expect(await status(list, "dee@example.org")).toBe("complained");
      expect(await status(list, "eve@example.org")).toBe("unsubscribed");
      expect((await list.history("dee@example.org")).events.at(-1)).toMatchObject({ type: "complained", source: "mailbox", issue: 7, detail: "arf (abuse)" });
    });

    it("counts as stopping mail only a report that changed the list: not one about a subscriber already stopped, or dated before they subscribed", async () => {
      const { list, sink } = await setup("stopped-counts");
      await list.add(address("hal@example.org"), undefined, new Date(day(5)));
      const key = list.keyOf("hal@example.org");
      // A complaint about an issue from before this subscription: kept in the history, and Hal still gets mail.
      expect(await sink.apply(event("complaint", key, day(2), { issue: 1, format: "arf" }))).toBe("recorded");
      expect(await status(list, "hal@example.org")).toBe("active");
      expect(await sink.apply(event("hard-bounce", key, day(6), { issue: 2 }))).toBe("stopped");
      // Already stopped: a second report (another source) changes nothing more.
      expect(await sink.apply(event("complaint", key, day(7), { issue: 2, format: "arf" }))).toBe("recorded");
      // An address the list does not hold: suppressed once.
      const unlisted = list.keyOf("from-a-csv@example.org");
      expect(await sink.apply(event("hard-bounce", unlisted, day(6), { issue: 2 }))).toBe("stopped");
      expect(await sink.apply(event("complaint", unlisted, day(7), { issue: 2, format: "arf" }))).toBe("recorded");
      expect(sink.takeCounts()).toEqual({ recorded: 5, duplicates: 0, stopped: 2, ignored: 0 });
    });

    it("puts an address the list does not hold on the suppression list, and names every stopped key for the send", async () => {
      const { list, sink } = await setup("unlisted");
      await list.add(address("fay@example.org"), undefined, new Date(day(0)));
      await list.add(address("gil@example.org"), undefined, new Date(day(0)));
      await sink.apply(event("hard-bounce", list.keyOf("from-a-csv@example.org"), day(2), { issue: 3 }));
      await sink.apply(event("complaint", list.keyOf("fay@example.org"), day(2), { issue: 3 }));
      // A soft bounce of an unlisted address suppresses nothing.
      await sink.apply(event("soft-bounce", list.keyOf("other@example.org"), day(2), { issue: 3 }));
      expect((await list.history("from-a-csv@example.org")).suppression?.reason).toBe("bounced");
      const keys: string[] = [];
      for await (const key of list.stoppedKeys(1)) keys.push(key);
      expect(keys.sort()).toEqual([list.keyOf("from-a-csv@example.org"), list.keyOf("fay@example.org")].sort());
      expect((await list.issueEvents([3])).map((e) => [e.type, e.bounce]).sort()).toEqual([
        ["bounced", "hard"],
        ["bounced", "soft"],
        ["complained", null],
      ]);
    });

    it("keys an address a provider names in clear the way the list does, whatever its spelling", async () => {
      const { list, sink } = await setup("spelling");
      await list.add(address("Hana@Bücher.example"), undefined, new Date(day(0)));
      const named: FeedbackEvent = { ...event("hard-bounce", "f".repeat(24), day(1)), recipient: { key: "f".repeat(24), address: "HANA@bücher.example", via: "provider" }, source: "postmark" };
      expect(await sink.apply(named)).toBe("stopped");
      expect(await status(list, "hana@xn--bcher-kva.example")).toBe("bounced");
    });

    it("brings a database made before deliveries were recorded up to date, keeping its events", async () => {
      const url = await backend.fresh("upgrade");
      const target = parseDatabaseUrl(url, "/nonexistent");
      const db = new Kysely<any>({
        dialect:
          target.dialect === "sqlite"
            ? new SqliteDialect({ database: new (await import("better-sqlite3")).default(target.path) })
            : new PostgresDialect({ pool: new (await import("pg")).default.Pool({ connectionString: target.url, max: 1 }) }),
      });
      const first = { "0001-subscribers": migrations(target.dialect)["0001-subscribers"] } as Record<string, NonNullable<ReturnType<typeof migrations>[string]>>;
      expect((await new Migrator({ db, provider: { getMigrations: async () => first } }).migrateToLatest()).error).toBeUndefined();
      const key = addressKey("ivy@example.org", SECRET);
      await db
        .insertInto("events")
        .values({ event_key: "mailbox:earlier", list: LIST, address_key: key, type: "bounced", bounce: "soft", at: day(1), source: "mailbox", issue: 1, detail: "4.2.2", recorded_at: day(1) })
        .execute();
      await db.destroy();
      const upgraded = await openStore({ url, root: "/nonexistent" });
      open.push(upgraded);
      const list = new SubscriberList(upgraded, LIST, SECRET);
      const sink = new DatabaseSink(list, RULES);
      expect(await sink.apply(event("delivered", key, day(2), { source: "mailgun" }))).toBe("recorded");
      expect((await list.history("ivy@example.org")).events.map((e) => [e.type, e.source, e.issue])).toEqual([
        ["bounced", "mailbox", 1],
        ["delivered", "webhook:mailgun", null],
      ]);
    });
  });
}
