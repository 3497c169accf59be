import { readFile, writeFile } from "node:fs/promises";
import type { AddressInfo, Server } from "node:net";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { limitsRate } from "../../src/delivery/classify.js";
import { send, type SendRequest } from "../../src/pipeline/send.js";
import { runCliAsync, type CliResult } from "../helpers/cli.js";
import { initRepo } from "../helpers/git.js";
import { removeProjects, tempProject } from "../helpers/project.js";
import { readState } from "../helpers/state.js";

const NOW = "2026-11-29T12:00:00Z";
const SECRET = "throttle-secret";
const POSTFIX = "4.7.1 Error: too much mail from 127.0.0.1";
const SES = "Throttling failure: Maximum sending rate exceeded.";
const GMAIL = "4.7.0 Try again later, closing connection. (MAIL)";
const GREYLISTED = "4.2.0 <r3@example.org>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.org.html";
let root: string;
let relay: Relay;

/** How the relay limits the sender: from the `after`+1-th accepted message on, this reply at this command, for `forMs` from the first (for ever without). */
interface Limit {
  at: "MAIL FROM" | "DATA";
  code: number;
  text: string;
  after: number;
  forMs?: number;
}

/** An in-process SMTP relay on loopback that limits the sender's rate as scripted, and counts what it sees. */
interface Relay {
  url: string;
  /** Recipients of the messages accepted, in order. */
  received: string[];
  /** Messages answered with the limit. */
  limited: () => number;
  /** RCPT TO per recipient, accepted or not. */
  offered: Map<string, number>;
  limit: (next: Limit | undefined) => void;
  /** Answers RCPT TO for this recipient with greylisting, the first `times` times. */
  greylist: (address: string, times: number) => void;
  close: () => Promise<void>;
}

