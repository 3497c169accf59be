import { createVerify, X509Certificate } from "node:crypto";
import { eventId, withoutAddresses, type FeedbackEvent, type FeedbackKind } from "../../feedback/event.js";
import type { SenderIdentity } from "../../mailbox/identify.js";
import { bodyText, fromAnotherSender, isoTime, objectOf, recognise, refuse, text, type SeenCheck, type WebhookRequest, type WebhookResult } from "./common.js";
import { PressworkError } from "../../errors/error.js";
import { severity } from "../../mailbox/severity.js";

/** Fetches a URL's body as text over https; injectable so tests run offline. */
export type Fetcher = (url: string) => Promise<string>;

/** What the SES (through SNS) webhook needs. */
export interface SesOptions {
  identity: SenderIdentity;
  now: Date;
  /** Topic ARNs to accept; a message from any other topic is refused. Empty or absent: any topic. */
  topics?: readonly string[];
  /** Fetches the signing certificate (PEM). Default: `fetch` over https. */
  fetchCertificate?: Fetcher;
  /** Visits the SubscribeURL to confirm a subscription. Default: `fetch` over https. */
  confirm?: Fetcher;
  /** Refuses a MessageId seen before (SNS delivers at least once). */
  seen?: SeenCheck;
}

/** An SNS topic's ARN: arn:<partition>:sns:<region>:<account>:<name>, in the partitions whose hosts are known. */
const TOPIC_ARN = /^arn:(aws|aws-cn|aws-us-gov):sns:([a-z]{2}(?:-[a-z]+)+-\d+):\d{12}:[\w-]{1,256}(?:\.fifo)?$/;

/**
 * The SNS endpoint of a topic's region, which signs its messages, serves
 * its certificates and confirms its subscriptions: sns.<region>.amazonaws.com,
 * .amazonaws.com.cn in the China partition; undefined for another ARN.
 */
function snsHost(topicArn: string): string | undefined {
  const match = TOPIC_ARN.exec(topicArn);
  return match ? `sns.${match[2] as string}.amazonaws.com${match[1] === "aws-cn" ? ".cn" : ""}` : undefined;
}

/** A URL that is https on exactly this host, on the default port and without credentials. */
function httpsOn(value: string, host: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === "https:" && url.hostname === host && !url.port && !url.username && !url.password ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a SigningCertURL is where SNS keeps the certificates of this
 * topic: https on its region's SNS host (no other amazonaws.com host: S3
 * serves anyone's bucket there), `/SimpleNotificationService-<hex>.pem`.
 */
export function trustedCertificateUrl(value: string, topicArn: string): boolean {
  const host = snsHost(topicArn);
  const url = host ? httpsOn(value, host) : undefined;
  return url !== undefined && /^\/SimpleNotificationService-[0-9a-f]+\.pem$/i.test(url.pathname) && !url.search && !url.hash;
}

const NOTIFICATION_FIELDS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"];
const SUBSCRIPTION_FIELDS = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];

/** The string SNS signs: each field's name and value on their own lines, in this order, Subject only when present. */
export function snsStringToSign(message: Record<string, unknown>): string {
  const fields = message["Type"] === "Notification" ? NOTIFICATION_FIELDS : SUBSCRIPTION_FIELDS;
  return fields
    .filter((name) => typeof message[name] === "string")
    .map((name) => `${name}\n${message[name] as string}\n`)
    .join("");
}

const certificates = new Map<string, string>();

