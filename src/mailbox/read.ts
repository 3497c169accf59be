import { ImapFlow } from "imapflow";
import { maskAddress } from "../audience/address.js";
import type { MailboxConfig } from "../config/schema.js";
import { withoutAddresses, type FeedbackKind, type FeedbackSink } from "../feedback/event.js";
import { classifyMessage } from "./classify.js";
import type { SenderIdentity } from "./identify.js";
import { type ImapSettings } from "./imap.js";
import { PressworkError } from "../errors/error.js";

/** What one pass over the mailbox needs. */
export interface ReadOptions {
  imap: ImapSettings;
  config: MailboxConfig;
  identity: SenderIdentity;
  sink: FeedbackSink;
  /** The clock: the time of events whose report carries no date. */
  now: () => Date;
  /** Classify and report only: record nothing, move nothing. */
  dryRun?: boolean;
  /** Called after each batch, with the totals so far. */
  onProgress?: (report: MailboxReport) => void;
  /** Stops reading (SIGTERM, SIGINT): the batch under way finishes first. */
  signal?: AbortSignal;
}

/** A message that went to the folder for a person. */
export interface AttentionLine {
  folder: string;
  uid: number;
  /** Why, and what it looked like, without an address in clear. */
  reason: string;
}

/** What a pass did. */
export interface MailboxReport {
  read: number;
  /** Messages understood, their events recorded, moved to the processed folder. */
  processed: number;
  /** Messages moved to the folder for a person. */
  attention: AttentionLine[];
  /** Events recorded, by kind. */
  events: Partial<Record<FeedbackKind, number>>;
  /** Messages larger than the read limit, classified from their start. */
  truncated: number;
}

/** A folder name from the config as imapflow's path: `Presswork/Processed` is a child of `Presswork` whatever the server's separator. */
function folderPath(name: string): string | string[] {
  return name.includes("/") ? name.split("/") : name;
}

/** An IMAP client for the settings; imapflow's own logger off (it would log addresses). */
export function imapClient(imap: ImapSettings): ImapFlow {
  return new ImapFlow({
    host: imap.host,
    port: imap.port,
    secure: imap.secure,
    // Required STARTTLS for imap://, unless plaintext is allowed: then used when offered.
    ...(imap.secure || imap.allowPlaintextAuth ? {} : { doSTARTTLS: true }),
    auth: { user: imap.user, pass: imap.password },
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: 30_000,
    greetingTimeout: 15_000,
    socketTimeout: 300_000,
  });
}

/**
 * Reads every message waiting in the configured folders once: each is
 * classified, its events are recorded by the sink, and only then is it moved
 * to the processed folder (or, when it cannot be understood, to the folder
 * for a person); nothing is deleted. A crash between recording and moving
 * reads the message again, and the sink's idempotency makes that harmless.
 * Messages are fetched a batch at a time and at most
 * `maxMessageKilobytes` of each, so memory stays flat whatever the mailbox
 * holds.
 */
export async function readMailbox(client: ImapFlow, options: ReadOptions): Promise<MailboxReport> {
  const report: MailboxReport = { read: 0, processed: 0, attention: [], events: {}, truncated: 0 };
  const { config } = options;
  if (!options.dryRun) {
    for (const folder of [config.processed, config.attention]) {
      await client.mailboxCreate(folderPath(folder)).catch(async (error: unknown) => {
        // Outlook.com and Microsoft 365 refuse to create a folder that exists without saying ALREADYEXISTS (RFC 5530).
        if (!(await folderExists(client, folder))) throw error;
      });
    }
  }
  for (const folder of config.folders) {
    if (options.signal?.aborted) break;
    const lock = await client.getMailboxLock(folderPath(folder)).catch((error: Error & { responseText?: string }) => {
      // Only the server's answer is about the folder; a connection lost on the way is not.
      if (error.responseText === undefined) throw error;
      throw new PressworkError("mailbox-setup", `the folder "${folder}" in mailbox.folders cannot be opened (${error.responseText}): check its name on the server`);
    });
    try {
      // Without a safe expunge (see moveTo) the messages moved are left marked \Deleted: skipped, not read again.
      const uids = (await client.search(expungesSafely(client) ? { all: true } : { deleted: false }, { uid: true })) || [];
      for (let i = 0; i < uids.length && !options.signal?.aborted; i += config.batchSize) {
        await readBatch(client, folder, uids.slice(i, i + config.batchSize), options, report);
        options.onProgress?.(report);
      }
    } finally {
      lock.release();
    }
  }
  return report;
}

