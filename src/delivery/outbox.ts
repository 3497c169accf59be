import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Outcome, Outgoing, Transport } from "./transport.js";

/** The transport used when no SMTP server is configured: each message becomes an .eml file. */
export class OutboxTransport implements Transport {
  readonly concurrency = 8;
  readonly description: string;

  constructor(private readonly dir: string) {
    this.description = `the outbox ${dir} (no SMTP_URL set: nothing leaves this machine)`;
  }

  async verify(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  async send(message: Outgoing): Promise<Outcome> {
    await writeFile(join(this.dir, `${message.key}.eml`), message.raw);
    return { state: "sent", code: 250, response: "250 written to the outbox" };
  }

  async close(): Promise<void> {}
}
