import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Recipient } from "../../src/audience/audience.js";
import { Ledger } from "../../src/state/ledger.js";
import { OutboxTransport } from "../../src/delivery/outbox.js";
import { sendIssue } from "../../src/delivery/send.js";
import type { Transport } from "../../src/delivery/transport.js";

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function* recipients(n: number): AsyncGenerator<Recipient> {
  for (let i = 0; i < n; i++) yield { address: `r${i}@example.org`, key: i.toString(16).padStart(24, "0"), fields: {}, line: i + 2 };
}

/** Sends to `n` recipients through the outbox on a fake clock; returns when each message went and the waits asked for. */
async function pacedSend(n: number, limits: { hourlyLimit?: number; messagesPerSecond?: number }) {
  const dir = await mkdtemp(join(tmpdir(), "presswork-pacing-"));
  dirs.push(dir);
  let clock = Date.parse("2026-11-29T12:00:00Z");
  const waits: number[] = [];
  const sentAt: number[] = [];
  const outbox = new OutboxTransport(join(dir, "outbox"));
  await outbox.verify();
  let busy = false;
  const transport: Transport = {
    kind: "smtp",
    description: outbox.description,
    verify: async () => {},
    close: async () => {},
    // One message at a time: a fake clock cannot let several sleep side by side.
    ready: async () => {
      while (busy) await new Promise((resolve) => setImmediate(resolve));
    },
    send: async (message) => {
      busy = true;
      sentAt.push(clock);
      await outbox.send(message);
      busy = false;
      return { state: "sent", code: 250, response: "250 ok" };
    },
  };
  const report = await sendIssue({
    transport,
    ledger: new Ledger(1),
    journal: { append: () => {} },
    started: new Date(clock),
    recipients: recipients(n),
    message: async (r) => Buffer.from(`To: ${r.address}\r\n\r\nhello\r\n`),
    envelopeFrom: "news@example.org",
    retryFailed: false,
    dryRun: false,
    limits: { retries: 0, retryDelayMs: 0, stopWhen: { window: 200, failureShare: 0.1 }, drainMs: 0, ...limits },
    suppress: () => {},
    onInvalid: () => {},
    now: () => new Date(clock),
    sleep: async (ms) => {
      waits.push(ms);
      clock += ms;
    },
  });
  expect(report.sent).toBe(n);
  expect(await readdir(join(dir, "outbox"))).toHaveLength(n);
  return { offsets: sentAt.map((t) => t - sentAt[0]!), waits };
}

describe("pacing a send", () => {
  it("keeps to the hourly cap: the third message waits for the hour to pass", async () => {
    const { offsets, waits } = await pacedSend(5, { hourlyLimit: 2 });
    expect(offsets.map((t) => Math.floor(t / 3_600_000))).toEqual([0, 0, 1, 1, 2]);
    expect(waits.every((ms) => ms > 0 && ms <= 3_600_000)).toBe(true);
  });

  it("spaces messages evenly to the rate limit, fractions of one a second included", async () => {
    expect((await pacedSend(4, { messagesPerSecond: 4 })).offsets).toEqual([0, 250, 500, 750]);
    expect((await pacedSend(3, { messagesPerSecond: 0.5 })).offsets).toEqual([0, 2000, 4000]);
  });
});
