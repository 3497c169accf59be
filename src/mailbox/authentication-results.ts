import { domainToASCII } from "node:url";
import type { FieldBlock } from "./fields.js";

/** One method's result in an Authentication-Results field (RFC 8601): `dmarc=pass header.from=example.com`. */
export interface AuthResult {
  /** The method, lower-case and without its version: dkim, spf, dmarc, … */
  method: string;
  /** The result, lower-case: pass, fail, none, … */
  result: string;
  /** The reason and the properties, by lower-case name (`reason`, `header.from`, `header.d`); comments left out. */
  properties: Map<string, string>;
}

/** An Authentication-Results field: the server that wrote it and its results. */
export interface AuthenticationResults {
  /** The authserv-id; none in Microsoft 365's, which start with a result. */
  authservId?: string;
  results: AuthResult[];
}

type Token = { kind: "word" | "quoted"; text: string } | { kind: ";" | "=" };

/** A method (with its version) or a result: letters, digits and hyphens. */
const KEYWORD = /^[A-Za-z0-9-]+(?:\/\d+)?$/;

/** The tokens of a field value: words, quoted strings (unquoted), `;` and `=`; comments, nested or not, are left out. */
function tokens(value: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < value.length) {
    const c = value[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(") {
      for (let depth = 0; i < value.length; i++) {
        const d = value[i];
        if (d === "\\") i++;
        else if (d === "(") depth++;
        else if (d === ")" && --depth === 0) break;
      }
      i++;
    } else if (c === '"') {
      let text = "";
      for (i++; i < value.length && value[i] !== '"'; i++) text += value[i] === "\\" ? (value[++i] ?? "") : value[i];
      i++;
      out.push({ kind: "quoted", text });
    } else if (c === ";" || c === "=") {
      out.push({ kind: c });
      i++;
    } else {
      const start = i;
      while (i < value.length && !/[\s(";=]/.test(value[i] as string)) i++;
      out.push({ kind: "word", text: value.slice(start, i) });
    }
  }
  return out;
}

/** The text of a word or quoted string. */
function textOf(token: Token | undefined): string | undefined {
  return token && "text" in token ? token.text : undefined;
}

/**
 * Parses the value of an Authentication-Results field (RFC 8601): the
 * authserv-id, then `;`-separated results, each `method=result` followed by
 * `name=value` pairs. Comments (Gmail's `(p=NONE sp=NONE)`, Yahoo's written
 * against the result) and quoting are undone; a result that cannot be read
 * is left out.
 */
export function parseAuthenticationResults(value: string): AuthenticationResults {
  const segments: Token[][] = [[]];
  for (const token of tokens(value)) {
    if (token.kind === ";") segments.push([]);
    else (segments[segments.length - 1] as Token[]).push(token);
  }
  const head = segments[0] as Token[];
  const withId = !head.some((t) => t.kind === "=");
  const results: AuthResult[] = [];
  for (const segment of withId ? segments.slice(1) : segments) {
    const [method, equals, result, ...rest] = segment;
    if (method?.kind !== "word" || equals?.kind !== "=" || result?.kind !== "word" || !KEYWORD.test(method.text) || !KEYWORD.test(result.text)) continue;
    const properties = new Map<string, string>();
    for (let i = 0; i < rest.length; i++) {
      const name = textOf(rest[i]);
      const given = textOf(rest[i + 2]);
      if (rest[i]?.kind !== "word" || rest[i + 1]?.kind !== "=" || name === undefined || given === undefined) continue;
      properties.set(name.toLowerCase(), given);
      i += 2;
    }
    results.push({ method: (method.text.split("/")[0] as string).toLowerCase(), result: result.text.toLowerCase(), properties });
  }
  const authservId = withId ? textOf(head[0]) : undefined;
  return { ...(authservId ? { authservId } : {}), results };
}

/** Whether the receiving server authenticated a message's sender, and if not why, as it said it (`dmarc=fail`). */
export type SenderCheck = { authenticated: true } | { authenticated: false; why: string };

/** A domain in one form for comparing (lower-case A-labels, no final dot); undefined for what is not a domain name. */
function canonical(domain: string): string | undefined {
  const ascii = domainToASCII(domain.trim().replace(/\.$/, ""));
  return /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/.test(ascii) ? ascii : undefined;
}

/**
 * Whether the receiving server authenticated the From domain, by its
 * Authentication-Results: DMARC passed for that domain, or a DKIM signature
 * of that very domain (`header.d`, or the domain of `header.i`) passed.
 * One field is read, the topmost: servers add theirs above the fields a
 * message arrived with, which anyone could have written. With `authservIds`
 * (the mailbox's own servers) the topmost that one of them wrote.
 */
export function senderAuthenticated(head: FieldBlock, fromDomain: string, authservIds?: readonly string[]): SenderCheck {
  const fields = (head.get("authentication-results") ?? []).map(parseAuthenticationResults);
  const ours = authservIds?.map((id) => id.toLowerCase());
  const trusted = ours ? fields.find((f) => f.authservId !== undefined && ours.includes(f.authservId.toLowerCase())) : fields[0];
  if (!trusted) return { authenticated: false, why: ours ? `no Authentication-Results from ${ours.join(" or ")}` : "no Authentication-Results" };
  const domain = canonical(fromDomain);
  if (!domain) return { authenticated: false, why: "no From domain" };
  // The domain a result names; a property may be written as an address (`header.i=@example.com`).
  const named = (r: AuthResult) => (r.method === "dmarc" ? r.properties.get("header.from") : (r.properties.get("header.d") ?? r.properties.get("header.i")));
  const about = (r: AuthResult) => canonical(named(r)?.replace(/^.*@/, "") ?? "");
  // DMARC is about the From domain whether or not the server names it; a DKIM result says nothing without its domain.
  const passes = (r: AuthResult) => r.result === "pass" && ((r.method === "dmarc" && named(r) === undefined) || about(r) === domain);
  const relevant = [...trusted.results.filter((r) => r.method === "dmarc"), ...trusted.results.filter((r) => r.method === "dkim")];
  if (relevant.some(passes)) return { authenticated: true };
  if (relevant.length === 0) return { authenticated: false, why: "no dmarc or dkim result" };
  const passedFor = (r: AuthResult) => (r.result !== "pass" ? "" : ` for ${about(r) ?? "no named domain"}`);
  return { authenticated: false, why: relevant.map((r) => `${r.method}=${r.result}${passedFor(r)}`).join(", ") };
}
