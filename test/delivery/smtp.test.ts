import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { classify } from "../../src/delivery/classify.js";
import { SmtpTransport } from "../../src/delivery/smtp.js";
import { smtpFromEnv } from "../../src/delivery/smtp-settings.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";

let smtp: TestSmtp;
let transport: SmtpTransport;

beforeEach(async () => {
  smtp = await startSmtp();
  transport = new SmtpTransport({ host: "127.0.0.1", port: smtp.port, secure: false, rejectUnauthorized: false, allowPlaintextAuth: false }, { maxConnections: 2, timeoutSeconds: 5 });
  await transport.verify();
});
afterEach(async () => {
  await transport.close();
  await smtp.close();
});

const send = (to: string, raw: string) => transport.send({ key: to, envelope: { from: "news@example.org", to }, raw: Buffer.from(raw, "latin1") });

describe("the SMTP transport", () => {
  it("delivers a pre-built message as it is, lines that start with dots and bare line ends included", async () => {
    const raw = "Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nafter a lone dot\nbare LF\r\n. \r\nlast line without a break";
    expect(await send("dots@example.org", raw)).toMatchObject({ state: "sent", code: 250 });
    expect(smtp.received[0]?.raw.toString("latin1")).toBe(`${raw.replace("lone dot\nbare", "lone dot\r\nbare")}\r\n`);
    expect(smtp.received[0]?.raw.toString("latin1")).not.toMatch(/X-Mailer|Message-ID/i);
  });

  it("keeps sending over a session after the server refused one recipient", async () => {
    smtp.behave("refused@example.org", { rcpt: 550, text: "5.1.1 no such user" });
    expect(await send("refused@example.org", "Subject: a\r\n\r\nbody\r\n")).toMatchObject({ state: "bounced", code: 550 });
    expect(await send("fine@example.org", "Subject: b\r\n\r\nbody\r\n")).toMatchObject({ state: "sent" });
    expect(smtp.received.map((m) => m.to)).toEqual([["fine@example.org"]]);
  });

  it("reports a message whose connection dropped for a retry, never resending it on its own, and goes on over a new connection", async () => {
    smtp.behave("dropped@example.org", { drop: 1 });
    const body = `Subject: long\r\n\r\n${"x".repeat(70).concat("\r\n").repeat(50)}`;
    expect(await send("dropped@example.org", body)).toMatchObject({ state: "retry" });
    expect(smtp.offered.get("dropped@example.org")).toBe(1);
    expect(await send("dropped@example.org", body)).toMatchObject({ state: "sent" });
    expect(await send("next@example.org", body)).toMatchObject({ state: "sent" });
    expect(smtp.received.map((m) => m.to[0])).toEqual(["dropped@example.org", "next@example.org"]);
  });

  it("is fed while its pool is idle: ready() waits once the pool has a backlog", async () => {
    const flights = [];
    let waited = false;
    for (let i = 0; i < 12; i++) {
      const ready = transport.ready();
      let settled = false;
      void ready.then(() => (settled = true));
      await Promise.resolve();
      if (!settled) waited = true;
      await ready;
      flights.push(send(`r${i}@example.org`, "Subject: x\r\n\r\nbody\r\n"));
    }
    expect(waited).toBe(true);
    expect((await Promise.all(flights)).every((o) => o.state === "sent")).toBe(true);
  });
});

describe("what a reply is about", () => {
  const reply = (command: string, response: string, code = "EENVELOPE") => classify({ code, command, response, responseCode: Number(response.slice(0, 3)) });
  it.each([
    ["RCPT TO", "550 5.1.1 <a@b.example>: User unknown", "bounced"],
    ["RCPT TO", "550-5.1.1 The email account that you tried to reach does not exist.\r\n550 5.1.1 Please try", "bounced"],
    ["RCPT TO", "553 5.1.3 Bad recipient address syntax", "bounced"],
    ["RCPT TO", "552 5.2.1 Mailbox disabled", "bounced"],
    ["RCPT TO", "552 5.2.2 Mailbox full", "failed"],
    ["RCPT TO", "550 Requested action not taken", "failed"],
    ["RCPT TO", "550 5.7.1 Client host rejected", "failed"],
    ["RCPT TO", "554 Transaction failed", "failed"],
    ["RCPT TO", "554 5.1.8 <b@n.example>: Sender address rejected: Domain not found", "refused"],
    ["RCPT TO", "553 5.1.7 Bad sender's mailbox address syntax", "refused"],
    ["RCPT TO", "550 5.1.0 <b@n.example>: Sender address rejected: User unknown in local recipient table", "refused"],
    // About the recipient, though it speaks of a sender address: that recipient's policy, not ours.
    ["RCPT TO", "550 5.7.1 <r3@corp.example>: Recipient address rejected: only mail from an approved sender address is accepted", "failed"],
    ["RCPT TO", "452 4.2.2 Over quota", "retry"],
    ["RCPT TO", "421 4.7.0 Try again later, closing connection", "retry"],
    ["MAIL FROM", "550 5.4.5 Daily sending quota exceeded", "refused"],
    ["MAIL FROM", "451 4.3.0 Temporary failure", "retry"],
    ["DATA", "554 5.7.0 Message rejected as spam", "refused"],
    ["DATA", "552 5.3.4 Message size exceeds fixed limit", "refused"],
    ["DATA", "550 5.6.0 Content rejected", "refused"],
  ])("%s %s: %s", (command, response, state) => {
    expect(reply(command, response).state).toBe(state);
  });

  it("treats a dropped connection and a timeout as worth a retry, a failed login as a refusal", () => {
    expect(classify({ code: "ECONNECTION", message: "Connection closed unexpectedly" }).state).toBe("retry");
    expect(classify({ code: "ETIMEDOUT", message: "Timeout" }).state).toBe("retry");
    expect(classify({ code: "EAUTH", command: "AUTH PLAIN", response: "535 5.7.8 Authentication failed", responseCode: 535 }).state).toBe("refused");
  });

  it("never puts an address in what it records", () => {
    expect(reply("RCPT TO", "550 5.1.1 <jane.doe@example.org>: User unknown").response).toBe("550 5.1.1 <j***@example.org>: User unknown");
  });
});

