import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { addressKey, listTag } from "../../src/issues/message.js";
import { classifyMessage } from "../../src/mailbox/classify.js";
import { REPO } from "../helpers/project.js";
import { FIXTURE_SECRET, fixtureIdentity } from "./identity.js";

const DIR = join(REPO, "test/fixtures/bounces");
const NOW = new Date("2026-12-05T00:00:00Z");

interface Expected {
  understood: boolean;
  format: string;
  /** What the report says of a message left for a person, where it matters. */
  summary?: string;
  events: Array<{ kind: string; recipient?: string; via?: string; issue?: number; status?: string; feedbackType?: string; diagnostic?: string }>;
}

const cases = readdirSync(DIR)
  .filter((f) => f.endsWith(".eml"))
  .map((f) => f.slice(0, -4))
  .sort();

describe("the bounce corpus", () => {
  it("has cases, each with its expected classification", () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    for (const name of cases) expect(readdirSync(DIR)).toContain(`${name}.json`);
  });

  it.each(cases)("%s", async (name) => {
    const raw = readFileSync(join(DIR, `${name}.eml`));
    const expected = JSON.parse(readFileSync(join(DIR, `${name}.json`), "utf8")) as Expected;
    const result = await classifyMessage(raw, { identity: fixtureIdentity(), now: NOW });
    expect({ understood: result.understood, format: result.format }).toEqual({ understood: expected.understood, format: expected.format });
    if (expected.summary) expect(result.summary).toBe(expected.summary);
    expect(
      result.events.map((e) => ({
        kind: e.kind,
        ...(e.recipient ? { key: e.recipient.key, via: e.recipient.via } : {}),
        ...(e.issue !== undefined ? { issue: e.issue } : {}),
        ...(e.status ? { status: e.status } : {}),
        ...(e.feedbackType ? { feedbackType: e.feedbackType } : {}),
      })),
    ).toEqual(
      expected.events.map((e) => ({
        kind: e.kind,
        ...(e.recipient ? { key: addressKey(e.recipient, FIXTURE_SECRET), via: e.via } : {}),
        ...(e.issue !== undefined ? { issue: e.issue } : {}),
        ...(e.status ? { status: e.status } : {}),
        ...(e.feedbackType ? { feedbackType: e.feedbackType } : {}),
      })),
    );
    expected.events.forEach((e, i) => {
      if (e.diagnostic) expect(result.events[i]?.diagnostic).toBe(e.diagnostic);
    });
    // No address in clear outside the recipient field, which sinks never write.
    for (const event of result.events) {
      const { recipient, ...rest } = event;
      expect(JSON.stringify(rest)).not.toMatch(/[\p{L}\p{N}_.+-]+@[\p{L}\p{N}-]+\.[\p{L}\p{N}.-]+/u);
      expect(result.summary).not.toMatch(/@/);
      if (recipient) expect(recipient.key).toMatch(/^[0-9a-f]{24}$/);
    }
  });

  it("gives the same event ids when the same report is read twice, and different ones for another report", async () => {
    const raw = readFileSync(join(DIR, "postfix-user-unknown.eml"));
    const options = { identity: fixtureIdentity(), now: NOW };
    const [a, b] = await Promise.all([classifyMessage(raw, options), classifyMessage(Buffer.from(raw), { ...options, now: new Date() })]);
    expect(a.events.map((e) => e.id)).toEqual(b.events.map((e) => e.id));
    const other = await classifyMessage(readFileSync(join(DIR, "exim-plain-text.eml")), options);
    expect(other.events[0]?.id).not.toBe(a.events[0]?.id);
  });

  it("refuses a forged envelope token and falls back to what the report itself says", async () => {
    const raw = readFileSync(join(DIR, "postfix-user-unknown.eml"), "utf8").replaceAll("fe42b11856d5", "fe42b11856d6");
    const result = await classifyMessage(Buffer.from(raw), { identity: fixtureIdentity(), now: NOW });
    expect(result.events[0]?.recipient?.via).toBe("message-id");
    // With nothing of ours left, the address the report names is not trusted: anyone can write such a report.
    const stripped = raw.replace(/Message-ID: <issue-12[^>]+>/i, "Message-ID: <x@y.example>").replace(/List-Unsubscribe: .*/, "");
    const last = await classifyMessage(Buffer.from(stripped), { identity: fixtureIdentity(), now: NOW });
    expect(last).toMatchObject({ understood: false, format: "dsn", events: [] });
  });

  it("takes a Message-ID with another list's tag, sent from the same domain, for no message of this list's", async () => {
    const forged = readFileSync(join(DIR, "postfix-user-unknown.eml"), "utf8").replaceAll("fe42b11856d5", "fe42b11856d6").replace(/List-Unsubscribe: .*/, "");
    const withId = (tag: string) => Buffer.from(forged.replace(/Message-ID: <issue-12\.([0-9a-f]{24})@/i, `Message-ID: <issue-12.$1.${tag}@`));
    const identity = fixtureIdentity();
    const ours = await classifyMessage(withId(listTag(identity.listId)), { identity, now: NOW });
    expect(ours.events[0]?.recipient).toMatchObject({ via: "message-id", key: "0c5fb8459579d6951a1d5fec" });
    const theirs = await classifyMessage(withId(listTag("daily.signal-noise.example")), { identity, now: NOW });
    expect(theirs.events.some((e) => e.recipient?.via === "message-id")).toBe(false);
  });

  it("sends a plain-text bounce that names no message of ours to a person, whatever address it names", async () => {
    const raw = readFileSync(join(DIR, "exim-plain-text.eml"), "utf8").replaceAll("fe42b11856d5", "fe42b11856d6").replace(/Message-ID: <issue-12[^>]+>/i, "Message-ID: <x@y.example>");
    const result = await classifyMessage(Buffer.from(raw), { identity: fixtureIdentity(), now: NOW });
    expect(result).toMatchObject({ understood: false, format: "exim", events: [], summary: "a bounce that names no message of ours (no envelope token or original Message-ID): not trusted, nothing changed" });
  });

  it("reads the Authentication-Results the receiving server put on top, not one the sender wrote further down", async () => {
    const forged = readFileSync(join(DIR, "unsubscribe-forged-from-dmarc-fail.eml"), "utf8").replace("From: victim@gmail.com\n", "Authentication-Results: mx.signal-noise.example; dkim=pass header.d=gmail.com; dmarc=pass header.from=gmail.com\nFrom: victim@gmail.com\n");
    expect(await classifyMessage(Buffer.from(forged), { identity: fixtureIdentity(), now: NOW })).toMatchObject({ understood: false, events: [], summary: expect.stringContaining("(dmarc=fail, dkim=none)") });
    // Through a server that writes none, a field the sender wrote is on top: only mailbox.authservIds tells them apart.
    const unchecked = readFileSync(join(DIR, "unsubscribe-no-authentication-results.eml"), "utf8").replace("From: victim@gmail.com\n", "Authentication-Results: mx.google.com; dmarc=pass header.from=gmail.com\nFrom: victim@gmail.com\n");
    expect(await classifyMessage(Buffer.from(unchecked), { identity: fixtureIdentity(), now: NOW, authservIds: ["mx.signal-noise.example"] })).toMatchObject({
      understood: false,
      events: [],
      summary: "an unsubscribe request whose sender is not authenticated (no Authentication-Results from mx.signal-noise.example): left for a person",
    });
  });

  it("with mailbox.authservIds, reads the topmost field those servers wrote, below a forwarder's", async () => {
    const raw = readFileSync(join(DIR, "unsubscribe-from-dmarc-pass.eml"), "utf8");
    const forwarded = `Authentication-Results: relay.forwarder.example; dmarc=fail header.from=gmail.com\n${raw}`;
    const options = { identity: fixtureIdentity(), now: NOW };
    expect(await classifyMessage(Buffer.from(forwarded), { ...options, authservIds: ["MX.signal-noise.example"] })).toMatchObject({ understood: true, events: [{ kind: "unsubscribe", recipient: { key: addressKey("victim@gmail.com", FIXTURE_SECRET), via: "from" } }] });
    expect(await classifyMessage(Buffer.from(forwarded), options)).toMatchObject({ understood: false, events: [], summary: expect.stringContaining("(dmarc=fail)") });
  });

  it("leaves for a person an unsubscribe request with more than one From address, or a DKIM pass for another domain", async () => {
    const raw = readFileSync(join(DIR, "unsubscribe-from-dmarc-pass.eml"), "utf8");
    const two = raw.replace("From: victim@gmail.com\n", "From: victim@gmail.com, other@example.org\n");
    expect(await classifyMessage(Buffer.from(two), { identity: fixtureIdentity(), now: NOW })).toMatchObject({ understood: false, events: [], summary: expect.stringContaining("(more than one From address)") });
    const subdomain = raw.replace(/dkim=pass header\.d=gmail\.com[^;]*;[\s\S]*?dmarc=pass \(policy=none\) header\.from=gmail\.com/, "dkim=pass header.d=mail.gmail.com header.s=s1");
    expect(subdomain).not.toContain("dmarc=");
    expect(await classifyMessage(Buffer.from(subdomain), { identity: fixtureIdentity(), now: NOW })).toMatchObject({ understood: false, events: [], summary: expect.stringContaining("(dkim=pass for mail.gmail.com)") });
  });

  it("classifies a 20 MB bounce from its first megabyte as it classifies the whole", async () => {
    const small = readFileSync(join(DIR, "postfix-user-unknown.eml"), "utf8");
    const filler = `${"A".repeat(76)}\n`.repeat(Math.ceil((20 * 1024 * 1024) / 77));
    const huge = Buffer.from(small.replace("The week in chips and networks.\n", `The week in chips and networks.\n${filler}`));
    expect(huge.length).toBeGreaterThan(20 * 1024 * 1024);
    const whole = await classifyMessage(huge, { identity: fixtureIdentity(), now: NOW });
    const start = await classifyMessage(huge.subarray(0, 1024 * 1024), { identity: fixtureIdentity(), now: NOW });
    expect(start.events).toEqual(whole.events);
    expect(start.events[0]).toMatchObject({ kind: "hard-bounce", issue: 12, status: "5.1.1" });
  });
});
