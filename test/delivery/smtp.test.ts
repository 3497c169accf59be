import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SmtpTransport, wireFastPath, wireForm } from "../../src/delivery/smtp.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";

let smtp: TestSmtp;
let transport: SmtpTransport;

beforeEach(async () => {
  smtp = await startSmtp();
  transport = new SmtpTransport({ host: "127.0.0.1", port: smtp.port, secure: false, rejectUnauthorized: false }, { maxConnections: 2, timeoutSeconds: 5 });
  await transport.verify();
});
afterEach(async () => {
  await transport.close();
  await smtp.close();
});

const send = (to: string, raw: string) => transport.send({ key: to, envelope: { from: "news@example.org", to }, raw: Buffer.from(raw, "latin1") });

describe("the SMTP transport", () => {
  it("uses the DATA fast path on the pinned nodemailer", () => {
    expect(wireFastPath).toBe(true);
  });

  it("delivers lines that start with dots intact, a lone dot included, through the fast path", async () => {
    const raw = "Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nafter a lone dot\r\n. \r\nlast line without a break";
    expect(wireForm(Buffer.from(raw))).toBeDefined();
    expect(await send("dots@example.org", raw)).toMatchObject({ state: "sent", code: 250 });
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]?.raw.toString("latin1")).toBe(`${raw}\r\n`);
  });

  it("sends a message with bare line feeds or carriage returns the slow way, every line ending CRLF", async () => {
    expect(wireForm(Buffer.from("a\nb\r\n"))).toBeUndefined();
    expect(wireForm(Buffer.from("a\rb\r\n"))).toBeUndefined();
    expect(await send("bare@example.org", "Subject: bare\n\n.one\ntwo\rthree\r\n")).toMatchObject({ state: "sent" });
    expect(smtp.received[0]?.raw.toString("latin1")).toBe("Subject: bare\r\n\r\n.one\r\ntwo\r\nthree\r\n");
  });

  it("keeps sending over a session after the server refused one recipient", async () => {
    smtp.behave("refused@example.org", { rcpt: 550 });
    expect(await send("refused@example.org", "Subject: a\r\n\r\nbody\r\n")).toMatchObject({ state: "rejected", code: 550 });
    expect(await send("fine@example.org", "Subject: b\r\n\r\nbody\r\n")).toMatchObject({ state: "sent" });
    expect(smtp.received.map((m) => m.to)).toEqual([["fine@example.org"]]);
  });

  it("opens a new session when the server dropped one, and reports the dropped message for a retry", async () => {
    smtp.behave("dropped@example.org", { drop: 1 });
    const body = `Subject: long\r\n\r\n${"x".repeat(70).concat("\r\n").repeat(50)}`;
    expect(await send("dropped@example.org", body)).toMatchObject({ state: "retry" });
    expect(await send("dropped@example.org", body)).toMatchObject({ state: "sent" });
    expect(await send("next@example.org", body)).toMatchObject({ state: "sent" });
    expect(smtp.received.map((m) => m.to[0])).toEqual(["dropped@example.org", "next@example.org"]);
  });
});
