import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Outcome, Outgoing, Transport } from "./transport.js";

/** Files written at once by the outbox. */
const OUTBOX_CONCURRENCY = 8;

/**
 * The transport for `--outbox`: each message becomes an .eml file and
 * nothing leaves the machine. Its deliveries are "outboxed", never "sent".
 */
export class OutboxTransport implements Transport {
  readonly kind = "outbox";
  readonly description: string;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly dir: string) {
    this.description = `the outbox ${dir} (--outbox: nothing leaves this machine)`;
  }

  async verify(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  async ready(): Promise<void> {
    while (this.inFlight >= OUTBOX_CONCURRENCY) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  async send(message: Outgoing): Promise<Outcome> {
    this.inFlight++;
    try {
      await writeFile(join(this.dir, `${message.key}.eml`), message.raw);
      return { state: "outboxed", response: "written to the outbox" };
    } catch (error) {
      return { state: "refused", command: "write", response: `the outbox cannot be written: ${(error as Error).message}` };
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }

  async close(): Promise<void> {}
}