describe("SMTP_URL", () => {
  const url = (value: string) => () => smtpFromEnv({ SMTP_URL: value });
  it("reads user, password, host, port and TLS mode, percent-decoded", () => {
    expect(smtpFromEnv({ SMTP_URL: "smtps://news%40example.org:p%25ss%2Fw0rd@mail.example.org" })).toMatchObject({ host: "mail.example.org", port: 465, secure: true, user: "news@example.org", password: "p%ss/w0rd", allowPlaintextAuth: false });
    expect(smtpFromEnv({ SMTP_URL: "smtp://u:p@[::1]:2525?allow-plaintext-auth=true" })).toMatchObject({ host: "::1", port: 2525, secure: false, allowPlaintextAuth: true });
    expect(smtpFromEnv({ SMTP_URL: "smtp://u:p@127.0.0.1:2525" })).toMatchObject({ allowPlaintextAuth: false });
    expect(smtpFromEnv({ SMTP_URL: "smtp://u:p@127.0.0.1:2525", SMTP_ALLOW_PLAINTEXT_AUTH: "true" })).toMatchObject({ allowPlaintextAuth: true });
  });

  it("speaks TLS from the first byte on port 465 whatever the scheme, STARTTLS on 587, and plaintext on 465 only when SMTP_SECURE says so", () => {
    expect(smtpFromEnv({ SMTP_URL: "smtp://u:p@mail.example.org:465" })).toMatchObject({ port: 465, secure: true });
    expect(smtpFromEnv({ SMTP_URL: "smtp://u:p@mail.example.org" })).toMatchObject({ port: 587, secure: false });
    expect(smtpFromEnv({ SMTP_URL: "smtps://u:p@mail.example.org:2465" })).toMatchObject({ port: 2465, secure: true });
    expect(smtpFromEnv({ SMTP_HOST: "mail.example.org", SMTP_PORT: "465" })).toMatchObject({ port: 465, secure: true });
    expect(smtpFromEnv({ SMTP_HOST: "mail.example.org", SMTP_SECURE: "true" })).toMatchObject({ port: 465, secure: true });
    expect(smtpFromEnv({ SMTP_HOST: "mail.example.org", SMTP_PORT: "465", SMTP_SECURE: "false" })).toMatchObject({ port: 465, secure: false });
    expect(smtpFromEnv({ SMTP_HOST: "mail.example.org" })).toMatchObject({ port: 587, secure: false });
  });

  it.each([
    ["smtp://news:50%off@mail.example.org:587", "SMTP_URL has a % in its password that is not followed by two hexadecimal digits"],
    ["smtp://news:pa/ss@mail.example.org:587", "SMTP_URL has a / ? or # in its user name or password"],
    ["smtp://news:secret@mail.example.org:58x7", 'SMTP_URL has "58x7" as its port'],
    ["smtp://news:secret@:587", "SMTP_URL has no valid host name after the @"],
    ["http://news:secret@mail.example.org", "SMTP_URL starts with http://, not smtp:// or smtps://"],
    ["mail.example.org", "SMTP_URL does not start with smtp:// or smtps://"],
    ["smtp://news:secret@mail.example.org:587?tls=off", 'SMTP_URL has an unknown parameter "tls"'],
  ])("names what is wrong with %s, never the password", (value, message) => {
    expect(url(value)).toThrow(message);
    try {
      url(value)();
    } catch (error) {
      expect((error as Error).message).not.toMatch(/50%off|pa\/ss|secret/);
    }
  });
});
