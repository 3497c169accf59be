import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse.js";
import { addressKey } from "../../src/issues/message.js";
import { decodeVerp, readFeedbackToken, unsubscribeMailto, verpAddress } from "../../src/issues/verp.js";
import { CONFIG_WITH_BOUNCES } from "../mailbox/identity.js";

const SECRET = "a-long-random-secret";
const key = addressKey("Jane.Doe@Example.org", SECRET);
const bounces = { address: "bounces@news.example.com", delimiter: "+" };

describe("per-recipient envelope senders (VERP)", () => {
  it("names the issue and the address key, never the address, within 64 octets of local part", () => {
    const address = verpAddress(bounces, { issue: 123456, key }, SECRET);
    expect(address).toMatch(/^bounces\+123456\.[0-9a-f]{24}\.[0-9a-f]{12}@news\.example\.com$/);
    expect(address.toLowerCase()).not.toContain("jane");
    expect(address.split("@")[0]?.length).toBeLessThanOrEqual(64);
    expect(decodeVerp(address, SECRET)).toEqual({ issue: 123456, key });
  });

  it("reads the token back after an MTA lower-cased or upper-cased it, or rewrote the address (SRS, BATV, another delimiter)", () => {
    const address = verpAddress(bounces, { issue: 7, key }, SECRET);
    const local = address.split("@")[0] as string;
    const token = local.slice("bounces+".length);
    for (const seen of [address.toUpperCase(), address.toLowerCase(), `SRS0=HhH3=TT=news.example.com=${local}@forwarder.example`, `prvs=1234abcd5=${local}@news.example.com`, `bounces-${token}@news.example.com`]) {
      expect(decodeVerp(seen, SECRET)).toEqual({ issue: 7, key });
    }
  });

  it("refuses a forged or altered token, another secret, and an unsubscribe token in its place", () => {
    const address = verpAddress(bounces, { issue: 7, key }, SECRET);
    const other = addressKey("someone@example.org", SECRET);
    expect(decodeVerp(address.replace(key, other), SECRET)).toBeUndefined();
    expect(decodeVerp(address.replace("+7.", "+8."), SECRET)).toBeUndefined();
    expect(decodeVerp(address, "another-secret")).toBeUndefined();
    expect(decodeVerp("bounces@news.example.com", SECRET)).toBeUndefined();
    const mailto = unsubscribeMailto({ address: "unsubscribe@news.example.com", delimiter: "+" }, { issue: 7, key }, SECRET);
    expect(decodeVerp(mailto.slice("mailto:".length).split("?")[0] as string, SECRET)).toBeUndefined();
    expect(readFeedbackToken("unsubscribe", mailto, SECRET)).toEqual({ issue: 7, key });
  });

  it("puts the unsubscribe token in the mailto's address and subject", () => {
    const mailto = unsubscribeMailto({ address: "unsubscribe@news.example.com", delimiter: "+" }, { issue: 3, key }, SECRET);
    const url = new URL(mailto);
    const token = url.pathname.split("@")[0]?.slice("unsubscribe+".length) as string;
    expect(url.searchParams.get("subject")).toBe(`unsubscribe ${token}`);
    expect(readFeedbackToken("unsubscribe", url.searchParams.get("subject") as string, SECRET)).toEqual({ issue: 3, key });
  });

  it("makes a token of no issue for the welcome mail: in the address and subject, or in the subject alone without a delimiter", () => {
    const tagged = new URL(unsubscribeMailto({ address: "unsubscribe@news.example.com", delimiter: "-" }, { key }, SECRET));
    expect(tagged.pathname).toMatch(/^unsubscribe-0\.[0-9a-f]{24}\.[0-9a-f]{12}@news\.example\.com$/);
    expect(readFeedbackToken("unsubscribe", tagged.pathname, SECRET)).toEqual({ key });
    const plain = new URL(unsubscribeMailto({ address: "unsubscribe@news.example.com" }, { key }, SECRET));
    expect(plain.pathname).toBe("unsubscribe@news.example.com");
    expect(readFeedbackToken("unsubscribe", plain.searchParams.get("subject") as string, SECRET)).toEqual({ key });
    // The MAC covers the issue: a welcome token does not become one for issue 1, nor a bounce address.
    expect(readFeedbackToken("unsubscribe", tagged.pathname.replace("-0.", "-1."), SECRET)).toBeUndefined();
    expect(decodeVerp(tagged.pathname, SECRET)).toBeUndefined();
  });

  it("refuses to build from an address instead of its key, or past 64 octets", () => {
    expect(() => verpAddress(bounces, { issue: 1, key: "jane@example.org" }, SECRET)).toThrow(/address key/);
    expect(() => verpAddress({ address: "a-very-long-bounce-mailbox-name@x.example", delimiter: "+" }, { issue: 1, key }, SECRET)).toThrow(/64/);
  });

  it("is configured under newsletter.bounces, whose mailbox name must leave room for the token", () => {
    expect(parseConfig(CONFIG_WITH_BOUNCES).config?.newsletter?.bounces).toEqual({ address: "bounces@signal-noise.example", delimiter: "+" });
    const long = parseConfig(CONFIG_WITH_BOUNCES.replace("bounces@signal-noise.example", "newsletter-bounce-mail@signal-noise.example"));
    expect(long.config).toBeUndefined();
    expect(String(long.file.messages[0]?.reason)).toMatch(/at most 19 characters/);
  });
});