/** Bytes of message source fetched at once at most: a batch of large messages is split. */
const BATCH_BYTES = 8 * 1024 * 1024;

async function readBatch(client: ImapFlow, folder: string, uids: number[], options: ReadOptions, report: MailboxReport): Promise<void> {
  const limit = options.config.maxMessageKilobytes * 1024;
  const sizes: Array<{ uid: number; size: number }> = [];
  for await (const message of client.fetch(uids.join(","), { uid: true, size: true }, { uid: true })) sizes.push({ uid: message.uid, size: message.size ?? 0 });
  const processed: number[] = [];
  const attention: number[] = [];
  let group: Array<{ uid: number; size: number }> = [];
  let bytes = 0;
  const flushGroup = async () => {
    if (group.length === 0) return;
    const sources: Array<{ uid: number; size: number; source: Buffer }> = [];
    const bySize = new Map(group.map((g) => [g.uid, g.size]));
    const fetchSources = async (range: string) => {
      for await (const message of client.fetch(range, { uid: true, source: { start: 0, maxLength: limit } }, { uid: true })) {
        if (message.source) sources.push({ uid: message.uid, size: bySize.get(message.uid) ?? message.source.length, source: message.source });
      }
    };
    try {
      await fetchSources(group.map((g) => g.uid).join(","));
    } catch (error) {
      // A server that cannot fetch one message (Yahoo and Office 365 answer NO for some) would stop every run at
      // it: fetched one by one, the rest are read and that one goes to a person. A connection lost is an error.
      if (!client.usable) throw error;
      sources.length = 0;
      for (const { uid } of group) {
        try {
          await fetchSources(String(uid));
        } catch (err) {
          if (!client.usable) throw err;
          report.read++;
          report.attention.push({ folder, uid, reason: `the server could not fetch it: ${withoutAddresses((err as Error & { responseText?: string }).responseText ?? (err as Error).message)}` });
          attention.push(uid);
        }
      }
    }
    group = [];
    bytes = 0;
    for (const { uid, size, source } of sources) {
      report.read++;
      if (size > limit) report.truncated++;
      let outcome;
      try {
        outcome = await classifyMessage(source, { identity: options.identity, now: options.now(), ...(options.config.authservIds ? { authservIds: options.config.authservIds } : {}) });
      } catch (error) {
        report.attention.push({ folder, uid, reason: `could not be parsed: ${withoutAddresses((error as Error).message)}` });
        attention.push(uid);
        continue;
      }
      if (!outcome.understood) {
        report.attention.push({ folder, uid, reason: `${outcome.summary}${describeMessage(source)}` });
        attention.push(uid);
        continue;
      }
      if (!options.dryRun) for (const event of outcome.events) await options.sink.record(event);
      for (const event of outcome.events) report.events[event.kind] = (report.events[event.kind] ?? 0) + 1;
      report.processed++;
      processed.push(uid);
    }
  };
  for (const entry of sizes) {
    const cost = Math.min(entry.size, limit);
    if (group.length > 0 && bytes + cost > BATCH_BYTES) await flushGroup();
    group.push(entry);
    bytes += cost;
  }
  await flushGroup();
  if (options.dryRun) return;
  // Moved only once the events are recorded durably.
  await options.sink.flush?.();
  if (processed.length > 0) await moveTo(client, processed, options.config.processed);
  if (attention.length > 0) await moveTo(client, attention, options.config.attention);
}

/** Whether the server lists `folder` (a config name, `/` between levels), under its namespace's prefix or not. */
async function folderExists(client: ImapFlow, folder: string): Promise<boolean> {
  const path = folderPath(folder);
  return (await client.list()).some((box) => {
    const name = Array.isArray(path) ? path.join(box.delimiter) : path;
    return box.path === name || box.path.endsWith(`${box.delimiter}${name}`);
  });
}

/** Whether the server removes only the messages named (MOVE, or UID EXPUNGE from UIDPLUS). */
function expungesSafely(client: ImapFlow): boolean {
  return client.capabilities.has("MOVE") || client.capabilities.has("UIDPLUS");
}

/**
 * Moves messages to `folder`: MOVE, or COPY, \Deleted and UID EXPUNGE. A
 * server with neither MOVE nor UIDPLUS has only a plain EXPUNGE, which also
 * removes every message a person marked deleted (RFC 4315): there they are
 * copied and marked \Deleted, and left for the person's mail program to
 * expunge. A move the server refuses is an error: the events are recorded,
 * and the next run reads the messages again.
 */
