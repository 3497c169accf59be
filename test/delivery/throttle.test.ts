import { readFile, writeFile } from "node:fs/promises";
import type { AddressInfo, Server } from "node:net";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Recipient } from "../../src/audience/audience.js";
import { classify, limitsRate } from "../../src/delivery/classify.js";
import { sendIssue } from "../../src/delivery/send.js";
import type { Outcome, Transport } from "../../src/delivery/transport.js";
import { send, type SendRequest } from "../../src/pipeline/send.js";
import { runCliHere, type CliResult } from "../helpers/cli.js";
import { initRepo } from "../helpers/git.js";
import { removeProjects, tempProject } from "../helpers/project.js";
import { readState } from "../helpers/state.js";
import { Ledger } from "../../src/state/ledger.js";

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
  /** Answers RCPT TO for this recipient with this 4xx reply, every time. */
  refuse: (address: string, code: number, text: string) => void;
  close: () => Promise<void>;
}

async function startRelay(): Promise<Relay> {
  const received: string[] = [];
  const offered = new Map<string, number>();
  const greylisted = new Map<string, number>();
  const refused = new Map<string, { code: number; text: string }>();
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
      const refusal = refused.get(to);
      if (refusal) callback(Object.assign(new Error(refusal.text), { responseCode: refusal.code }));
      else if (count <= (greylisted.get(to) ?? 0)) callback(Object.assign(new Error(GREYLISTED), { responseCode: 450 }));
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
    refuse: (address, code, text) => refused.set(address, { code, text }),
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

const sendCli = (): Promise<CliResult> => runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW], root, env());

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

/** Pauses of 0.05 s at first and 0.2 s at most: a relay that never lets up is given up on in about a second. */
async function shortPauses(): Promise<void> {
  const path = join(root, "presswork.config.yaml");
  await writeFile(path, (await readFile(path, "utf8")).replace("pauseSeconds: { first: 1, max: 60 }", "pauseSeconds: { first: 0.05, max: 0.2 }"));
}

/** The pause lines a send printed. */
const pauses = (text: string) => text.split("\n").filter((line) => line.includes("paused for"));

