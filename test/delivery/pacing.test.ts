import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Recipient } from "../../src/audience/audience.js";
import { Ledger } from "../../src/delivery/ledger.js";
import { OutboxTransport } from "../../src/delivery/outbox.js";
import { sendIssue } from "../../src/delivery/send.js";

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function* recipients(n: number): AsyncGenerator<Recipient> {
  for (let i = 0; i < n; i++) yield { address: `r${i}@example.org`, key: `key${i}`, fields: {} };
}

describe("pacing a send", () => {
  it("keeps to the hourly cap: the third message waits for the hour to pass", async () => {
    const dir = await mkdtemp(join(tmpdir(), "presswork-pacing-"));
    dirs.push(dir);
    let clock = Date.parse("2026-11-29T12:00:00Z");
    const waits: number[] = [];
    const sentAt: number[] = [];
    const transport = new OutboxTransport(join(dir, "outbox"));
    await transport.verify();
    const send = transport.send.bind(transport);
    transport.send = async (message) => {
      sentAt.push(clock);
      return send(message);
    };
    const report = await sendIssue({
      issue: 1,
      transport,
      ledger: Ledger.open(join(dir, "ledger.jsonl")),
      recipients: recipients(5),
      message: async (r) => Buffer.from(`To: ${r.address}\r\n\r\nhello\r\n`),
      messageIdOf: (r) => `<${r.key}@example.org>`,
      envelopeFrom: "news@example.org",
      retryFailed: false,
      dryRun: false,
      limits: { retries: 0, retryDelayMs: 0, hourlyLimit: 2, stopWhen: { first: 200, failureShare: 0.1 } },
      suppress: () => {},
      now: () => new Date(clock),
      sleep: async (ms) => {
        waits.push(ms);
        clock += ms;
      },
    });
    expect(report.sent).toBe(5);
    expect(await readdir(join(dir, "outbox"))).toHaveLength(5);
    const hours = sentAt.map((t) => Math.floor((t - sentAt[0]!) / 3_600_000));
    expect(hours).toEqual([0, 0, 1, 1, 2]);
    expect(waits.every((ms) => ms > 0 && ms <= 3_600_000)).toBe(true);
  });
});
