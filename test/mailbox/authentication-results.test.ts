import { describe, expect, it } from "vitest";
import { parseAuthenticationResults, senderAuthenticated } from "../../src/mailbox/authentication-results.js";
import { messageHead } from "../../src/mailbox/fields.js";

/** Results as plain objects, for comparing. */
function read(value: string) {
  const parsed = parseAuthenticationResults(value.replace(/\n\s+/g, " "));
  return { ...parsed, results: parsed.results.map((r) => ({ ...r, properties: Object.fromEntries(r.properties) })) };
}

/** The head of a message with these Authentication-Results fields, topmost first. */
function head(...fields: string[]) {
  return messageHead(`${fields.map((f) => `Authentication-Results: ${f}`).join("\n")}\nFrom: jane@example.com\n\nbody`);
}

describe("Authentication-Results (RFC 8601)", () => {
  it("reads Gmail's: authserv-id, comments left out, properties written as addresses", () => {
    const gmail = `mx.google.com;
       dkim=pass header.i=@example.com header.s=google header.b=AbCdEf12;
       spf=pass (google.com: domain of alice@example.com designates 209.85.220.41 as permitted sender) smtp.mailfrom=alice@example.com;
       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com`;
    expect(read(gmail)).toEqual({
      authservId: "mx.google.com",
      results: [
        { method: "dkim", result: "pass", properties: { "header.i": "@example.com", "header.s": "google", "header.b": "AbCdEf12" } },
        { method: "spf", result: "pass", properties: { "smtp.mailfrom": "alice@example.com" } },
        { method: "dmarc", result: "pass", properties: { "header.from": "example.com" } },
      ],
    });
  });

  it("reads Microsoft 365's, which has no authserv-id and no space after some semicolons", () => {
    const m365 = "spf=pass (sender IP is 209.85.128.45) smtp.mailfrom=gmail.com; dkim=pass (signature was verified) header.d=gmail.com;dmarc=pass action=none header.from=gmail.com;compauth=pass reason=100";
    const parsed = read(m365);
    expect(parsed.authservId).toBeUndefined();
    expect(parsed.results.map((r) => `${r.method}=${r.result}`)).toEqual(["spf=pass", "dkim=pass", "dmarc=pass", "compauth=pass"]);
    expect(parsed.results[2]?.properties).toEqual({ action: "none", "header.from": "gmail.com" });
    expect(parsed.results[3]?.properties).toEqual({ reason: "100" });
  });

  it("reads Yahoo's comment written against the result, a version, nested and escaped comments, quoted values and none", () => {
    expect(read("atlas220.free.mail.bf1.yahoo.com; dkim=pass header.i=@gmail.com header.s=20230601; dmarc=pass(p=NONE,sp=QUARANTINE) header.from=gmail.com;").results[1]).toEqual({ method: "dmarc", result: "pass", properties: { "header.from": "gmail.com" } });
    expect(read("example.org 1; none")).toEqual({ authservId: "example.org", results: [] });
    expect(read('mail.example.net; dkim/1 = pass (good (really \\) good; honest) signature) header.d = example.com; dmarc=fail reason="SPF not aligned (relaxed); no DKIM" header.from=example.com').results).toEqual([
      { method: "dkim", result: "pass", properties: { "header.d": "example.com" } },
      { method: "dmarc", result: "fail", properties: { reason: "SPF not aligned (relaxed); no DKIM", "header.from": "example.com" } },
    ]);
  });

  it("reads Fastmail's and OpenDKIM's, with properties of their own among the standard ones", () => {
    const fastmail = `mx4.messagingengine.com;
    dkim=pass (2048-bit rsa key sha256) header.d=gmail.com header.i=@gmail.com header.b=kX3lq9Zb header.a=rsa-sha256 header.s=20230601 x-bits=2048;
    dmarc=pass policy.published-domain-policy=none (p=none,d=none,d.eval=none) policy.policy-from=p header.from=gmail.com;
    iprev=pass smtp.remote-ip=209.85.220.41 (mail-sor-f41.google.com)`;
    const parsed = read(fastmail);
    expect(parsed.authservId).toBe("mx4.messagingengine.com");
    expect(parsed.results[1]).toEqual({ method: "dmarc", result: "pass", properties: { "policy.published-domain-policy": "none", "policy.policy-from": "p", "header.from": "gmail.com" } });
    expect(read("mail.example.org; dkim=pass (2048-bit key; unprotected) header.d=example.com header.i=@example.com header.a=rsa-sha256 header.s=mail header.b=aGVpZGkx").results).toHaveLength(1);
  });
});

