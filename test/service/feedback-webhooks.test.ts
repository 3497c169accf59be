import { createHmac, createSign } from "node:crypto";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAddress } from "../../src/audience/address.js";
import { addressKey } from "../../src/issues/message.js";
import { snsStringToSign } from "../../src/service/webhooks/ses.js";
import { backends } from "../helpers/databases.js";
import { REPO, removeProjects, tempProject } from "../helpers/project.js";
import { startService, type RunningService } from "../helpers/service.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";
import { CONFIG_WITH_BOUNCES, FIXTURE_SECRET } from "../mailbox/identity.js";

const DIR = join(REPO, "test/fixtures/webhooks");
const fixture = (name: string) => readFileSync(join(DIR, name), "utf8");
const key = (address: string) => addressKey(address, FIXTURE_SECRET);
const TOPIC = "arn:aws:sns:us-east-1:123456789012:presswork-feedback";
const CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem";
const POSTMARK = { user: "presswork", password: "a-long-webhook-password" };
const MAILGUN_KEY = "key-0123456789abcdef0123456789abcdef";
const ENV = {
  PRESSWORK_SECRET: FIXTURE_SECRET,
  PRESSWORK_SES_TOPIC_ARNS: TOPIC,
  PRESSWORK_POSTMARK_WEBHOOK_USER: POSTMARK.user,
  PRESSWORK_POSTMARK_WEBHOOK_PASSWORD: POSTMARK.password,
  PRESSWORK_MAILGUN_SIGNING_KEY: MAILGUN_KEY,
};

/** An SNS message signed with the test key that stands in for Amazon's. */
function snsMessage(type: string, fields: Record<string, string>, id = `msg-${Math.random()}`): string {
  const message: Record<string, string> = { Type: type, MessageId: id, TopicArn: TOPIC, Timestamp: "2026-12-02T18:29:59.000Z", SignatureVersion: "2", SigningCertURL: CERT_URL, ...fields };
  const signer = createSign("RSA-SHA256");
  signer.update(snsStringToSign(message));
  return JSON.stringify({ ...message, Signature: signer.sign(fixture("sns-test-key.pem"), "base64") });
}

/** A Mailgun payload signed now with a key (Mailgun's signing key unless told otherwise). */
function mailgun(name: string, token = `tok${Math.random().toString(16).slice(2)}`, signingKey = MAILGUN_KEY): string {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac("sha256", signingKey).update(timestamp + token).digest("hex");
  return fixture(name).replace('"TIMESTAMP"', JSON.stringify(timestamp)).replace('"TOKEN"', JSON.stringify(token)).replace('"SIGNATURE"', JSON.stringify(signature));
}

const post = (url: string, body: string, headers: Record<string, string> = {}) => fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

afterAll(removeProjects);

