import { createReadStream } from "node:fs";
import { mkdir, open, stat, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import type { FeedbackEvent, FeedbackSink } from "../feedback/event.js";

/** One line of the events file: the event without the address, which never leaves memory. */
export type StoredEvent = Omit<FeedbackEvent, "recipient"> & { key?: string; via?: string };

/**
 * Feedback events appended to a JSON Lines file, one event a line, keyed
 * hashes only (no address). Idempotent: an event whose id the file holds is
 * not written again. A torn last line from a crash is skipped when read.
 */
export class JsonLinesSink implements FeedbackSink {
  private constructor(
    private readonly handle: FileHandle,
    private readonly seen: Set<string>,
    private needsNewline: boolean,
  ) {}

  /** Opens (or creates) the file and reads the ids it already holds. */
  static async open(path: string): Promise<JsonLinesSink> {
    await mkdir(dirname(path), { recursive: true });
    const seen = new Set<string>();
    let needsNewline = false;
    const size = await stat(path).then((s) => s.size, () => 0);
    if (size > 0) {
      const lines = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity });
      for await (const line of lines) {
        try {
          const id = (JSON.parse(line) as { id?: unknown }).id;
          if (typeof id === "string") seen.add(id);
        } catch {
          // A torn line: its event was not recorded and will be again.
        }
      }
      const handle = await open(path, "r");
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      await handle.close();
      needsNewline = last[0] !== 0x0a;
    }
    return new JsonLinesSink(await open(path, "a"), seen, needsNewline);
  }

  /** Whether an event with this id is recorded. */
  has(id: string): boolean {
    return this.seen.has(id);
  }

  async record(event: FeedbackEvent): Promise<void> {
    if (this.seen.has(event.id)) return;
    const { recipient, ...rest } = event;
    const stored: StoredEvent = { ...rest, ...(recipient ? { key: recipient.key, via: recipient.via } : {}) };
    await this.handle.write(`${this.needsNewline ? "\n" : ""}${JSON.stringify(stored)}\n`);
    this.needsNewline = false;
    this.seen.add(event.id);
  }

  async flush(): Promise<void> {
    await this.handle.sync();
  }

  async close(): Promise<void> {
    await this.handle.sync();
    await this.handle.close();
  }
}
