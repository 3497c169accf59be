import { escapeXml } from "../xml/escape.js";

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
  const { statics: parts, slots } = splitTokens(compiled);
  // One array joined per copy: join writes a single flat string, where += builds a rope to flatten later.
  const pieces = parts.flatMap((part, i) => (i < slots.length ? [part, ""] : [part]));
  return (values) => {
    const copy = pieces.slice();
    for (let i = 0; i < slots.length; i++) {
      const value = values[slots[i] as TokenKey];
      copy[2 * i + 1] = kind === "html" ? escapeXml(value) : value;
    }
    return copy.join("");
  };
}

/** Text split at its tokens: `statics` has one more piece than `slots`. Throws on an unknown token. */
export function splitTokens(compiled: string): { statics: string[]; slots: TokenKey[] } {
  const statics: string[] = [];
  const slots: TokenKey[] = [];
  let last = 0;
  for (const match of compiled.matchAll(TOKEN)) {
    const key = match[1] as string;
    if (!(key in TOKENS)) throw new Error(`personalisation token ${match[0]} has no value: the template uses a token Presswork does not know`);
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
