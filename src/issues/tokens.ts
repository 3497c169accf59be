import { escapeXml } from "../xml/escape.js";

/** Personalisation tokens: left in the compiled issue, replaced in each recipient's copy. */
export const TOKENS = {
  unsubscribe_url: "%%unsubscribe_url%%",
  name: "%%name%%",
} as const;

/** The values for one recipient's copy. */
export type TokenValues = Record<keyof typeof TOKENS, string>;

const ANY_TOKEN = /%%[a-z_]+%%/;

/**
 * One recipient's copy of the compiled HTML or text: plain string
 * substitution, values HTML-escaped for the HTML part. Throws when a token
 * is left, so no one ever gets "%%name%%".
 */
export function personalise(compiled: string, values: TokenValues, kind: "html" | "text"): string {
  let out = compiled;
  for (const [key, token] of Object.entries(TOKENS) as Array<[keyof typeof TOKENS, string]>) {
    out = out.split(token).join(kind === "html" ? escapeXml(values[key]) : values[key]);
  }
  const left = ANY_TOKEN.exec(out);
  if (left) throw new Error(`personalisation token ${left[0]} has no value: the template uses a token Presswork does not know`);
  return out;
}
