import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from "node:crypto";
import { escapeXml } from "../xml/escape.js";
import { PressworkError } from "../errors/error.js";

/** Personalisation tokens: left in the compiled issue, replaced in each recipient's copy. */
export const TOKENS = {
  unsubscribe_url: "%%unsubscribe_url%%",
  name: "%%name%%",
  greeting: "%%greeting%%",
} as const;

/** The values for one recipient's copy. */
export type TokenValues = Record<keyof typeof TOKENS, string>;
/** The name of a token. */
export type TokenKey = keyof typeof TOKENS;

const TOKEN = /%%([a-z_]+)%%/g;

/**
 * A compiled issue part split at its tokens once, so each recipient's copy
 * is a single concatenation: no search through the text per copy.
 */
export interface Personaliser {
  (values: TokenValues): string;
}

/**
 * Splits HTML or text at its tokens. Throws on a token Presswork does not
 * know, so no one ever gets "%%nickname%%"; HTML values are escaped.
 */
export function personaliser(compiled: string, kind: "html" | "text"): Personaliser {
  const { statics: parts, slots, write } = splitPart(compiled, kind);
  // One array joined per copy: join writes a single flat string, where += builds a rope to flatten later.
  const pieces = parts.flatMap((part, i) => (i < slots.length ? [part, ""] : [part]));
  return (values) => {
    const copy = pieces.slice();
    for (let i = 0; i < slots.length; i++) copy[2 * i + 1] = (write[i] as (value: string) => string)(values[slots[i] as TokenKey]);
    return copy.join("");
  };
}

/**
 * A part split at its tokens, with how each slot's value is written: escaped
 * in HTML; in text, a token alone on its line carries that line's break, so
 * an empty value (no greeting for a subscriber without a name) leaves no
 * blank line behind.
 */
export function splitPart(compiled: string, kind: "html" | "text"): { statics: string[]; slots: TokenKey[]; write: ((value: string) => string)[] } {
  const { statics, slots } = splitTokens(compiled);
  if (kind === "html") return { statics, slots, write: slots.map(() => escapeXml) };
  const alone = slots.map((_, i) => {
    const before = statics[i] as string;
    return (before.endsWith("\n") || (i === 0 && before === "")) && (statics[i + 1] as string).startsWith("\n");
  });
  const asIs = (value: string) => value;
  const line = (value: string) => (value === "" ? "" : `${value}\n`);
  alone.forEach((own, i) => {
    if (own) statics[i + 1] = (statics[i + 1] as string).slice(1);
  });
  return { statics, slots, write: alone.map((own) => (own ? line : asIs)) };
}

/** Text split at its tokens: `statics` has one more piece than `slots`. Throws on an unknown token. */
export function splitTokens(compiled: string): { statics: string[]; slots: TokenKey[] } {
  const statics: string[] = [];
  const slots: TokenKey[] = [];
  let last = 0;
  for (const match of compiled.matchAll(TOKEN)) {
    const key = match[1] as string;
    if (!(key in TOKENS)) throw new PressworkError("token-unknown", `personalisation token ${match[0]} has no value: the template uses a token Presswork does not know`);
    statics.push(compiled.slice(last, match.index));
    slots.push(key as TokenKey);
    last = (match.index ?? 0) + match[0].length;
  }
  statics.push(compiled.slice(last));
  return { statics, slots };
}

/** One recipient's copy, for a single use; for many copies build a personaliser once. */
export function personalise(compiled: string, values: TokenValues, kind: "html" | "text"): string {
  return personaliser(compiled, kind)(values);
}

/** Why a link's token was refused: unreadable, signed with another key, made for another list, or past its date. */
export type TokenProblem = "malformed" | "forged" | "other-list" | "expired";

/** Whom an unsubscribe token names: the address's keyed hash (current tokens) or, in tokens from before, the address. */
export type UnsubscribeClaim = { ok: true; key: string } | { ok: true; address: string } | { ok: false; problem: Exclude<TokenProblem, "expired"> };

const KEY = /^[0-9a-f]{24}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;
/** Base64url characters of a MAC kept in a token: 132 bits. */
const MAC_CHARS = 22;