async function startRelay(): Promise<Relay> {
  const received: string[] = [];
  const offered = new Map<string, number>();
  const greylisted = new Map<string, number>();
  let limit: Limit | undefined;
  let since: number | undefined;
  let limited = 0;
  const refusal = (at: Limit["at"]): Error | undefined => {
    if (!limit || limit.at !== at || received.length < limit.after) return undefined;
    since ??= Date.now();
    if (limit.forMs !== undefined && Date.now() - since > limit.forMs) return undefined;
    limited++;
    return Object.assign(new Error(limit.text), { responseCode: limit.code });
  };
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ["AUTH"],
    authOptional: true,
    hideENHANCEDSTATUSCODES: true,
    onMailFrom(_address, _session, callback) {
      callback(refusal("MAIL FROM") ?? null);
    },
    onRcptTo(address, _session, callback) {
      const to = address.address.toLowerCase();
      const count = (offered.get(to) ?? 0) + 1;
      offered.set(to, count);
      if (count <= (greylisted.get(to) ?? 0)) callback(Object.assign(new Error(GREYLISTED), { responseCode: 450 }));
      else callback();
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on("end", () => {
        const refused = refusal("DATA");
        if (refused) return callback(refused);
        received.push(session.envelope.rcptTo[0]?.address.toLowerCase() ?? "");
        callback(null, "2.0.0 queued");
      });
    },
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = ((server as unknown as { server: Server }).server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    limited: () => limited,
    offered,
    limit: (next) => {
      limit = next;
      since = undefined;
    },
    greylist: (address, times) => greylisted.set(address, times),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const addresses = (n: number) => Array.from({ length: n }, (_, i) => `r${i}@example.org`);

async function list(all: string[]): Promise<void> {
  await writeFile(join(root, "subs.csv"), `email\n${all.join("\n")}\n`);
}

const env = () => ({ PRESSWORK_SECRET: SECRET, SMTP_URL: relay.url, SMTP_TLS_INSECURE: "1", CI: "" });

function request(extra: Partial<SendRequest> = {}): SendRequest {
  return { root, now: new Date(NOW), env: env(), dryRun: false, retryFailed: false, subscribers: "subs.csv", ...extra };
}

const sendCli = (): Promise<CliResult> => runCliAsync(["send", "--subscribers", "subs.csv", "--now", NOW], root, env());

async function states(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [, s] of (await (await readState(root)).ledger(3)).states()) counts[s.state] = (counts[s.state] ?? 0) + 1;
  return counts;
}

/**
 * Refusals a send may draw from a relay that limits it: those in flight
 * when the limit began (one a connection, again when a message already past
 * MAIL FROM is delivered and the pauses start over), then one a pause. Each
 * recipient retried on its own drew up to 3 a recipient left (56 to 60 for
 * the lists of 30 and 40 here).
 */
const FEW = 15;

/** Each delivered message, counted by recipient: one each. */
function deliveredOnce(all: string[]): void {
  expect([...relay.received].sort()).toEqual([...all].sort());
}

/** The pause lines a send printed. */
const pauses = (text: string) => text.split("\n").filter((line) => line.includes("paused for"));

beforeEach(async () => {
  relay = await startRelay();
  root = await tempProject({ samples: true });
  const path = join(root, "presswork.config.yaml");
  // No wait between retries: a send that retries each recipient on its own goes through its tries at once.
  await writeFile(path, (await readFile(path, "utf8")).replace("retryDelaySeconds: 2", "retryDelaySeconds: 0"));
  initRepo(root);
});
afterEach(async () => relay.close());
afterAll(removeProjects);

describe("a relay that limits the sender's rate for a while", () => {
  it("pauses the whole send and delivers everyone once in one run: Postfix's 450 4.7.1 at MAIL FROM", async () => {
    const all = addresses(40);
    await list(all);
    relay.limit({ at: "MAIL FROM", code: 450, text: POSTFIX, after: 10, forMs: 2000 });
    const cli = await sendCli();
    expect(cli.code).toBe(0);
    deliveredOnce(all);
    const counts = await states();
    expect(counts).toEqual({ sent: 40 });
    expect(relay.limited()).toBeLessThanOrEqual(FEW);
    const lines = pauses(cli.stderr);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    // One a pause, not one a message.
    expect(lines.length).toBeLessThanOrEqual(4);
    expect(lines[0]).toContain(`The SMTP server limits the sending rate (450 ${POSTFIX}): paused for 1 s`);
    expect(cli.stdout).toContain("is recorded complete");
  });

  it.each([
    ["Amazon SES's 454 at the end of DATA", { at: "DATA", code: 454, text: SES }],
    ["Gmail's 421 4.7.0 at MAIL FROM, closing the connection", { at: "MAIL FROM", code: 421, text: GMAIL }],
  ] as const)("pauses the whole send and delivers everyone once in one run: %s", async (_what, reply) => {
    const all = addresses(30);
    await list(all);
    relay.limit({ ...reply, after: 8, forMs: 2000 });
    const notices: string[] = [];
    const outcome = await send(request({ onNotice: (line) => notices.push(line) }));
    expect(outcome.report).toMatchObject({ sent: 30, tempFailed: 0, notSent: 0 });
    expect(outcome.recorded).toBe("complete");
    deliveredOnce(all);
    expect(relay.limited()).toBeLessThanOrEqual(FEW);
    expect(pauses(notices.join("\n")).length).toBeLessThanOrEqual(4);
    expect(notices.join("\n")).toContain(reply.text);
  });
});

describe("a relay that never lets up", () => {
  it("stops with exit 4 after a few pauses at their longest, records those it tried not-sent, and the next run mails the rest, nobody twice", async () => {
    const path = join(root, "presswork.config.yaml");
    await writeFile(path, (await readFile(path, "utf8")).replace("pauseSeconds: { first: 1, max: 60 }", "pauseSeconds: { first: 0.05, max: 0.2 }"));
    const all = addresses(30);
    await list(all);
    relay.limit({ at: "MAIL FROM", code: 450, text: POSTFIX, after: 10 });
    const cli = await sendCli();
    expect(cli.code).toBe(4);
    expect(cli.stderr).toContain("Stopped: the SMTP server kept limiting the sending rate through 3 pauses of 0.2 s with nothing delivered");
    expect(cli.stderr).toContain("[smtp-unavailable]");
    // Pauses of 0.05, 0.1 and 0.2 s, then 0.2 s twice more.
    expect(relay.limited()).toBeLessThanOrEqual(FEW);
    const counts = await states();
    // Those whose MAIL FROM was taken before the limit began (up to one a connection) are delivered too.
    expect(counts["sent"]).toBe(relay.received.length);
    expect(counts["not-sent"]).toBeGreaterThanOrEqual(1);
    expect(counts["temp-failed"] ?? 0).toBe(0);
    expect(counts["perm-failed"] ?? 0).toBe(0);
    expect(await (await readState(root)).suppressed()).toEqual(new Set());
    relay.limit(undefined);
    const again = await sendCli();
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("is recorded complete");
    deliveredOnce(all);
  });
});

describe("replies about one recipient", () => {
  it("retries a greylisted recipient alone, without pausing the send, while the relay's rate limit pauses it", async () => {
    const all = addresses(20);
    await list(all);
    relay.greylist("r3@example.org", 1);
    relay.limit({ at: "MAIL FROM", code: 450, text: POSTFIX, after: 12, forMs: 500 });
    const notices: string[] = [];
    const outcome = await send(request({ onNotice: (line) => notices.push(line) }));
    expect(outcome.report).toMatchObject({ sent: 20, tempFailed: 0 });
    deliveredOnce(all);
    // Its own try again, as before.
    expect(relay.offered.get("r3@example.org")).toBe(2);
    const lines = pauses(notices.join("\n"));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) expect(line).toContain(POSTFIX);
  });

  it.each([
    // Postfix, smtpd_client_message_rate_limit and smtpd_client_recipient_rate_limit (at MAIL FROM, at RCPT TO).
    [POSTFIX, true],
    ["4.7.1 Error: too many recipients from 127.0.0.1", true],
    // A policy daemon's sender quota, answered at RCPT TO.
    ["4.7.1 <news@example.net>: Sender address rejected: Deferring: Too many messages from sender in last 60", true],
    // Amazon SES (docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html).
    [SES, true],
    ["Throttling failure: Daily message quota exceeded.", true],
    // Gmail's submission server, and its MX limiting an IP.
    [GMAIL, true],
    ["4.7.28 [127.0.0.1] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited.", true],
    // Microsoft 365 SMTP AUTH submission.
    ["4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded", true],
    ["4.3.2 Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending for more information.", true],
    ["4.4.5 Messages per second limit exceeded", true],
    // About one mailbox, or greylisting: that recipient's retry alone.
    [GREYLISTED, false],
    ["4.7.1 greylisted, try again later", false],
    ["4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.", false],
    ["4.5.1 The recipient <r1@example.org> has exceeded their message rate limit. Try again later.", false],
    ["4.3.2 STOREDRV.Deliver; recipient thread limit exceeded", false],
    ["4.2.2 Quota exceeded (mailbox for user is full)", false],
    ["4.3.0 Temporary local problem, try again later", false],
    ["4.3.4 Message size limit exceeded", false],
  ])("%s: a rate limit of the sender: %s", (text, expected) => {
    expect(limitsRate(`450 ${text}`)).toBe(expected);
  });
});