for (const backend of await backends("webhook route tests")) {
  describe(`provider webhooks on presswork serve (${backend.name})`, () => {
    let smtp: TestSmtp;
    let running: RunningService;
    const confirmed: string[] = [];
    const started: RunningService[] = [];
    const start = async (env: Record<string, string>) => {
      const root = await tempProject();
      await writeFile(join(root, "presswork.config.yaml"), CONFIG_WITH_BOUNCES);
      const r = await startService({ databaseUrl: await backend.fresh("webhooks"), smtp, root, env, webhooks: { fetchCertificate: async () => fixture("sns-test-cert.pem"), confirm: async (url) => (confirmed.push(url), "<ConfirmSubscriptionResponse/>") } });
      started.push(r);
      return r;
    };
    /** Puts an address on the list, active. */
    const subscribe = async (address: string) => {
      const parsed = parseAddress(address);
      if ("reason" in parsed) throw new Error(parsed.reason);
      await running.service.list.add(parsed, undefined, new Date("2026-10-01T00:00:00Z"));
    };
    const status = async (address: string) => (await running.service.store.db.selectFrom("subscribers").select("status").where("address_key", "=", key(address)).executeTakeFirst())?.status;
    const suppressed = async (address: string) => (await running.service.store.db.selectFrom("suppressions").select("address_key").where("address_key", "=", key(address)).executeTakeFirst()) !== undefined;
    const history = async (address: string) => (await running.service.store.db.selectFrom("events").select(["type", "bounce", "source", "issue"]).where("address_key", "=", key(address)).orderBy("id").execute()).filter((e) => e.type !== "subscribed");

    beforeAll(async () => {
      smtp = await startSmtp();
      running = await start(ENV);
    });
    afterAll(async () => {
      await Promise.all(started.map((r) => r.close()));
      await smtp.close();
      const logs = started.flatMap((r) => r.logs).join("\n");
      // Refused calls are logged without their body: no address, no signature, no password.
      expect(logs).not.toMatch(/[a-z0-9.]+@(example\.org|gmail\.com|yahoo\.com)/i);
      expect(logs).not.toContain(POSTMARK.password);
      expect(logs).not.toContain(MAILGUN_KEY);
    });

    it("SES through SNS: confirms the subscription, records a signed text/plain bounce once, refuses a tampered one", async () => {
      const subscribeUrl = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=x&Token=abc";
      const confirmation = await post(`${running.url}/webhooks/ses`, snsMessage("SubscriptionConfirmation", { Message: "You have chosen to subscribe…", SubscribeURL: subscribeUrl, Token: "abc" }), { "content-type": "text/plain; charset=UTF-8" });
      expect(confirmation.status).toBe(200);
      expect(confirmed).toEqual([subscribeUrl]);

      await subscribe("jane@example.org");
      const body = snsMessage("Notification", { Message: fixture("ses-bounce.json") }, "sns-bounce-1");
      const first = await post(`${running.url}/webhooks/ses`, body, { "content-type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification" });
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ recorded: 1, duplicates: 0 });
      expect(await status("jane@example.org")).toBe("bounced");
      expect(await history("jane@example.org")).toEqual([{ type: "bounced", bounce: "hard", source: "webhook:ses", issue: 12 }]);

      // SNS delivers at least once: the same message again changes nothing.
      const again = await post(`${running.url}/webhooks/ses`, body, { "content-type": "text/plain; charset=UTF-8" });
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual({ recorded: 0, duplicates: 0 });
      expect(await history("jane@example.org")).toHaveLength(1);

      const tampered = JSON.parse(snsMessage("Notification", { Message: fixture("ses-complaint.json") })) as Record<string, string>;
      const forged = await post(`${running.url}/webhooks/ses`, JSON.stringify({ ...tampered, Message: fixture("ses-bounce.json").replace("jane@", "other@") }), { "content-type": "text/plain" });
      expect(forged.status).toBe(401);
      expect(running.logs.some((l) => l.includes("webhooks/ses: 401 ses: bad SNS signature refused"))).toBe(true);
      expect(await history("dave@yahoo.com")).toEqual([]);

      // The text SES publishes, signed, when a configuration set's event destination is set up: answered 200, so SNS does not send it again.
      const validated = await post(`${running.url}/webhooks/ses`, snsMessage("Notification", { Message: "Successfully validated SNS topic for Amazon SES event publishing.", Subject: "Amazon SES Event Publishing Destination Validation" }), { "content-type": "text/plain; charset=UTF-8" });
      expect(validated.status).toBe(200);
      expect(await validated.json()).toEqual({ recorded: 0, duplicates: 0 });
    });

    it("SES: a complaint for an address on the account's suppression list stops mail to it without counting toward the issue's complaint rate", async () => {
      await subscribe("grace@example.com");
      const response = await post(`${running.url}/webhooks/ses`, snsMessage("Notification", { Message: fixture("ses-complaint-suppressed.json") }), { "content-type": "text/plain; charset=UTF-8" });
      expect(response.status).toBe(200);
      expect(await status("grace@example.com")).toBe("complained");
      expect(await history("grace@example.com")).toEqual([{ type: "complained", bounce: null, source: "webhook:ses", issue: null }]);
      // What the send's complaint check counts for issue 13, the message SES did not send.
      expect(await running.service.list.issueEvents([13])).toEqual([]);
    });

    it("Postmark: basic auth; a hard bounce suppresses a subscriber, a complaint one the list does not hold; a replay and wrong credentials change nothing", async () => {
      await subscribe("ivan@gmail.com");
      const url = `${running.url}/webhooks/postmark`;
      const auth = basic(POSTMARK.user, POSTMARK.password);
      for (const authorization of [undefined, basic(POSTMARK.user, "guess")]) {
        const refused = await post(url, fixture("postmark-hard-bounce.json"), authorization ? { authorization } : {});
        expect(refused.status).toBe(401);
      }
      expect(await status("ivan@gmail.com")).toBe("active");
      expect((await post(url, fixture("postmark-hard-bounce.json"), { authorization: auth })).status).toBe(200);
      expect(await status("ivan@gmail.com")).toBe("bounced");
      const replay = await post(url, fixture("postmark-hard-bounce.json"), { authorization: auth });
      expect(replay.status).toBe(200);
      expect(await history("ivan@gmail.com")).toEqual([{ type: "bounced", bounce: "hard", source: "webhook:postmark", issue: 12 }]);
      expect((await post(url, fixture("postmark-spam-complaint.json"), { authorization: auth })).status).toBe(200);
      expect(await suppressed("frank@aol.com")).toBe(true);
      expect(running.logs.filter((l) => l.includes("webhooks/postmark: 401"))).toHaveLength(2);
    });

    it("Mailgun: a signed failure is recorded; a bad signature is refused 401 and a replayed token 406, which Mailgun does not retry", async () => {
      const url = `${running.url}/webhooks/mailgun`;
      expect((await post(url, mailgun("mailgun-failed-temporary.json", "t-other", "key-wrong"))).status).toBe(401);
      expect(await history("bob.smith@gmail.com")).toEqual([]);
      // A 4xx Mailgun gave up retrying.
      const body = mailgun("mailgun-failed-temporary.json", "the-same-token").replace('"severity": "temporary"', '"severity": "permanent"');
      const first = await post(url, body);
      expect(first.status).toBe(200);
      expect(await history("bob.smith@gmail.com")).toEqual([{ type: "bounced", bounce: "soft", source: "webhook:mailgun", issue: 12 }]);
      expect((await post(url, body)).status).toBe(406);
      expect(await history("bob.smith@gmail.com")).toHaveLength(1);
    });

    it("Mailgun: an unsubscribe from another application's mail on the domain leaves the reader subscribed", async () => {
      await subscribe("dave.reader@yahoo.com");
      const response = await post(`${running.url}/webhooks/mailgun`, mailgun("mailgun-unsubscribed-other-app.json").replace("dave@yahoo.com", "dave.reader@yahoo.com"));
      expect(response.status).toBe(200);
      expect(await status("dave.reader@yahoo.com")).toBe("active");
      expect(await history("dave.reader@yahoo.com")).toEqual([]);
    });

    it("answers 500 when recording fails, so the provider retries, and records the retry", async () => {
      const url = `${running.url}/webhooks/mailgun`;
      const body = mailgun("mailgun-complained.json", "complaint-token");
      const db = running.service.store.db;
      await sql`ALTER TABLE events RENAME TO events_away`.execute(db);
      let failed: Response;
      try {
        failed = await post(url, body);
      } finally {
        await sql`ALTER TABLE events_away RENAME TO events`.execute(db);
      }
      expect(failed.status).toBe(500);
      expect(running.logs.some((l) => l.includes("webhooks/mailgun: recording failed"))).toBe(true);
      // The call was not remembered: Mailgun's retry with the same token gets through.
      const retry = await post(url, body);
      expect(retry.status).toBe(200);
      expect(await suppressed("dave@yahoo.com")).toBe(true);
    });

    it("answers 503 on a webhook whose secret is not set, saying which to set", async () => {
      const bare = await start({ PRESSWORK_SECRET: FIXTURE_SECRET });
      for (const [provider, variable] of [["ses", "PRESSWORK_SES_TOPIC_ARNS"], ["postmark", "PRESSWORK_POSTMARK_WEBHOOK_PASSWORD"], ["mailgun", "PRESSWORK_MAILGUN_SIGNING_KEY"]] as const) {
        const response = await post(`${bare.url}/webhooks/${provider}`, "{}");
        expect(response.status).toBe(503);
        expect(((await response.json()) as { error: string }).error).toContain(variable);
      }
    });
  });
}
