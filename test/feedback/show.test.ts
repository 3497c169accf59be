import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAddress } from "../../src/audience/address.js";
import { configSchema } from "../../src/config/schema.js";
import { eventId, type FeedbackEvent } from "../../src/feedback/event.js";
import { DatabaseSink } from "../../src/feedback/store-sink.js";
import { addressKey } from "../../src/issues/message.js";
import { openStore } from "../../src/store/database.js";
import { SubscriberList } from "../../src/store/subscribers.js";
import { runCliHere } from "../helpers/cli.js";
import { removeProjects, tempProject } from "../helpers/project.js";

const SECRET = "show-secret";
const LIST = "weekly.signal-noise.example";

afterAll(removeProjects);

describe("presswork subscribers show after feedback", () => {
  it("tells why an address stopped getting mail: the event that stopped it, then each event with its time, source and issue", async () => {
    const root = await tempProject();
    const url = `sqlite:${join(root, "data/list.sqlite")}`;
    const store = await openStore({ url, root });
    const list = new SubscriberList(store, LIST, SECRET);
    for (const address of ["sol@example.org", "cy@example.org"]) {
      const parsed = parseAddress(address);
      if ("reason" in parsed) throw new Error(parsed.reason);
      await list.add(parsed, undefined, new Date("2026-09-01T00:00:00Z"));
    }
    const sink = new DatabaseSink(list, configSchema.shape.feedback.parse(undefined));
    const event = (kind: FeedbackEvent["kind"], address: string, issue: number, at: string, source: FeedbackEvent["source"], status?: string): FeedbackEvent => ({
      id: eventId(source, kind, address, issue),
      kind,
      recipient: { key: addressKey(address, SECRET), via: "verp" },
      issue,
      source,
      format: source === "imap" ? "dsn" : "failed",
      at,
      ...(status ? { status } : {}),
    });
    // Three soft bounces for three issues within 30 days: the third stops mail.
    await sink.record(event("soft-bounce", "sol@example.org", 10, "2026-11-02T08:00:00.000Z", "imap", "4.2.2"));
    await sink.record(event("soft-bounce", "sol@example.org", 11, "2026-11-09T08:00:00.000Z", "mailgun", "4.2.2"));
    await sink.record(event("soft-bounce", "sol@example.org", 12, "2026-11-16T08:00:00.000Z", "imap", "4.2.2"));
    await sink.record(event("complaint", "cy@example.org", 12, "2026-11-16T09:30:00.000Z", "ses"));
    await store.close();

    const env = { PRESSWORK_SECRET: SECRET, DATABASE_URL: url };
    const sol = await runCliHere(["subscribers", "show", "sol@example.org"], root, env);
    expect(sol.code, sol.stderr).toBe(0);
    const lines = sol.stdout.trim().split("\n");
    expect(lines[0]).toBe("s***@example.org: bounced since 2026-11-16T08:00:00.000Z; on the list since 2026-09-01T00:00:00.000Z.");
    expect(lines[1]).toMatch(/^Stopped getting mail on 2026-11-16T08:00:00\.000Z: bounced \(soft\), reported by mailbox for issue #12: /);
    const events = lines.slice(lines.indexOf("Events:") + 1).filter((l) => !/subscribed/.test(l));
    expect(events.map((l) => l.trim().split(/\s{2,}/).slice(0, 4))).toEqual([
      ["2026-11-02T08:00:00.000Z", "bounced (soft)", "mailbox", "issue #10"],
      ["2026-11-09T08:00:00.000Z", "bounced (soft)", "webhook:mailgun", "issue #11"],
      ["2026-11-16T08:00:00.000Z", "bounced (soft)", "mailbox", "issue #12"],
    ]);
    expect(sol.stdout).not.toContain("sol@");

    const cy = await runCliHere(["subscribers", "show", "cy@example.org"], root, env);
    expect(cy.stdout).toContain("c***@example.org: complained since 2026-11-16T09:30:00.000Z");
    expect(cy.stdout).toContain("Stopped getting mail on 2026-11-16T09:30:00.000Z: complained, reported by webhook:ses for issue #12");
  });
});
