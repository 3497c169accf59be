/**
 * Hard or soft: whether a failure says the address does not take mail
 * (suppress at once) or something that may pass (suppress after several).
 *
 * The status class decides first (RFC 3463: 5 permanent, 4 transient), then
 * the exceptions every mature bounce handler makes, because servers use
 * codes loosely: a full mailbox, a message too large, an expired queue, a
 * policy or spam block, a failed SPF/DKIM/DMARC or reverse DNS check of
 * the sending server, a rate limit and a greylist are not the recipient's
 * address failing, whatever the class (RFC 5321's reply scope: they are
 * about the sender or the message); and
 * a 5.x.x whose text says the user is unknown or disabled is hard even
 * under a generic code. A refusal of the sender (RFC 3463's X.1.7 and
 * X.1.8, "Sender verify failed", a reply to MAIL FROM, to DATA or to the
 * connection) is never the reader's address failing: a mistake in our own
 * setup would otherwise suppress every reader it touched. Anything else,
 * a 5.x.x or 5xx without words about the address ("550 Rejected",
 * "Administrative prohibition"), is soft: it tells of no address, and
 * several in a row suppress it still.
 */

/** The outcome of a failed delivery. */
export type Severity = "hard" | "soft";

/** Statuses about the address itself (RFC 3463 and the IANA registry). */
const HARD_STATUS = new Set([
  "5.1.0", // other address status
  "5.1.1", // bad destination mailbox address
  "5.1.2", // bad destination system address (no such domain)
  "5.1.3", // bad destination mailbox address syntax
  "5.1.6", // destination mailbox has moved, no forwarding address
  "5.1.10", // recipient address has null MX (RFC 7505); Microsoft 365: RecipientNotFound
  "5.2.1", // mailbox disabled, not accepting messages
  "5.4.4", // unable to route (no MX, no A)
  "5.7.17", // mailbox owner has changed (RFC 7293)
  "5.7.18", // domain owner has changed (RFC 7293)
]);

/** Statuses about our sender's address (RFC 3463: X.1.7 bad sender's mailbox syntax, X.1.8 bad sender's system address; RFC 7505: X.7.27 sender's domain has a null MX). */
const SENDER_STATUS = new Set(["5.1.7", "5.1.8", "5.7.27"]);

/**
 * A reply the report says came at another stage than the recipient's
 * (Postfix's "in reply to MAIL FROM command", Exim's "after MAIL FROM:",
 * "after initial connection", "in reply to end of DATA command"): about the
 * sender, the connection or the message, not the address.
 */
const NOT_AT_RCPT = /\b(?:in reply to|after)\s+(?:the\s+)?(?:MAIL FROM|end of data|DATA|initial connection|HELO|EHLO|STARTTLS|AUTH)\b/i;

/** Words about our sender: its address or domain refused or unverifiable, our account's limits. */
const SENDER_TEXT = /sender (?:verify|verification|address|domain)\b|domain of sender address|unroutable sender|bad outbound sender|reached your daily limit|sending limit/i;