async function httpsText(url: string): Promise<string> {
  const response = await fetch(url, { redirect: "error", signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new PressworkError("webhook-certificate", `${response.status} from ${new URL(url).hostname}`);
  return response.text();
}

/**
 * An Amazon SNS call carrying SES notifications. The signature (version 1,
 * SHA1, or 2, SHA256) is checked against the certificate at SigningCertURL,
 * which must be on the SNS host of the topic's region; a topic not in
 * `topics` is refused. A SubscriptionConfirmation is confirmed by visiting
 * its SubscribeURL. A Notification holds one SES event (`notificationType`
 * from identity notifications, `eventType` from configuration sets):
 * Bounce (by the receiving server's reply, as the mailbox reader reads it,
 * where SES gives one; else Permanent is hard, Transient and Undetermined
 * soft; a permanent bounce of type Suppressed, OnAccountSuppressionList or
 * NoEmail is hard whatever the reply),
 * Complaint (one of subtype OnAccountSuppressionList, for a message SES
 * did not send, stops mail to the address but counts toward no issue's
 * complaint rate; one about another sender's message, nothing), Delivery.
 */
export async function sesWebhook(request: WebhookRequest, options: SesOptions): Promise<WebhookResult> {
  let message: Record<string, unknown> | undefined;
  try {
    message = objectOf(JSON.parse(bodyText(request)));
  } catch {
    return refuse(400, "ses: the body is not JSON");
  }
  if (!message) return refuse(400, "ses: the body is not an SNS message");
  const type = text(message["Type"]);
  const version = text(message["SignatureVersion"]);
  const signature = text(message["Signature"]);
  const certUrl = text(message["SigningCertURL"]);
  if (!type || !signature || !certUrl || (version !== "1" && version !== "2")) return refuse(401, "ses: unsigned SNS message refused");
  const topic = text(message["TopicArn"]) ?? "";
  if (options.topics && options.topics.length > 0 && !options.topics.includes(topic)) return refuse(403, "ses: a topic that is not configured: refused");
  if (!trustedCertificateUrl(certUrl, topic)) return refuse(401, "ses: SigningCertURL is not a certificate on the SNS host of the topic's region: refused");
  // Certificates fetched from SNS are kept for the life of the process; an injected fetcher is asked every time.
  // SNS sends a message again only after an answer of 500 or more (or none): a certificate that could not be
  // had from Amazon's own host, for a timeout, a 5xx or a page that is no certificate, must not drop a bounce for good.
  let pem = options.fetchCertificate ? undefined : certificates.get(certUrl);
  let certificate: X509Certificate;
  try {
    pem ??= await (options.fetchCertificate ?? httpsText)(certUrl);
    certificate = new X509Certificate(pem);
  } catch (error) {
    return refuse(503, `ses: the signing certificate could not be had from ${new URL(certUrl).hostname} (${(error as Error).message}); SNS will send the message again`);
  }
  if (certificate.validTo && Date.parse(certificate.validTo) < options.now.getTime()) return refuse(401, "ses: the signing certificate has expired: refused");
  const verifier = createVerify(version === "1" ? "RSA-SHA1" : "RSA-SHA256");
  verifier.update(snsStringToSign(message), "utf8");
  let verified = false;
  try {
    verified = verifier.verify(certificate.publicKey, signature, "base64");
  } catch {
    // a key the signature cannot be checked with: as bad as a wrong signature
  }
  if (!verified) return refuse(401, "ses: bad SNS signature refused");
  if (!options.fetchCertificate) certificates.set(certUrl, pem);
  const messageId = text(message["MessageId"]) ?? "";
  if (options.seen && (await options.seen(`sns:${messageId}`))) return { status: 200, events: [], log: "ses: an SNS message seen before, nothing recorded again" };

  if (type === "SubscriptionConfirmation") {
    const subscribe = text(message["SubscribeURL"]);
    if (!subscribe || !httpsOn(subscribe, snsHost(topic) ?? "")) return refuse(400, "ses: SubscribeURL is not https on the SNS host of the topic's region: not confirmed");
    try {
      await (options.confirm ?? httpsText)(subscribe);
    } catch (error) {
      return refuse(502, `ses: confirming the subscription failed (${(error as Error).message}); SNS will ask again`);
    }
    return { status: 200, events: [], log: "ses: subscription confirmed" };
  }
  if (type === "UnsubscribeConfirmation") return { status: 200, events: [], log: "ses: the topic unsubscribed this endpoint" };
  if (type !== "Notification") return refuse(400, `ses: unknown SNS message type ${type}`);

  let notification: Record<string, unknown> | undefined;
  try {
    notification = objectOf(JSON.parse(text(message["Message"]) ?? ""));
  } catch {
    // Signed, so SNS's own: the text SES publishes when an event destination is set up ("Successfully validated SNS topic…").
    return { status: 200, events: [], log: "ses: a notification whose message is text, not an SES event: nothing to record" };
  }
  const kindName = text(notification?.["notificationType"]) ?? text(notification?.["eventType"]);
  if (!notification || !kindName) return { status: 200, events: [], log: "ses: a notification that is not an SES event, nothing to record" };
  const mail = objectOf(notification["mail"]) ?? {};
  const headers = Array.isArray(mail["headers"]) ? (mail["headers"] as unknown[]).map(objectOf).filter((h) => h && typeof h["name"] === "string" && typeof h["value"] === "string").map((h) => [h?.["name"], h?.["value"]] as [string, string]) : [];
  const common = objectOf(mail["commonHeaders"]);
  if (typeof common?.["messageId"] === "string") headers.push(["Message-ID", common["messageId"]]);
  const envelope = [text(mail["source"]), ...headers.filter(([n]) => /^return-path$/i.test(n)).map(([, v]) => v)].filter((v): v is string => v !== undefined);

  const events: FeedbackEvent[] = [];
  // `ofIssue` false: the event says nothing of the issue the message was (it was not sent), and counts toward none.
  const add = (kind: FeedbackKind, address: string | undefined, at: unknown, extra: Partial<FeedbackEvent>, ofIssue = true) => {
    const who = recognise(options.identity, { ...(address ? { address } : {}), envelope, headers });
    events.push({
      id: eventId("ses", messageId, kind, who.recipient?.key ?? address),
      kind,
      ...(who.recipient ? { recipient: who.recipient } : {}),
      ...(who.issue !== undefined && ofIssue ? { issue: who.issue } : {}),
      format: kindName.toLowerCase(),
      ...extra,
      source: "ses",
      at: isoTime(at, options.now),
    });
  };
  if (kindName === "Bounce") {
    const bounce = objectOf(notification["bounce"]) ?? {};
    const subType = text(bounce["bounceSubType"]);
    const labelled: FeedbackKind = bounce["bounceType"] === "Permanent" ? "hard-bounce" : "soft-bounce";
    for (const r of (Array.isArray(bounce["bouncedRecipients"]) ? bounce["bouncedRecipients"] : []).map(objectOf)) {
      const status = text(r?.["status"]);
      const reply = text(r?.["diagnosticCode"]);
      // The receiving server's own reply says more than SES's label, which calls a block list's 550 5.7.1
      // Permanent/General and a 5.1.1 user unknown Transient at times: read as the mailbox reader reads it. An
      // address SES would not send to (suppressed) or found to have no mailbox (NoEmail) is as SES says.
      const asSesSays = !reply || subType === "Suppressed" || subType === "OnAccountSuppressionList" || subType === "NoEmail";
      const kind: FeedbackKind = asSesSays ? labelled : severity(status, reply) === "hard" ? "hard-bounce" : "soft-bounce";
      const diagnostic = reply ?? subType;
      add(kind, text(r?.["emailAddress"]), bounce["timestamp"], { ...(status ? { status } : {}), ...(diagnostic ? { diagnostic: withoutAddresses(diagnostic) } : {}) });
    }
  } else if (kindName === "Complaint") {
    const complaint = objectOf(notification["complaint"]) ?? {};
    const feedbackType = text(complaint["complaintFeedbackType"]) ?? "abuse";
    if (feedbackType === "not-spam") return { status: 200, events: [], log: "ses: a not-spam report, nothing to record" };
    // An identity shared with other applications has their mail reported too.
    if (fromAnotherSender("complaint", options.identity, { envelope, headers })) return { status: 200, events: [], log: "ses: a complaint about a message Presswork did not send, nothing to record" };
    // SES did not send the message: the address is on the account-level suppression list.
    const suppressed = complaint["complaintSubType"] === "OnAccountSuppressionList";
    for (const r of (Array.isArray(complaint["complainedRecipients"]) ? complaint["complainedRecipients"] : []).map(objectOf)) {
      add("complaint", text(r?.["emailAddress"]), complaint["timestamp"], { feedbackType, ...(suppressed ? { format: "complaint:OnAccountSuppressionList" } : {}) }, !suppressed);
    }
  } else if (kindName === "Delivery") {
    const delivery = objectOf(notification["delivery"]) ?? {};
    for (const address of Array.isArray(delivery["recipients"]) ? delivery["recipients"] : []) if (typeof address === "string") add("delivered", address, delivery["timestamp"], {});
  } else {
    return { status: 200, events: [], log: `ses: ${kindName} event, nothing to record` };
  }
  return { status: 200, events, log: `ses: ${kindName} recorded for ${events.length} recipient${events.length === 1 ? "" : "s"}` };
}