/** The secret as a key object, imported once: a string key is imported again on every HMAC. */
const keys = new Map<string, KeyObject>();
function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = createSecretKey(Buffer.from(secret, "utf8"))));
  return key;
}

function mac(secret: string, purpose: string, ...parts: string[]): string {
  return createHmac("sha256", keyOf(secret)).update([purpose, ...parts].join("\n")).digest("base64url").slice(0, MAC_CHARS);
}

/** Equal strings, compared in time that does not depend on where they differ. */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * An unsubscribe token: the list (base64url), the address's keyed hash and
 * a MAC of both under the secret. It names the list and verifies with the
 * secret alone, and tells nobody without the secret whose it is.
 */
export function unsubscribeTokenFor(key: string, list: string, secret: string): string {
  return `${Buffer.from(list).toString("base64url")}.${key}.${mac(secret, "presswork unsubscribe", list, key)}`;
}

/**
 * Reads an unsubscribe token for `list`, in constant time where it matters.
 * Current tokens give the address's keyed hash; tokens made before them (the
 * address in base64url and an HMAC of address and list, still in mail sent
 * then) give the address.
 */
export function readUnsubscribeToken(token: string, list: string, secret: string): UnsubscribeClaim {
  const parts = token.split(".");
  if (parts.length === 3) {
    const [encodedList = "", key = "", given = ""] = parts;
    if (!B64URL.test(encodedList) || !KEY.test(key) || given.length !== MAC_CHARS) return { ok: false, problem: "malformed" };
    const named = Buffer.from(encodedList, "base64url").toString("utf8");
    if (!sameSecret(mac(secret, "presswork unsubscribe", named, key), given)) return { ok: false, problem: "forged" };
    return named === list ? { ok: true, key } : { ok: false, problem: "other-list" };
  }
  if (parts.length === 2) {
    const [encoded = "", given = ""] = parts;
    if (!B64URL.test(encoded) || given.length !== 32) return { ok: false, problem: "malformed" };
    const address = Buffer.from(encoded, "base64url").toString("utf8").trim().toLowerCase();
    if (!address.includes("@")) return { ok: false, problem: "malformed" };
    const expected = createHmac("sha256", secret).update(`${address}\n${list}`).digest("base64url").slice(0, 32);
    // An old token carries no list: one for another list reads as forged.
    return sameSecret(expected, given) ? { ok: true, address } : { ok: false, problem: "forged" };
  }
  return { ok: false, problem: "malformed" };
}

/** Days a confirmation link stays good. */
export const CONFIRM_DAYS = 7;

/**
 * A confirmation token: a random nonce stored with the pending subscriber,
 * its expiry (seconds, base 36) and a MAC of both and the list. The nonce
 * finds the subscriber; nothing in it says who that is.
 */
export function confirmToken(nonce: string, list: string, expires: Date, secret: string): string {
  const seconds = Math.floor(expires.getTime() / 1000).toString(36);
  return `${nonce}.${seconds}.${mac(secret, "presswork confirm", list, nonce, seconds)}`;
}

/**
 * The nonce of a genuine, unexpired confirmation token for `list`; of a
 * genuine but expired one, the nonce too, which can still tell whether the
 * subscription was confirmed before it expired.
 */
export function readConfirmToken(
  token: string,
  list: string,
  secret: string,
  now: Date,
): { ok: true; nonce: string } | { ok: false; problem: "expired"; nonce: string } | { ok: false; problem: Exclude<TokenProblem, "other-list" | "expired"> } {
  const [nonce = "", seconds = "", given = "", ...rest] = token.split(".");
  if (rest.length > 0 || !B64URL.test(nonce) || nonce.length > 64 || !/^[0-9a-z]{1,12}$/.test(seconds) || given.length !== MAC_CHARS) return { ok: false, problem: "malformed" };
  if (!sameSecret(mac(secret, "presswork confirm", list, nonce, seconds), given)) return { ok: false, problem: "forged" };
  if (Number.parseInt(seconds, 36) * 1000 < now.getTime()) return { ok: false, problem: "expired", nonce };
  return { ok: true, nonce };
}