/** Words of a failure that is not about the address (checked before HARD_TEXT: they are the more specific). */
const SOFT_TEXT = [
  /mailbox (?:is )?full|(?:account|mailbox|user|recipient|address|alias|email)(?:'s)?\b[^.;]{0,40}\bfull\b|over ?quota|exceed(?:s|ed)? (?:the )?(?:storage |disk )?quota|quota ?exceeded|insufficient (?:system )?storage|out of storage|storage (?:space )?(?:is )?full/i,
  /message (?:is )?too (?:big|large)|message size exceeds|exceeds? (?:the )?(?:maximum|size limit)|size limit/i,
  /try (?:again )?later|host not found, try again|unexpected name server reply|servfail|temporar(?:y|ily)|greylist|gray ?list|deferred|rate limit|receiving mail (?:at a|too fast|at too high a) rate|receivingrate|too many (?:messages|connections|recipients)|throttl|resources? temporarily/i,
  /spam|blocked|block ?list|blacklist|denylist|listed (?:at|on|in)|spamhaus|barracuda|spamcop|reputation|policy|unsolicited|bulk mail|content rejected|virus|malware|not accepted for policy/i,
  /\b(?:spf|dkim|dmarc|ptr|rdns)\b|reverse (?:dns|lookup|hostname)|unauthenticated|authentication (?:checks? )?(?:required|failed)|not authorized to send|sender (?:address )?rejected|relay(?:ing)? (?:access )?denied|not configured to relay|access denied, banned sender|client host rejected/i,
  // The sending identity or network refused: Amazon SES an unverified sender, Yahoo an IP not allowed to send for the domain.
  /email address is not verified|identities failed the check|invalid ip for sending/i,
  // Orange's code for mail refused as spam ("Mail rejete. Mail rejected. OFR_506"); its 416 is an unknown recipient.
  /\bOFR_?506\b/,
  /queue(?:d)? too long|expired|delivery time(?:d)? ?out|retry timeout exceeded|no answer from host|connection (?:timed out|refused)|hop count exceeded|loop detected/i,
  // The receiving server out of reach for days (Gmail: "did not accept our requests to connect"), or refusing our network.
  /did not accept our requests? to connect|(?:could not|unable to) connect|network is unreachable|no route to host|host network not allowed/i,
];

/** Words of a failure that is about the address. */
const HARD_TEXT = [
  /(?:user|mailbox|recipient|address|account|addressee|e-?mail(?: address)?) (?:is )?(?:unknown|not found|not exist|does not exist|doesn'?t exist|invalid|unavailable|not valid|disabled|inactive|deactivated|suspended|closed|expired|terminated|rejected|deleted|removed)/i,
  /unknown (?:user|recipient|mailbox|address|local[- ]part)|(?:recipient|user) name is not recognized|no such (?:user|mailbox|address|recipient|person|account|domain)|no mailbox (?:here|by that name)|invalid (?:recipient|mailbox|address|user)/i,
  // Gmail's, GMX's and Exim's words for a mailbox or domain that is not there, or no more.
  /\b(?:account|mailbox|user|recipient|address)\b[^.;]{0,40}?\b(?:does(?:n'?t| not) exist|was not found|has been (?:disabled|discontinued|deleted|closed|removed|terminated))|no such local user|unroute?able address|domain name not found|address resolution of \S+ failed/i,
  /(?:doesn'?t|does not|did not) have an? [\w.-]+ account|recipientnotfound|recipient not found|address rejected: (?:user unknown|access denied)|not a valid (?:mailbox|user|recipient)|no longer (?:active|accepts mail|available)|host (?:or domain name )?not found|domain (?:not found|does not exist)|nxdomain|null mx/i,
  // A domain that takes no mail: a null MX (RFC 7505) as Exim and Sendmail word it, or none at all.
  /indicated no SMTP service|host does not accept mail|no mx record/i,
];

/** The enhanced status code in a text (`5.1.1`), when it holds one. */
export function statusIn(text: string | undefined): string | undefined {
  return text ? /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(text)?.slice(1, 4).join(".") : undefined;
}

/**
 * The enhanced status code of a failure from its Status field and its
 * diagnostic: the field's, unless it is a generic `x.0.0` and the diagnostic
 * carries a more specific code (Exim writes `Status: 5.0.0` for every
 * failure, the server's own `550 5.7.1` only in Diagnostic-Code).
 */
export function failureStatus(field: string | undefined, diagnostic: string | undefined): string | undefined {
  const given = statusIn(field);
  if (!given) return statusIn(diagnostic);
  // Only a code right after the server's reply code ("550 5.7.1"), of the same class: an address (10.2.1.7) or a version (4.2.1) is none.
  const said = diagnostic ? /\b[245]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(diagnostic)?.[1] : undefined;
  return said && /^\d\.0\.0$/.test(given) && said[0] === given[0] && !/^\d\.0\.0$/.test(said) ? said : given;
}

/**
 * Hard or soft for a failed delivery, from its enhanced status code (when
 * given) and its diagnostic text. Hard only when the code or the words say
 * the address does not take mail: with nothing to go on, a failure is
 * soft, as a wrong suppression loses a reader for good.
 */
export function severity(status: string | undefined, diagnostic: string | undefined): Severity {
  const text = diagnostic ?? "";
  const code = status ?? statusIn(text);
  if (code?.startsWith("4.") || (code && SENDER_STATUS.has(code)) || NOT_AT_RCPT.test(text) || SENDER_TEXT.test(text)) return "soft";
  const soft = SOFT_TEXT.some((re) => re.test(text));
  if (code && HARD_STATUS.has(code)) return soft ? "soft" : "hard";
  return !soft && HARD_TEXT.some((re) => re.test(text)) ? "hard" : "soft";
}