beforeEach(async () => {
  relay = await startRelay();
  root = await tempProject({ samples: true, built: true });
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
    await shortPauses();
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

describe("a relay whose quota for the day is spent", () => {
  it("stops at once with exit 4, pausing for nothing: SES's 454 Daily message quota exceeded", async () => {
    await shortPauses();
    const all = addresses(30);
    await list(all);
    relay.limit({ at: "DATA", code: 454, text: "Throttling failure: Daily message quota exceeded.", after: 10 });
    const cli = await sendCli();
    expect(cli.code).toBe(4);
    expect(cli.stderr).toContain("Stopped: the SMTP server is unavailable: 454 Throttling failure: Daily message quota exceeded.");
    expect(pauses(cli.stderr)).toEqual([]);
    // Those in flight when the quota ran out, one a connection.
    expect(relay.limited()).toBeLessThanOrEqual(5);
    const counts = await states();
    expect(counts["sent"]).toBe(relay.received.length);
    expect(counts["temp-failed"] ?? 0).toBe(0);
    expect(counts["not-sent"]).toBeGreaterThanOrEqual(1);
  });
  it("leaves those a run of --retry-failed tried temp-failed, for the next such run: a plain send of a complete issue mails nobody", async () => {
    const all = addresses(20);
    await list(all);
    // Four refusals: the first try and its three retries.
    relay.greylist("r4@example.org", 4);
    expect((await sendCli()).code).toBe(1);
    expect(await states()).toEqual({ sent: 19, "temp-failed": 1 });
    relay.limit({ at: "DATA", code: 454, text: "Throttling failure: Daily message quota exceeded.", after: 0 });
    const retry = await runCliHere(["send", "--retry-failed", "--subscribers", "subs.csv", "--now", NOW], root, env());
    expect(retry.code).toBe(4);
    expect(await states()).toEqual({ sent: 19, "temp-failed": 1 });
    relay.limit(undefined);
    expect((await runCliHere(["send", "--retry-failed", "--subscribers", "subs.csv", "--now", NOW], root, env())).code).toBe(0);
    deliveredOnce(all);
  });

  it.each([
    ["454 Throttling failure: Daily message quota exceeded.", "unavailable"],
    // One mailbox's quota for the day: that recipient's retry, not the relay's.
    ["452 4.2.2 Mailbox daily quota exceeded", "retry"],
    ["450 4.2.1 <r1@example.org>: Recipient address rejected: recipient daily quota exceeded", "retry"],
    ["451 4.7.1 Recipient has exceeded its daily quota", "retry"],
  ])("%s: %s", (response, state) => {
    expect(classify({ responseCode: Number(response.slice(0, 3)), response, command: "RCPT TO" }).state).toBe(state);
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

  it("retries a recipient whose own domain is limited as any 4xx once others were delivered meanwhile: it ends temp-failed, the send ends", async () => {
    const all = addresses(40);
    await list(all);
    relay.refuse("r5@example.org", 451, "4.7.1 Rate limit exceeded for domain example.org, try again later");
    const notices: string[] = [];
    const outcome = await send(request({ onNotice: (line) => notices.push(line) }));
    // The first refusal pauses the send once; then it is the recipient's: its first try and 3 retries, and no more.
    expect(relay.offered.get("r5@example.org")).toBeLessThanOrEqual(5);
    expect(outcome.report).toMatchObject({ sent: 39, tempFailed: 1, notSent: 0 });
    expect(pauses(notices.join("\n")).length).toBe(1);
    expect([...relay.received].sort()).toEqual(all.filter((a) => a !== "r5@example.org").sort());
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
    ["4.7.1 Hourly quota exceeded", true],
    // A policy daemon's sender limit where Postfix words it as a recipient's (postfwd, policyd-rate-limit at RCPT TO).
    ["4.7.1 <r1@example.org>: Recipient address rejected: Rate limit exceeded, try again later", true],
    // The same for a sender whose domain has a word of a mailbox's in it.
    ["4.7.1 <news@mailbox.example>: Sender address rejected: Rate limit exceeded", true],
    // Exim's ratelimit ACL, and Microsoft 365 limiting a sending IP.
    ["4.7.1 Sender rate exceeds 100 messages per 1h", true],
    ["4.7.500 Server busy. Please try again later from [127.0.0.1]. (S77719)", true],
    // About one mailbox, or greylisting: that recipient's retry alone.
    ["Disk quota exceeded", false],
    ["Quota exceeded", false],
    ["Too many recipients received this hour", false],
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

describe("replies to messages sent before a pause", () => {
  async function* recipients(n: number): AsyncGenerator<Recipient> {
    for (let i = 0; i < n; i++) yield { address: `r${i}@example.org`, key: i.toString(16).padStart(24, "0"), fields: {}, line: i + 2 };
  }

  const LIMITED: Outcome = { state: "retry", code: 454, response: `454 ${SES}`, throttled: true };
  const TAKEN: Outcome = { state: "sent", code: 250, response: "250 ok" };
  const after = (ms: number, outcome: Outcome) => new Promise<Outcome>((resolve) => setTimeout(() => resolve(outcome), ms));

  /** The first `delays.length` messages answered with SES's limit after `delays[i]` ms, everything after them taken. */
  const limitedFirst =
    (delays: number[]) =>
    (call: number): Promise<Outcome> =>
      call < delays.length ? after(delays[call] ?? 0, LIMITED) : Promise.resolve(TAKEN);

  /**
   * Sends to 12 recipients over five connections, each message answered as `answer` says (by its number in the
   * order sent). With `clock`, the send's clock moves only as it sleeps. Returns the report and the pauses made.
   */
  async function sendThrough(answer: (call: number) => Promise<Outcome>, clock?: { at: number }) {
    let calls = 0;
    let inFlight = 0;
    const transport: Transport = {
      kind: "smtp",
      description: "a relay",
      verify: async () => {},
      close: async () => {},
      ready: async () => {
        while (inFlight >= 5) await new Promise((resolve) => setTimeout(resolve, 1));
      },
      send: async () => {
        inFlight++;
        try {
          return await answer(calls++);
        } finally {
          inFlight--;
        }
      },
    };
    const paused: number[] = [];
    const report = await sendIssue({
      transport,
      ledger: new Ledger(1),
      journal: { append: () => {} },
      started: new Date(NOW),
      recipients: recipients(12),
      message: async (r) => Buffer.from(`To: ${r.address}\r\n\r\nhello\r\n`),
      envelopeFrom: "news@example.org",
      retryFailed: false,
      dryRun: false,
      limits: { retries: 3, retryDelayMs: 0, stopWhen: { window: 200, failureShare: 0.5 }, drainMs: 0, pause: { firstMs: 20, maxMs: 60_000 } },
      suppress: () => {},
      onInvalid: () => {},
      onPause: (ms) => paused.push(ms),
      ...(clock
        ? {
            now: () => new Date(clock.at),
            sleep: async (ms: number) => {
              await new Promise((resolve) => setTimeout(resolve, ms));
              clock.at += ms;
            },
          }
        : {}),
    });
    return { report, paused };
  }

  it("do not lengthen it: five messages in flight when the limit began, answered one after another after the pause, make one pause", async () => {
    // The first answer after 100 ms, the others 50 ms apart: the pause of 20 ms is over before the second.
    const { report, paused } = await sendThrough(limitedFirst([100, 150, 200, 250, 300]));
    expect(report).toMatchObject({ sent: 12, tempFailed: 0, notSent: 0 });
    expect(paused).toEqual([20]);
  });

  it("do not lengthen it when they went out in the millisecond the pause began", async () => {
    const { report, paused } = await sendThrough(limitedFirst([0, 40, 50, 60, 70]), { at: Date.parse(NOW) });
    expect(report).toMatchObject({ sent: 12, tempFailed: 0, notSent: 0 });
    expect(paused).toEqual([20]);
  });

  it("tell nothing of a recipient's own limit: delivered after its refusal, they do not make its next refusal its own", async () => {
    // The relay limits everything sent in the 400 ms from the first refusal; the four messages past MAIL FROM when
    // it began are delivered after it.
    let began: number | undefined;
    const { report } = await sendThrough((call) => {
      if (call === 0) {
        began = Date.now() + 20;
        return after(20, LIMITED);
      }
      if (call < 5) return after(60, TAKEN);
      return Promise.resolve(began !== undefined && Date.now() - began < 400 ? LIMITED : TAKEN);
    });
    expect(report).toMatchObject({ sent: 12, tempFailed: 0, notSent: 0 });
  });
});
