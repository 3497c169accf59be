import { describe, expect, it } from "vitest";
import { failureStatus, severity } from "../../src/mailbox/severity.js";

describe("hard or soft", () => {
  it.each([
    ["5.1.1", "550 5.1.1 User unknown", "hard"],
    ["5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound", "hard"],
    ["5.2.1", "550-5.2.1 The email account that you tried to reach is disabled", "hard"],
    ["5.4.4", "Host or domain name not found", "hard"],
    [undefined, "554 delivery error: dd This user doesn't have a yahoo.com account", "hard"],
    [undefined, "Sorry, no mailbox here by that name. (#5.1.1)", "hard"],
    [undefined, "The email account that you tried to reach does not exist. Please try double-checking the recipient's email address", "hard"],
    [undefined, "The mailbox of the recipient was not found", "hard"],
    [undefined, "This account has been disabled or discontinued", "hard"],
    [undefined, "No such local user", "hard"],
    [undefined, "DNS Error: Address resolution of example.invalid. failed: Domain name not found", "hard"],
    // Microsoft Exchange's IMS connector.
    [undefined, "The recipient name is not recognized", "hard"],
    ["5.7.1", "550 5.7.1 <address>: Recipient address rejected: User unknown", "hard"],
    ["5.2.2", undefined, "soft"],
    // Orange's spam refusal, by its own code; its unknown recipient (OFR_416) is hard.
    ["5.2.0", "550 5.2.0 Mail rejete. Mail rejected. OFR_506 [506]", "soft"],
    ["5.1.1", "550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]", "hard"],
    // Any other 5.2.0 ("other mailbox status") stays hard: a deleted or disabled mailbox is written so too.
    ["5.2.0", "550 5.2.0 Mailbox deleted", "hard"],
    ["5.2.2", "552 5.2.2 Mailbox full", "soft"],
    ["5.0.0", "mailbox is full: retry timeout exceeded", "soft"],
    ["5.1.1", "550 5.1.1 over quota", "soft"],
    ["5.3.4", "552 5.3.4 Message size exceeds fixed maximum message size", "soft"],
    ["5.7.1", "550 5.7.1 Service unavailable, Client host blocked using Spamhaus", "soft"],
    ["5.7.26", "550 5.7.26 <address>: Recipient address rejected: Multiple authentication checks failed", "soft"],
    ["5.7.26", "550-5.7.26 Unauthenticated email from signal-noise.example is not accepted due to domain's DMARC policy", "soft"],
    ["5.4.7", "Delivery expired (message too old)", "soft"],
    ["4.4.1", "Connection timed out", "soft"],
    ["4.2.0", "user unknown", "soft"],
    [undefined, "550 Requested action not taken: mailbox unavailable", "hard"],
    [undefined, "452 Too many recipients", "soft"],
    [undefined, "552 Requested mail action aborted: exceeded storage allocation", "soft"],
    [undefined, undefined, "soft"],
    ["5.2.1", "550-5.2.1 The user you are trying to contact is receiving mail at a rate that 550-5.2.1 prevents additional messages from being delivered", "soft"],
    [undefined, "571 No PTR Record found. Reverse DNS required: 198.51.100.7", "soft"],
    ["5.0.0", "The recipient server did not accept our requests to connect. Learn more at https://support.google.com/mail/answer/7720 [mx.example.org 192.0.2.9: timed out]", "soft"],
    ["5.0.0", "554 Host network not allowed", "soft"],
    [undefined, "551 Server access mx.example.org forbidden by invalid RDNS record of your mail server (198.51.100.7).", "soft"],
    ["5.0.0", "550 Connections not accepted from servers without a valid sender domain. Fix reverse DNS for 198.51.100.7", "soft"],
    // Nothing about the address: an Exim 5.0.0 alone, a bare refusal, a block or a server fault.
    ["5.0.0", undefined, "soft"],
    ["5.0.0", "550 Rejected", "soft"],
    ["5.0.0", "550 Administrative prohibition", "soft"],
    [undefined, "554 Service currently unavailable", "soft"],
    [undefined, "550 Protocol violation (in reply to DATA command)", "soft"],
    // Our sender refused, whatever the words say of an address: Postfix's and Exim's reports of a reply to MAIL FROM or to
    // the connection, a sender check (Exim quotes the 5.1.1 the check got for our bounce address), Microsoft 365's.
    ["5.1.8", "553 5.1.8 <bounces@signal-noise.example>... Domain of sender address bounces@signal-noise.example does not exist", "soft"],
    [undefined, "host mx.example.org[192.0.2.25] said: 553 5.1.0 <bounces@signal-noise.example>... No such user (in reply to MAIL FROM command)", "soft"],
    ["5.0.0", "SMTP error from remote mail server after MAIL FROM:<bounces@signal-noise.example> SIZE=20313: 550 Unroutable sender address", "soft"],
    ["5.0.0", "SMTP error from remote mail server after initial connection: 550 Access denied", "soft"],
    ["5.0.0", "550-Verification failed for <bounces@signal-noise.example> 550-Response: 550 5.1.1 <bounces@signal-noise.example>: Recipient address rejected: User unknown 550 Sender verify failed", "soft"],
    ["5.1.8", "550 5.1.8 Access denied, bad outbound sender", "soft"],
    ["5.1.90", "550 5.1.90 Your message can't be sent because you've reached your daily limit for message recipients", "soft"],
    // At RCPT TO, an unknown user is the address.
    [undefined, "host mx.example.org[192.0.2.25] said: 550 5.1.1 <reader@example.org>: Recipient address rejected: User unknown (in reply to RCPT TO command)", "hard"],
    // Exchange Online's full mailbox, in its own words; a name server that did not answer.
    ["5.2.0", "554 5.2.0 STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent exception", "soft"],
    [undefined, "Name service error for name=example.org type=MX: Host not found, try again", "soft"],
    ["5.4.4", "Malformed or unexpected name server reply", "soft"],
    ["5.1.2", "550 5.1.2 <reader@example.org>... Host unknown (Name server: .: host not found)", "hard"],
    // A domain with a null MX (RFC 7505), or none; a null MX of our sender's domain is ours.
    [undefined, "an MX or SRV record indicated no SMTP service", "hard"],
    [undefined, "No mx record found for domain=example.org", "hard"],
    ["5.7.27", "550 5.7.27 Host does not accept mail", "soft"],
    // An unknown user whose server asks to check the address and try again is still unknown.
    ["5.1.1", "550 5.1.1 User unknown. Please check the address and try again", "hard"],
  ])("%s %s: %s", (status, diagnostic, expected) => {
    expect(severity(status, diagnostic)).toBe(expected);
  });
});

describe("the status of a failure", () => {
  it.each([
    ["5.0.0", "550 5.7.1 Connections not accepted from servers without a valid sender domain", "5.7.1"],
    ["5.0.0", "550 5.7.606 Access denied, banned sending IP [198.51.100.7]", "5.7.606"],
    ["5.0.0", "550 5.0.0 Rejected", "5.0.0"],
    ["5.0.0", undefined, "5.0.0"],
    ["5.1.1", "550 5.7.1 User unknown", "5.1.1"],
    [undefined, "550 5.2.2 Mailbox full", "5.2.2"],
    // Dotted numbers that are no status: an address, a version, another class.
    ["5.0.0", "550 Message rejected: sending host 10.2.1.7 is not permitted", "5.0.0"],
    ["5.0.0", "550 unrouteable address (Exim 4.2.1)", "5.0.0"],
    ["5.0.0", "550-4.2.1 odd server", "5.0.0"],
  ])("Status %s, %s: %s", (status, diagnostic, expected) => {
    expect(failureStatus(status, diagnostic)).toBe(expected);
  });
});