async function moveTo(client: ImapFlow, uids: number[], folder: string): Promise<void> {
  const range = uids.join(",");
  const path = folderPath(folder);
  const moved = expungesSafely(client)
    ? await client.messageMove(range, path, { uid: true })
    : (await client.messageCopy(range, path, { uid: true })) && (await client.messageFlagsAdd(range, ["\\Deleted"], { uid: true }));
  if (!moved) throw new PressworkError("mailbox-unavailable", `the IMAP server did not move ${uids.length} message(s) to "${folder}" (is the mailbox over its quota, or may this login not add to that folder?): their events are recorded, and the next run reads them again`);
}

/** ` (from j***@example.com, "subject")` for the report: the sender masked, addresses in the subject replaced. */
function describeMessage(source: Buffer): string {
  const end = source.indexOf("\n\n") >= 0 ? Math.min(source.indexOf("\n\n"), source.indexOf("\r\n\r\n") >= 0 ? source.indexOf("\r\n\r\n") : Infinity) : source.length;
  const head = source.subarray(0, Math.min(end, 65536)).toString("utf8").replace(/\r?\n[ \t]+/g, " ");
  const from = /^from:\s*(.*)$/im.exec(head)?.[1] ?? "";
  const address = /[^\s<>"']+@[^\s<>"']+/.exec(from)?.[0];
  const subject = withoutAddresses(/^subject:\s*(.*)$/im.exec(head)?.[1] ?? "").slice(0, 80);
  const parts = [address ? `from ${maskAddress(address)}` : "", subject ? `"${subject}"` : ""].filter(Boolean);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/** How `presswork mailbox` runs: one pass, or passes until stopped. */
export interface RunOptions extends ReadOptions {
  /** One pass over what is waiting, then return. */
  once: boolean;
  /** Called after each pass. */
  onPass?: (report: MailboxReport) => void;
  /** Called when a pass fails while watching; the connection is made again after `pollSeconds`, unless it throws. */
  onError?: (error: Error) => void;
}

/**
 * Connects and reads the mailbox: once, or over and over, waking when the
 * first folder gets a message (IMAP IDLE) or every `pollSeconds`, and
 * connecting again after a dropped connection. Returns the last pass's report.
 */
export async function runMailbox(options: RunOptions): Promise<MailboxReport> {
  let last: MailboxReport = { read: 0, processed: 0, attention: [], events: {}, truncated: 0 };
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const stop = () => (clearTimeout(timer), resolve());
      const timer = setTimeout(() => (options.signal?.removeEventListener("abort", stop), resolve()), ms);
      options.signal?.addEventListener("abort", stop, { once: true });
    });
  while (!options.signal?.aborted) {
    const client = imapClient(options.imap);
    client.on("error", () => {});
    // Mail that arrives during a pass is announced then (an EXISTS answer to a fetch or move), not again in IDLE.
    let arrived = false;
    client.on("exists", (change: { count: number; prevCount: number }) => {
      if (change.count > change.prevCount) arrived = true;
    });
    try {
      await client.connect();
      do {
        arrived = false;
        last = await readMailbox(client, options);
        options.onPass?.(last);
        if (options.once || options.signal?.aborted) break;
        if (!arrived) await waitForMail(client, options);
      } while (!options.signal?.aborted);
      await client.logout().catch(() => {});
      return last;
    } catch (error) {
      client.close();
      if (options.once) throw error;
      options.onError?.(error as Error);
      await pause(options.config.pollSeconds * 1000);
    }
  }
  return last;
}

/** The longest one IDLE lasts: servers may end one after 30 minutes of silence (RFC 2177), so it is ended before. */
const IDLE_MAX_MS = 25 * 60 * 1000;

/** Waits in IDLE on the first folder until a message arrives, `pollSeconds` (at most 25 minutes) pass, or the signal stops it. */
async function waitForMail(client: ImapFlow, options: RunOptions): Promise<void> {
  const lock = await client.getMailboxLock(folderPath(options.config.folders[0] as string));
  try {
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        client.off("exists", done);
        client.off("close", closed);
        options.signal?.removeEventListener("abort", done);
        resolve();
      };
      const closed = () => reject(new PressworkError("mailbox-unavailable", "the IMAP server closed the connection"));
      const timer = setTimeout(done, Math.min(options.config.pollSeconds * 1000, IDLE_MAX_MS));
      client.on("exists", done);
      client.once("close", closed);
      options.signal?.addEventListener("abort", done, { once: true });
      client.idle().catch(() => {});
    });
  } finally {
    lock.release();
  }
}
