import { createHmac, createSign, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { addressKey } from "../../../src/issues/message.js";
import { MAILGUN_MAX_AGE_SECONDS, mailgunWebhook } from "../../../src/service/webhooks/mailgun.js";
import { postmarkWebhook } from "../../../src/service/webhooks/postmark.js";
import { sesWebhook, snsStringToSign, trustedCertificateUrl, type SesOptions } from "../../../src/service/webhooks/ses.js";
import { WEBHOOK_CALLS_KEPT_DAYS } from "../../../src/store/webhook-calls.js";
import { REPO } from "../../helpers/project.js";
import { FIXTURE_SECRET, fixtureIdentity } from "../../mailbox/identity.js";

const DIR = join(REPO, "test/fixtures/webhooks");
const fixture = (name: string) => readFileSync(join(DIR, name), "utf8");
const key = (address: string) => addressKey(address, FIXTURE_SECRET);
const identity = fixtureIdentity();
const NOW = new Date("2026-12-02T18:30:00Z");

/** A seen-check backed by a set, as one process would keep it. */
function memory() {
  const ids = new Set<string>();
  return (id: string) => (ids.has(id) ? true : (ids.add(id), false));
}

describe("Amazon SES through SNS", () => {
  const CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem";
  const TOPIC = "arn:aws:sns:us-east-1:123456789012:presswork-feedback";
  const cert = fixture("sns-test-cert.pem");
  const privateKey = fixture("sns-test-key.pem");
  const fetched: string[] = [];
  const options = (extra: Partial<SesOptions> = {}): SesOptions => ({
    identity,
    now: NOW,
    topics: [TOPIC],
    fetchCertificate: async (url) => (fetched.push(url), cert),
    confirm: async () => "",
    ...extra,
  });

  function snsMessage(type: string, fields: Record<string, string>, version: "1" | "2" = "2", signWith = privateKey): string {
    const message: Record<string, string> = { Type: type, MessageId: `msg-${Math.random()}`, TopicArn: TOPIC, Timestamp: "2026-12-02T18:29:59.000Z", SignatureVersion: version, SigningCertURL: CERT_URL, ...fields };
    const signer = createSign(version === "1" ? "RSA-SHA1" : "RSA-SHA256");
    signer.update(snsStringToSign(message));
    return JSON.stringify({ ...message, Signature: signer.sign(signWith, "base64") });
  }
  const notification = (name: string, version: "1" | "2" = "2") => snsMessage("Notification", { Message: fixture(name), Subject: "Amazon SES Email Event Notification" }, version);

  it("accepts signature versions 1 and 2 and turns a bounce into a hard bounce named by the envelope sender", async () => {
    for (const version of ["1", "2"] as const) {
      const result = await sesWebhook({ headers: {}, body: notification("ses-bounce.json", version) }, options());
      expect(result.status, result.log).toBe(200);
      expect(result.events).toMatchObject([{ kind: "hard-bounce", recipient: { key: key("jane@example.org"), via: "verp", address: "jane@example.org" }, issue: 12, status: "5.1.1", source: "ses", at: "2026-12-01T09:00:31.000Z" }]);
      expect(result.events[0]?.diagnostic).toBe("smtp; 550 5.1.1 <address>... User unknown");
    }
    expect(fetched.every((url) => url === CERT_URL)).toBe(true);
  });

  it("maps transient bounces, complaints and deliveries", async () => {
    const soft = await sesWebhook({ headers: {}, body: notification("ses-transient-bounce.json") }, options());
    expect(soft.events).toMatchObject([{ kind: "soft-bounce", recipient: { key: key("bob.smith@gmail.com"), via: "message-id" }, issue: 12, status: "5.2.2" }]);
    const complaint = await sesWebhook({ headers: {}, body: notification("ses-complaint.json") }, options());
    expect(complaint.events).toMatchObject([{ kind: "complaint", recipient: { key: key("dave@yahoo.com") }, issue: 12, feedbackType: "abuse" }]);
    const delivery = await sesWebhook({ headers: {}, body: notification("ses-delivery.json") }, options());
    expect(delivery.events).toMatchObject([{ kind: "delivered", recipient: { key: key("erin@example.net") }, issue: 12 }]);
  });

  it("reads a bounce by the receiving server's reply, where SES's label says otherwise, as the mailbox reader would; a suppressed address as SES says", async () => {
    /** The bounce fixture, relabelled by SES and with the receiving server's reply given. */
    const bounce = (bounceType: string, bounceSubType: string, recipient: Record<string, string>) => {
      const notice = JSON.parse(fixture("ses-bounce.json")) as { bounce: Record<string, unknown> };
      notice.bounce = { ...notice.bounce, bounceType, bounceSubType, bouncedRecipients: [{ emailAddress: "jane@example.org", action: "failed", ...recipient }] };
      return snsMessage("Notification", { Message: JSON.stringify(notice) });
    };
    const kind = async (body: string) => (await sesWebhook({ headers: {}, body }, options())).events.map((e) => e.kind);
    // A block list's refusal of our sending IP, which SES files as Permanent/General: nothing about the address.
    expect(await kind(bounce("Permanent", "General", { status: "5.7.1", diagnosticCode: "smtp; 550 5.7.1 Service unavailable, client host [198.51.100.7] blocked using Spamhaus" }))).toEqual(["soft-bounce"]);
    // A user unknown that SES files as Transient.
    expect(await kind(bounce("Transient", "General", { status: "5.1.1", diagnosticCode: "smtp; 550 5.1.1 <jane@example.org>: Recipient address rejected: User unknown" }))).toEqual(["hard-bounce"]);
    // No reply to go by, or an address SES keeps from sending to: its label.
    expect(await kind(bounce("Permanent", "General", {}))).toEqual(["hard-bounce"]);
    expect(await kind(bounce("Permanent", "OnAccountSuppressionList", { diagnosticCode: "Amazon SES did not send the message to this address because it is on the suppression list for your account." }))).toEqual(["hard-bounce"]);
  });

  it("records a complaint SES made up for an address on the account's suppression list against no issue: the issue never reached it", async () => {
    const result = await sesWebhook({ headers: {}, body: notification("ses-complaint-suppressed.json") }, options());
    expect(result.events).toMatchObject([{ kind: "complaint", recipient: { key: key("grace@example.com"), via: "verp" }, format: "complaint:OnAccountSuppressionList" }]);
    expect(result.events[0]?.issue).toBeUndefined();
  });

  it("changes nothing for a complaint about another sender's message on a shared identity, and takes one whose envelope sender is ours", async () => {
    const other = await sesWebhook({ headers: {}, body: notification("ses-complaint-other-sender.json") }, options());
    expect(other).toMatchObject({ status: 200, events: [] });
    expect(other.log).toMatch(/a message Presswork did not send/);
    // Without VERP the envelope sender is the From address: nothing but SES names the recipient, and the message is ours.
    const plain = snsMessage("Notification", { Message: fixture("ses-complaint.json").replace(/bounces\+12\.[0-9a-f.]+@/, "newsletter@") });
    expect((await sesWebhook({ headers: {}, body: plain }, options())).events).toMatchObject([{ kind: "complaint", recipient: { key: key("dave@yahoo.com"), via: "provider" } }]);
  });

  it("refuses a bad signature, a message signed by another key, an unsigned one, a certificate off amazonaws.com and another topic", async () => {
    const good = JSON.parse(notification("ses-bounce.json")) as Record<string, string>;
    const tampered = JSON.stringify({ ...good, Message: good["Message"]?.replace("Permanent", "Transient") });
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const foreign = snsMessage("Notification", { Message: fixture("ses-bounce.json") }, "2", other);
    const { Signature: _, ...unsigned } = good;
    const calls: Array<[string, number, RegExp]> = [
      [tampered, 401, /bad SNS signature/],
      [foreign, 401, /bad SNS signature/],
      [JSON.stringify(unsigned), 401, /unsigned/],
      [JSON.stringify({ ...good, SigningCertURL: "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-0123.pem" }), 401, /SigningCertURL is not a certificate on the SNS host/],
      [JSON.stringify({ ...good, SigningCertURL: "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123.pem" }), 401, /SigningCertURL is not a certificate on the SNS host/],
      [JSON.stringify({ ...good, SignatureVersion: "3" }), 401, /unsigned/],
      [JSON.stringify({ ...good, TopicArn: "arn:aws:sns:us-east-1:999999999999:someone-else" }), 403, /topic that is not configured/],
      ["not json", 400, /not JSON/],
    ];
    for (const [body, status, log] of calls) {
      const result = await sesWebhook({ headers: {}, body }, options());
      expect(result.status, result.log).toBe(status);
      expect(result.log).toMatch(log);
      expect(result.events).toEqual([]);
      expect(result.log).not.toMatch(/@/);
    }
    expect(trustedCertificateUrl("https://s3.amazonaws.com/evil/SimpleNotificationService-0123.pem", TOPIC)).toBe(false);
  });

  it("answers 503 when the signing certificate cannot be had, which SNS retries (a 4xx it never does), and records the bounce when it comes again", async () => {
    const body = notification("ses-bounce.json");
    const seen = memory();
    const unreachable = async (): Promise<string> => {
      throw new Error("503 from sns.us-east-1.amazonaws.com");
    };
    const notACertificate = async () => "<html><body>Service Unavailable</body></html>";
    for (const fetchCertificate of [unreachable, notACertificate]) {
      const result = await sesWebhook({ headers: {}, body }, options({ fetchCertificate, seen }));
      expect(result.status, result.log).toBe(503);
      expect(result.log).toMatch(/the signing certificate could not be had from sns\.us-east-1\.amazonaws\.com .*SNS will send the message again/);
      expect(result.events).toEqual([]);
    }
    // SNS's next try of the same message, with the certificate back: not taken for one seen before.
    const retried = await sesWebhook({ headers: {}, body }, options({ seen }));
    expect(retried.status, retried.log).toBe(200);
    expect(retried.events).toMatchObject([{ kind: "hard-bounce", recipient: { key: key("jane@example.org") }, issue: 12 }]);
  });

  it("takes the certificate only from the SNS host of the topic's region, never from an S3 bucket named sns", async () => {
    fetched.length = 0;
    // Anyone can create a bucket "sns": S3 serves it on these hosts, under amazonaws.com.
    for (const host of ["sns.s3.amazonaws.com", "sns.s3-external-1.amazonaws.com", "sns.s3.us-east-1.amazonaws.com", "sns.eu-west-1.amazonaws.com"]) {
      const body = snsMessage("Notification", { Message: fixture("ses-complaint.json"), SigningCertURL: `https://${host}/SimpleNotificationService-0123.pem` });
      const result = await sesWebhook({ headers: {}, body }, options());
      expect(result.status, host).toBe(401);
      expect(result.log).toMatch(/SigningCertURL is not a certificate on the SNS host of the topic's region/);
      expect(result.events).toEqual([]);
    }
    expect(fetched).toEqual([]);
    const regional = snsMessage("Notification", { Message: fixture("ses-complaint.json"), SigningCertURL: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem" });
    expect((await sesWebhook({ headers: {}, body: regional }, options())).events).toMatchObject([{ kind: "complaint" }]);
    const pem = "/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem";
    expect(trustedCertificateUrl(`https://sns.eu-west-1.amazonaws.com${pem}`, "arn:aws:sns:eu-west-1:123456789012:news")).toBe(true);
    expect(trustedCertificateUrl(`https://sns.cn-north-1.amazonaws.com.cn${pem}`, "arn:aws-cn:sns:cn-north-1:123456789012:news")).toBe(true);
    expect(trustedCertificateUrl(`https://sns.us-gov-west-1.amazonaws.com${pem}`, "arn:aws-us-gov:sns:us-gov-west-1:123456789012:news")).toBe(true);
    expect(trustedCertificateUrl(`https://sns.cn-north-1.amazonaws.com${pem}`, "arn:aws-cn:sns:cn-north-1:123456789012:news")).toBe(false);
    expect(trustedCertificateUrl("https://sns.us-east-1.amazonaws.com/cert.pem", TOPIC)).toBe(false);
    expect(trustedCertificateUrl(`https://sns.us-east-1.amazonaws.com${pem}`, "arn:aws:sns:s3:123456789012:news")).toBe(false);
  });

  it("records a replayed message once", async () => {
    const seen = memory();
    const body = notification("ses-bounce.json");
    expect((await sesWebhook({ headers: {}, body }, options({ seen }))).events).toHaveLength(1);
    const replay = await sesWebhook({ headers: {}, body }, options({ seen }));
    expect(replay).toMatchObject({ status: 200, events: [] });
    expect(replay.log).toMatch(/seen before/);
  });

  it("confirms a subscription by its SubscribeURL, and only on an SNS host", async () => {
    const visited: string[] = [];
    const subscribe = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=x&Token=abc";
    const body = snsMessage("SubscriptionConfirmation", { Message: "You have chosen to subscribe…", SubscribeURL: subscribe, Token: "abc" });
    const result = await sesWebhook({ headers: {}, body }, options({ confirm: async (url) => (visited.push(url), "<ConfirmSubscriptionResponse/>") }));
    expect(result).toMatchObject({ status: 200, events: [], log: "ses: subscription confirmed" });
    expect(visited).toEqual([subscribe]);
    for (const elsewhere of ["https://attacker.example/confirm", "https://sns.s3.amazonaws.com/?Action=ConfirmSubscription&Token=abc", "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=abc"]) {
      const evil = snsMessage("SubscriptionConfirmation", { Message: "x", SubscribeURL: elsewhere, Token: "abc" });
      const refused = await sesWebhook({ headers: {}, body: evil }, options({ confirm: async (url) => (visited.push(url), "") }));
      expect(refused.status, elsewhere).toBe(400);
    }
    expect(visited).toHaveLength(1);
  });
});

describe("Postmark", () => {
  const auth = `Basic ${Buffer.from("presswork:a-long-webhook-password").toString("base64")}`;
  const options = { user: "presswork", password: "a-long-webhook-password", identity, now: NOW };

  it("maps bounce types to hard and soft, complaints and suppressions, with the issue from the metadata or tag", async () => {
    const call = (name: string) => postmarkWebhook({ headers: { authorization: auth }, body: fixture(name) }, options);
    expect((await call("postmark-hard-bounce.json")).events).toMatchObject([{ kind: "hard-bounce", recipient: { key: key("ivan@gmail.com"), via: "provider" }, issue: 12, source: "postmark", format: "bounce:HardBounce", at: "2026-12-01T09:02:54.907Z" }]);
    expect((await call("postmark-soft-bounce.json")).events).toMatchObject([{ kind: "soft-bounce", recipient: { key: key("bob.smith@gmail.com") }, issue: 12 }]);
    expect((await call("postmark-spam-complaint.json")).events).toMatchObject([{ kind: "complaint", recipient: { key: key("frank@aol.com") }, issue: 12 }]);
    expect((await call("postmark-subscription-change.json")).events).toMatchObject([{ kind: "unsubscribe", recipient: { key: key("heidi@example.com") }, issue: 12 }]);
  });

  it("suppresses nobody for a delay, an address change or its own SMTP API's error, which Postmark reports as bounce types too", async () => {
    const bounce = (type: string) => postmarkWebhook({ headers: { authorization: auth }, body: fixture("postmark-soft-bounce.json").replace('"Type": "SoftBounce"', `"Type": "${type}"`) }, options);
    // A delay Postmark retries ("Message delayed"), and a reply that the reader has a new address: as the mailbox reader records them.
    expect((await bounce("Transient")).events.map((e) => e.kind)).toEqual(["delayed"]);
    expect((await bounce("AddressChange")).events.map((e) => e.kind)).toEqual(["auto-reply"]);
    expect(await bounce("SMTPApiError")).toMatchObject({ status: 200, events: [] });
  });

  it("changes nothing for a complaint about a message From another sender without our metadata", async () => {
    const other = await postmarkWebhook({ headers: { authorization: auth }, body: fixture("postmark-spam-complaint-other-sender.json") }, options);
    expect(other).toMatchObject({ status: 200, events: [] });
    expect(other.log).toMatch(/a message Presswork did not send/);
    const ours = fixture("postmark-spam-complaint.json").replace('"Metadata": { "issue": "12" },', "");
    expect((await postmarkWebhook({ headers: { authorization: auth }, body: ours }, options)).events).toMatchObject([{ kind: "complaint", recipient: { key: key("frank@aol.com") }, issue: 12 }]);
    // A subscription change names no sender: the stream's suppression is taken as it comes.
    const change = fixture("postmark-subscription-change.json").replace('"Metadata": { "issue": "12" }', '"Metadata": {}');
    expect((await postmarkWebhook({ headers: { authorization: auth }, body: change }, options)).events).toMatchObject([{ kind: "unsubscribe", recipient: { key: key("heidi@example.com") } }]);
  });

  it("refuses a call without credentials or with wrong ones", async () => {
    const body = fixture("postmark-hard-bounce.json");
    for (const authorization of [undefined, `Basic ${Buffer.from("presswork:guess").toString("base64")}`, "Bearer a-long-webhook-password"]) {
      const result = await postmarkWebhook({ headers: authorization ? { authorization } : {}, body }, options);
      expect(result.status).toBe(401);
      expect(result.events).toEqual([]);
      expect(result.log).not.toMatch(/@|password/);
    }
  });

  it("records a replayed record once, and tells 64-bit record ids apart", async () => {
    const seen = memory();
    const first = await postmarkWebhook({ headers: { authorization: auth }, body: fixture("postmark-hard-bounce.json") }, { ...options, seen });
    expect(first.events).toHaveLength(1);
    expect(await postmarkWebhook({ headers: { authorization: auth }, body: fixture("postmark-hard-bounce.json") }, { ...options, seen })).toMatchObject({ status: 200, events: [] });
    // The soft bounce's ID differs from the hard bounce's only past 2^53.
    const other = await postmarkWebhook({ headers: { authorization: auth }, body: fixture("postmark-hard-bounce.json").replace("4323372036854775807", "4323372036854775808") }, { ...options, seen });
    expect(other.events).toHaveLength(1);
    expect(other.events[0]?.id).not.toBe(first.events[0]?.id);
  });
});

describe("Mailgun", () => {
  const signingKey = "key-0123456789abcdef0123456789abcdef";
  const signed = (name: string, at = NOW, token = `tok${Math.random().toString(16).slice(2)}`, keyUsed = signingKey) => {
    const timestamp = String(Math.floor(at.getTime() / 1000));
    const signature = createHmac("sha256", keyUsed).update(timestamp + token).digest("hex");
    return fixture(name).replace('"TIMESTAMP"', JSON.stringify(timestamp)).replace('"TOKEN"', JSON.stringify(token)).replace('"SIGNATURE"', JSON.stringify(signature));
  };
  const options = { signingKey, identity, now: NOW };

  it("verifies the HMAC and maps failed (by severity), complained and the recipient", async () => {
    const hard = await mailgunWebhook({ headers: {}, body: signed("mailgun-failed-permanent.json") }, options);
    expect(hard.status, hard.log).toBe(200);
    expect(hard.events).toMatchObject([{ kind: "hard-bounce", recipient: { key: key("ivan@gmail.com"), via: "verp" }, issue: 12, status: "5.1.1", source: "mailgun" }]);
    // A temporary failure is a delay: Mailgun retries the message for hours and reports how that ended.
    const delayed = await mailgunWebhook({ headers: {}, body: signed("mailgun-failed-temporary.json") }, options);
    expect(delayed.status, delayed.log).toBe(200);
    expect(delayed.events).toEqual([]);
    expect(delayed.log).toMatch(/a temporary failure Mailgun will retry/);
    // The same 4xx once Mailgun gave up (severity permanent): a soft bounce of the issue.
    const gaveUp = await mailgunWebhook({ headers: {}, body: signed("mailgun-failed-temporary.json").replace('"severity": "temporary"', '"severity": "permanent"') }, options);
    expect(gaveUp.events).toMatchObject([{ kind: "soft-bounce", recipient: { key: key("bob.smith@gmail.com"), via: "message-id" }, issue: 12, status: "4.2.2" }]);
    const complaint = await mailgunWebhook({ headers: {}, body: signed("mailgun-complained.json") }, options);
    expect(complaint.events).toMatchObject([{ kind: "complaint", recipient: { key: key("dave@yahoo.com") }, issue: 12 }]);
  });

  it("changes nothing for an unsubscribe or complaint about another application's message on the domain, but takes its bounces", async () => {
    const unsubscribed = await mailgunWebhook({ headers: {}, body: signed("mailgun-unsubscribed-other-app.json") }, options);
    expect(unsubscribed).toMatchObject({ status: 200, events: [] });
    expect(unsubscribed.log).toMatch(/unsubscribed about a message Presswork did not send/);
    const theirs = (name: string) => signed(name).replace(/"message-id": "[^"]+"/, '"message-id": "20261202182955.1.4B5C6D7E8F901A2B@signal-noise.example"').replace(/"from": "[^"]+"/, '"from": "Signal & Noise Accounts <accounts@signal-noise.example>"');
    expect(await mailgunWebhook({ headers: {}, body: theirs("mailgun-complained.json") }, options)).toMatchObject({ status: 200, events: [] });
    // A From address that only contains ours (weekly-newsletter@ holds newsletter@) is another sender's.
    const lookalike = signed("mailgun-complained.json").replace(/"message-id": "[^"]+"/, '"message-id": "20261202182955.1.4B5C6D7E8F901A2B@signal-noise.example"').replace(/"from": "[^"]+"/, `"from": "Weekly <weekly-${identity.from}>"`);
    expect(await mailgunWebhook({ headers: {}, body: lookalike }, options)).toMatchObject({ status: 200, events: [] });
    // Our From, though Mailgun echoes a Message-ID that names no one: ours.
    const ours = signed("mailgun-complained.json").replace(/"message-id": "[^"]+"/, '"message-id": "20261202182955.1.4B5C6D7E8F901A2B@signal-noise.example"');
    expect((await mailgunWebhook({ headers: {}, body: ours }, options)).events).toMatchObject([{ kind: "complaint", recipient: { key: key("dave@yahoo.com"), via: "provider" } }]);
    // Nothing echoed to tell by: the address Mailgun names is taken.
    const bare = signed("mailgun-complained.json").replace(/"headers": \{[^}]*\}/, '"headers": {}');
    expect((await mailgunWebhook({ headers: {}, body: bare }, options)).events).toMatchObject([{ kind: "complaint", recipient: { key: key("dave@yahoo.com"), via: "provider" } }]);
    // An address that bounced is dead for us too, whoever's message found it out.
    const bounce = theirs("mailgun-failed-permanent.json").replace(/"sender": "[^"]+"/, '"sender": "accounts@signal-noise.example"');
    expect((await mailgunWebhook({ headers: {}, body: bounce }, options)).events).toMatchObject([{ kind: "hard-bounce", recipient: { key: key("ivan@gmail.com"), via: "provider" } }]);
  });

  it("maps a failure for an address on Mailgun's suppression lists to what put it there, a complaint against no issue", async () => {
    const call = async (name: string) => (await mailgunWebhook({ headers: {}, body: signed(name) }, options)).events;
    // Issue 13 never reached the address: the complaint was about earlier mail, and counts toward no issue's complaint rate.
    const complaint = await call("mailgun-failed-suppress-complaint.json");
    expect(complaint).toMatchObject([{ kind: "complaint", recipient: { key: key("dave@yahoo.com") }, format: "failed:suppress-complaint" }]);
    expect(complaint[0]?.issue).toBeUndefined();
    // Nor is the unsubscribe one of the issue's: it came before.
    const unsubscribe = await call("mailgun-failed-suppress-unsubscribe.json");
    expect(unsubscribe).toMatchObject([{ kind: "unsubscribe", recipient: { key: key("heidi@example.com") }, format: "failed:suppress-unsubscribe" }]);
    expect(unsubscribe[0]?.issue).toBeUndefined();
    expect(await call("mailgun-failed-suppress-bounce.json")).toMatchObject([{ kind: "hard-bounce", recipient: { key: key("ivan@gmail.com"), via: "message-id" }, issue: 13, diagnostic: "605 Not delivering to previously bounced address", format: "failed:suppress-bounce" }]);
  });

  it("refuses an unsigned call, a wrong key, a tampered body and a stale timestamp", async () => {
    const good = signed("mailgun-failed-permanent.json");
    const calls: Array<[string, RegExp]> = [
      [fixture("mailgun-failed-permanent.json").replace('"SIGNATURE"', '""'), /unsigned/],
      [signed("mailgun-failed-permanent.json", NOW, "t1", "key-wrong"), /bad signature/],
      [good.replace(/"timestamp": "(\d+)"/, (_, t: string) => `"timestamp": "${Number(t) + 1}"`), /bad signature/],
      [signed("mailgun-failed-permanent.json", new Date(NOW.getTime() - 25 * 3600_000)), /outside the replay window/],
      [signed("mailgun-failed-permanent.json", new Date(NOW.getTime() + 10 * 60_000)), /outside the replay window/],
    ];
    for (const [body, log] of calls) {
      const result = await mailgunWebhook({ headers: {}, body }, options);
      expect(result.status, result.log).toBe(401);
      expect(result.log).toMatch(log);
      expect(result.events).toEqual([]);
    }
  });

  it("records a call Mailgun retries hours after it signed it, refuses its token again, and a signature older than the window", async () => {
    const seen = memory();
    const hours = (n: number) => new Date(NOW.getTime() + n * 3600_000);
    // Mailgun retries for 8 hours (after 5, 10 and 15 minutes, 1, 2 and 4 hours) with the first attempt's signature.
    const body = signed("mailgun-complained.json", NOW, "retried-token");
    const retry = await mailgunWebhook({ headers: {}, body }, { ...options, now: hours(4), seen });
    expect(retry.status, retry.log).toBe(200);
    expect(retry.events).toMatchObject([{ kind: "complaint", recipient: { key: key("dave@yahoo.com") }, issue: 12 }]);
    expect(await mailgunWebhook({ headers: {}, body }, { ...options, now: hours(6), seen })).toMatchObject({ status: 406, events: [] });
    // The token is remembered for longer than a signature is accepted.
    expect(MAILGUN_MAX_AGE_SECONDS).toBeLessThan(WEBHOOK_CALLS_KEPT_DAYS * 86_400);
    const late = await mailgunWebhook({ headers: {}, body: signed("mailgun-complained.json") }, { ...options, now: new Date(NOW.getTime() + (MAILGUN_MAX_AGE_SECONDS + 60) * 1000), seen });
    expect(late).toMatchObject({ status: 401, events: [] });
    expect(late.log).toMatch(/outside the replay window/);
  });

  it("refuses a replayed token within the window, so Mailgun does not retry it", async () => {
    const seen = memory();
    const body = signed("mailgun-failed-permanent.json", NOW, "the-same-token");
    expect((await mailgunWebhook({ headers: {}, body }, { ...options, seen })).events).toHaveLength(1);
    const replay = await mailgunWebhook({ headers: {}, body }, { ...options, seen });
    expect(replay).toMatchObject({ status: 406, events: [] });
  });
});
