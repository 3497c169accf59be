import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { addressKey, unsubscribeToken, verifyUnsubscribeToken } from "../../src/issues/message.js";
import { confirmToken, readConfirmToken, readUnsubscribeToken } from "../../src/issues/tokens.js";

const SECRET = "token-test-secret";
const LIST = "weekly.signal-noise.example";

/** A token as Presswork made them before: the address in base64url and an HMAC of address and list. */
function oldToken(address: string, list: string, secret: string): string {
  const normal = address.trim().toLowerCase();
  const mac = createHmac("sha256", secret).update(`${normal}\n${list}`).digest("base64url").slice(0, 32);
  return `${Buffer.from(normal).toString("base64url")}.${mac}`;
}

describe("unsubscribe tokens", () => {
  it("name the list and the address's keyed hash, and nothing in them decodes to the address", () => {
    const token = unsubscribeToken("Ann.Example@Example.org", LIST, SECRET);
    const decoded = token.split(".").map((part) => Buffer.from(part, "base64url").toString("latin1"));
    expect(decoded.join(" ")).not.toMatch(/ann|example\.org/i);
    expect(decoded[0]).toBe(LIST);
    expect(readUnsubscribeToken(token, LIST, SECRET)).toEqual({ ok: true, key: addressKey("ann.example@example.org", SECRET) });
  });

  it("are refused when forged, tampered with, made with another secret or for another list", () => {
    const token = unsubscribeToken("ann@example.org", LIST, SECRET);
    const [list, key, mac] = token.split(".") as [string, string, string];
    const otherKey = addressKey("bob@example.org", SECRET);
    expect(readUnsubscribeToken(`${list}.${otherKey}.${mac}`, LIST, SECRET)).toEqual({ ok: false, problem: "forged" });
    expect(readUnsubscribeToken(`${list}.${key}.${mac.slice(0, -1)}${mac.endsWith("A") ? "B" : "A"}`, LIST, SECRET)).toEqual({ ok: false, problem: "forged" });
    expect(readUnsubscribeToken(unsubscribeToken("ann@example.org", LIST, "another secret"), LIST, SECRET)).toEqual({ ok: false, problem: "forged" });
    expect(readUnsubscribeToken(unsubscribeToken("ann@example.org", "other.example.org", SECRET), LIST, SECRET)).toEqual({ ok: false, problem: "other-list" });
    for (const bad of ["", "x", "a.b.c", `${list}.${key}`, `${list}.${key}.${mac}.x`, "' OR 1=1 --", `${list}.${key.toUpperCase()}.${mac}`]) {
      expect(readUnsubscribeToken(bad, LIST, SECRET).ok, bad).toBe(false);
    }
  });

  it("made before the current format (already in sent mail) still verify, for their list only", () => {
    const token = oldToken("Ann@Example.org", LIST, SECRET);
    expect(readUnsubscribeToken(token, LIST, SECRET)).toEqual({ ok: true, address: "ann@example.org" });
    expect(verifyUnsubscribeToken(token, LIST, SECRET)).toBe(addressKey("ann@example.org", SECRET));
    expect(readUnsubscribeToken(token, "other.example.org", SECRET).ok).toBe(false);
    expect(readUnsubscribeToken(oldToken("ann@example.org", LIST, "another secret"), LIST, SECRET).ok).toBe(false);
  });
});

describe("confirmation tokens", () => {
  const now = new Date("2026-11-29T12:00:00Z");
  const expires = new Date(now.getTime() + 7 * 86_400_000);

  it("give back their nonce until they expire", () => {
    const token = confirmToken("n0nce-Value_1", LIST, expires, SECRET);
    expect(readConfirmToken(token, LIST, SECRET, now)).toEqual({ ok: true, nonce: "n0nce-Value_1" });
    expect(readConfirmToken(token, LIST, SECRET, new Date(expires.getTime() + 1000))).toEqual({ ok: false, problem: "expired", nonce: "n0nce-Value_1" });
  });

  it("cannot have their expiry moved, their nonce swapped or their list changed", () => {
    const token = confirmToken("nonce", LIST, expires, SECRET);
    const [nonce, seconds, mac] = token.split(".") as [string, string, string];
    const later = (Number.parseInt(seconds, 36) + 86_400 * 30).toString(36);
    expect(readConfirmToken(`${nonce}.${later}.${mac}`, LIST, SECRET, now)).toEqual({ ok: false, problem: "forged" });
    expect(readConfirmToken(`other.${seconds}.${mac}`, LIST, SECRET, now)).toEqual({ ok: false, problem: "forged" });
    expect(readConfirmToken(token, "other.example.org", SECRET, now)).toEqual({ ok: false, problem: "forged" });
    expect(readConfirmToken("garbage", LIST, SECRET, now)).toEqual({ ok: false, problem: "malformed" });
  });
});
