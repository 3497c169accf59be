import { addressesIn, messageHead, type FieldBlock } from "./fields.js";

/**
 * Bounces without a delivery-status part: the plain-text reports of Exim,
 * qmail, Yahoo and older or home-grown mail systems. A fallback, read from
 * the human-readable text.
 */

/** One failed recipient, as the text tells it. */
export interface TextFailure {
  address: string;
  diagnostic?: string;
}

/** What a text bounce says. */
export interface TextBounce {
  format: "exim" | "qmail" | "yahoo" | "text";
  failures: TextFailure[];
  /** The text says the server gave up for good. */
  permanent: boolean;
  /** The text says delivery is still being tried (a delay warning, not a failure). */
  delayed: boolean;
  /** The head of the original message, when the report quotes it. */
  original?: FieldBlock;
}

/** Lines that start the copy of the original message in text reports. */
const ORIGINAL_MARKERS = [
  /^-+ ?This is a copy of the message,? including all the headers\.? ?-+\s*$/im, // Exim
  /^-+ ?Below this line is a copy of the message\.?\s*$/im, // qmail, Yahoo
  /^-+ ?(?:Original message|Original message headers|Undelivered message headers|The header of the original message is following)\.? ?-*:?\s*$/im,
  /^Original message headers:\s*$/im, // Microsoft Exchange
];

const FAILURE = /could not be delivered|an error (?:has )?occurred while attempting to deliver|couldn'?t be delivered|was not delivered|wasn'?t able to deliver|unable to deliver|delivery (?:has )?failed|failed permanently|permanent (?:fatal )?error|undeliverable|did not reach|delivery to the following recipients? failed|address(?:es)? failed|returned to sender|non-?delivery|mailbox unavailable|user unknown|no such user/i;
const DELAY = /has not (?:yet )?been delivered|not yet been delivered|delivery (?:has been )?delayed|will (?:continue|keep) trying|still trying|will be retried|warning: message .* delayed/i;
const BOUNCER = /mailer-daemon|postmaster|mail delivery (?:system|subsystem)|mail administrator/i;
const BOUNCE_SUBJECT = /undeliver|delivery (?:status notification|failure|failed|problem)|returned mail|failure notice|mail delivery failed|could not be delivered|non-?delivery|delivery notification|warning: could not send|mail system error|rejected:/i;

/** Splits a report's text into what the bouncing server wrote and the quoted original's head. */
function splitOriginal(text: string): { report: string; original?: FieldBlock } {
  for (const marker of ORIGINAL_MARKERS) {
    const match = marker.exec(text);
    if (match) {
      const rest = text.slice((match.index ?? 0) + match[0].length).replace(/^\s*\n/, "");
      return { report: text.slice(0, match.index), original: messageHead(rest) };
    }
  }
  return { report: text };
}

/**
 * Reads a text bounce. `headers` are the report's own header values by
 * lower-case name. Undefined when the message does not read as a bounce.
 */
export function readTextBounce(text: string, headers: { from: string; subject: string; failedRecipients: string[] }): TextBounce | undefined {
  const { report, original } = splitOriginal(text.replace(/\r\n?/g, "\n"));
  const exim = headers.failedRecipients.length > 0 || /created automatically by mail delivery software/i.test(report);
  const qmail = /this is the qmail-send program/i.test(report);
  const yahoo = /sorry, we were unable to deliver your message/i.test(report);
  const fromBouncer = BOUNCER.test(headers.from) || BOUNCE_SUBJECT.test(headers.subject);
  // Phrases are matched across line breaks: Postfix writes "could not\nbe delivered".
  const prose = report.replace(/\s+/g, " ");
  const failing = FAILURE.test(prose);
  const delayed = !failing && DELAY.test(prose);
  if (!(exim || qmail || yahoo || (fromBouncer && (failing || delayed)))) return undefined;
  const format = exim ? "exim" : qmail ? "qmail" : yahoo ? "yahoo" : "text";
  let failures = angleBlocks(report);
  if (failures.length === 0) failures = indentedBlocks(report);
  if (headers.failedRecipients.length > 0) {
    const known = new Map(failures.map((f) => [f.address.toLowerCase(), f]));
    // One failed recipient whose block was not found: the server's words are the report's, wherever they stand.
    const words = headers.failedRecipients.length === 1 ? ((failures.length === 1 ? failures[0]?.diagnostic : undefined) ?? reportWords(report)) : undefined;
    failures = headers.failedRecipients.map((address) => known.get(address.toLowerCase()) ?? { address, ...(words ? { diagnostic: words } : {}) });
  }
  if (failures.length === 0) {
    const address = addressesIn(report).find((a) => !BOUNCER.test(a));
    if (address) failures = [{ address }];
  }
  // One failure whose block holds no words (GMX, 1&1, Gmail's older reports): the reason the report gives elsewhere.
  const only = failures.length === 1 ? failures[0] : undefined;
  const reason = only && !only.diagnostic ? reportWords(report) : undefined;
  if (only && reason) failures = [{ ...only, diagnostic: reason }];
  const permanent = /permanent(?:ly)? (?:error|failure|fatal)|i'?ve given up|failed permanently|this is a permanent error/i.test(prose);
  return { format, failures, permanent, delayed, ...(original && original.size > 0 ? { original } : {}) };
}