describe("whether the receiving server authenticated the sender", () => {
  it("takes a DMARC pass for the From domain, or for no domain named, and refuses one for another", () => {
    expect(senderAuthenticated(head("mx.example.net; dmarc=pass header.from=Example.COM."), "example.com")).toEqual({ authenticated: true });
    expect(senderAuthenticated(head("mx.example.net; dmarc=pass"), "example.com")).toEqual({ authenticated: true });
    expect(senderAuthenticated(head("mx.example.net; dmarc=pass header.from=forger.example"), "example.com")).toEqual({ authenticated: false, why: "dmarc=pass for forger.example" });
    expect(senderAuthenticated(head("mx.example.net; dmarc=bestguesspass header.from=example.com"), "example.com")).toEqual({ authenticated: false, why: "dmarc=bestguesspass" });
    expect(senderAuthenticated(head("mx.example.net; spf=pass smtp.mailfrom=example.com"), "example.com")).toEqual({ authenticated: false, why: "no dmarc or dkim result" });
  });

  it("takes a DKIM pass only for the From domain itself (header.d, else header.i)", () => {
    expect(senderAuthenticated(head("mx.example.net; dkim=fail header.d=example.com; dkim=pass header.i=@example.com"), "example.com")).toEqual({ authenticated: true });
    expect(senderAuthenticated(head("mx.example.net; dkim=pass header.d=esp.example"), "example.com")).toEqual({ authenticated: false, why: "dkim=pass for esp.example" });
    expect(senderAuthenticated(head("mx.example.net; dkim=pass header.d=mail.example.com"), "example.com")).toEqual({ authenticated: false, why: "dkim=pass for mail.example.com" });
    expect(senderAuthenticated(head("mx.example.net; dkim=pass"), "example.com")).toEqual({ authenticated: false, why: "dkim=pass for no named domain" });
  });

  it("compares internationalised domains in one form, and says nothing in its reason but keywords and domain names", () => {
    expect(senderAuthenticated(head("mx.example.net; dmarc=pass header.from=xn--bcher-kva.example"), "Bücher.example")).toEqual({ authenticated: true });
    expect(senderAuthenticated(head("mx.example.net; dmarc=jane@example.org; dkim=pass header.d=<b>jane</b>"), "example.com")).toEqual({ authenticated: false, why: "dkim=pass for no named domain" });
    expect(senderAuthenticated(head("mx.example.net; dmarc=pass"), "[192.0.2.1]")).toEqual({ authenticated: false, why: "no From domain" });
  });

  it("reads the topmost field, or with authserv-ids the topmost of theirs", () => {
    const fields = head("relay.forwarder.example; dmarc=fail header.from=example.com", "mx.example.net; dmarc=pass header.from=example.com");
    expect(senderAuthenticated(fields, "example.com")).toEqual({ authenticated: false, why: "dmarc=fail" });
    expect(senderAuthenticated(fields, "example.com", ["mx.example.net"])).toEqual({ authenticated: true });
    expect(senderAuthenticated(fields, "example.com", ["mx1.example.net", "mx2.example.net"])).toEqual({ authenticated: false, why: "no Authentication-Results from mx1.example.net or mx2.example.net" });
    expect(senderAuthenticated(messageHead("From: jane@example.com\n\nbody"), "example.com")).toEqual({ authenticated: false, why: "no Authentication-Results" });
  });
});