/**
 * `<jane@example.org>:` followed by the server's words (qmail, Yahoo,
 * Postfix's text part), or `jane@example.org: 550 …` at the start of a line
 * (OpenSMTPD).
 */
function angleBlocks(report: string): TextFailure[] {
  const out: TextFailure[] = [];
  const lines = report.split("\n");
  const start = (line: string) => /^\s*<([^<>\s]+@[^<>\s]+)>:?\s*(.*)$/.exec(line) ?? /^([^\s<>:@]+@[^\s<>:@]+):\s+(\S.*)$/.exec(line);
  lines.forEach((line, i) => {
    const match = start(line);
    if (!match) return;
    const words = [match[2] ?? ""];
    for (let j = i + 1; j < lines.length && (lines[j] ?? "").trim() !== "" && !start(lines[j] ?? ""); j++) words.push((lines[j] ?? "").trim());
    const diagnostic = words.join(" ").trim();
    out.push({ address: match[1] as string, ...(diagnostic ? { diagnostic } : {}) });
  });
  return out;
}

/** Exim's list: an address indented by two spaces, the server's words indented further under it. */
function indentedBlocks(report: string): TextFailure[] {
  const out: TextFailure[] = [];
  const lines = report.split("\n");
  lines.forEach((line, i) => {
    const match = /^ {1,3}([^\s<>@]+@[^\s<>@]+?)(?:\s*$|\s*\n)/.exec(line);
    if (!match) return;
    const words: string[] = [];
    for (let j = i + 1; j < lines.length && /^ {4,}\S/.test(lines[j] ?? ""); j++) words.push((lines[j] ?? "").trim());
    const diagnostic = words.join(" ").trim();
    out.push({ address: match[1] as string, ...(diagnostic ? { diagnostic } : {}) });
  });
  return out;
}

/** The reason a report gives outside any recipient's block: a line with a reply or status code, the words under a heading, or those Exim indents. */
function reportWords(report: string): string | undefined {
  return diagnosticLine(report) ?? reasonWords(report) ?? listedWords(report);
}

/** The first line that holds an SMTP reply or status code. */
function diagnosticLine(report: string): string | undefined {
  return report.split("\n").find((line) => /\b[45]\d\d\b|\b[45]\.\d{1,3}\.\d{1,3}\b/.test(line))?.trim();
}

/**
 * The words under a heading that introduces the reason: "Reason:" (GMX),
 * "For the following reason:" (1&1), "Technical details of permanent
 * failure:" (Gmail's older reports), up to the next blank line.
 */
function reasonWords(report: string): string | undefined {
  const lines = report.split("\n");
  const at = lines.findIndex((line) => REASON_HEADING.test(line));
  if (at < 0) return undefined;
  const words = [(lines[at] ?? "").replace(REASON_HEADING, "").trim()];
  let j = at + 1;
  if (words[0] === "") while (j < lines.length && (lines[j] ?? "").trim() === "") j++;
  for (; j < lines.length && (lines[j] ?? "").trim() !== ""; j++) words.push((lines[j] ?? "").trim());
  const text = words.join(" ").trim();
  return text || undefined;
}

const REASON_HEADING = /^\s*(?:technical details of (?:permanent|temporary) failure|(?:for the following )?reason)\s*:/i;

/** The words indented under Exim's list when its entry is headed by a file or a pipe, not an address; bare addresses left out. */
function listedWords(report: string): string | undefined {
  const words = report.split("\n").filter((line) => /^ {4,}\S/.test(line) && !/^\s*<?[^\s<>]+@[^\s<>]+>?\s*$/.test(line));
  return words.length > 0 ? words.map((line) => line.trim()).join(" ") : undefined;
}

/** A message from a mail system (MAILER-DAEMON, Mail Delivery Subsystem), whatever its Auto-Submitted says; not by its subject, which an out-of-office quotes. */
export function fromMailSystem(from: string): boolean {
  return BOUNCER.test(from);
}

/**
 * Automatic replies (RFC 3834 `Auto-Submitted`, the headers of Exchange,
 * Gmail and common vacation programs, the usual subjects in several
 * languages): an out-of-office is not a bounce.
 */
export function isAutoReply(headers: Map<string, string>, subject: string): boolean {
  const auto = headers.get("auto-submitted")?.toLowerCase();
  if (auto && !auto.startsWith("no")) return true;
  if (headers.has("x-autoreply") || headers.has("x-autorespond") || headers.has("x-autoreply-from") || headers.has("x-mail-autoreply")) return true;
  if (/auto[_-]?reply/i.test(headers.get("precedence") ?? "") || /auto[_-]?reply/i.test(headers.get("x-precedence") ?? "")) return true;
  if (/^reply$/i.test(headers.get("x-autogenerated") ?? "")) return true;
  return /^(?:auto(?:matic)?[ -]?(?:reply|response|antwort)|auto:|autoreply|out of (?:the )?office|abwesenheit|réponse automatique|respuesta automática|risposta automatica|automatisch antwoord|fuera de la oficina|absence|vacation|away from)/i.test(subject.trim());
}
