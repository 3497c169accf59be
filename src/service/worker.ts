import { type Transport } from "../delivery/transport.js";
import { maskAddress } from "../audience/address.js";
import { unsubscribeUrl } from "../issues/message.js";
import { CONFIRM_DAYS, confirmToken } from "../issues/tokens.js";
import { unsubscribeMailto } from "../issues/verp.js";
import type { NewsletterConfig } from "../config/schema.js";
import { randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { hostname } from "node:os";
import { running } from "../state/process.js";
import { claimantName, claimDue, markFailed, markSent, reclaimStale, release, type ClaimedMail, type Claimant } from "../store/queue.js";
import { awaitsConfirmation, type SubscriberList } from "../store/subscribers.js";
import type { ServiceMail } from "./mail.js";
import { isPressworkError } from "../errors/error.js";

/** What the worker needs. */
export interface WorkerOptions {
  list: SubscriberList;
  mail: ServiceMail;
  transport: Transport;
  newsletter: NewsletterConfig;
  secret: string;
  /** The service's public URL, ending in "/": confirmation links start with it. */
  publicUrl: string;
  log: (level: "info" | "warn" | "error", message: string) => void;
  /** Milliseconds between looks at the queue when nothing woke the worker (default 2000). */
  pollMs?: number;
  now?: () => Date;
}

/** How long a claimed mail is held before another worker may take it (a worker that died). */
const LEASE_MS = 5 * 60_000;
/** How long a stop waits for the mail in hand: with the requests' grace, within a container's 10 seconds. */
const STOP_WAIT_MS = 3_000;
/** Mails claimed at once. */
const BATCH = 20;

/**
 * Sends the service's queued mail (the transactional outbox): claims due
 * rows, builds each message when it goes (so a confirmation link is fresh
 * and a mail to someone who unsubscribed meanwhile is dropped), sends it
 * through the send's transport, and records the outcome. A crash between
 * sending and recording sends that mail again: at least once, never lost.
 */
export class MailWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private pausedUntil = 0;
  private verified = false;
  private readonly now: () => Date;
  private readonly claimant: Claimant = { host: hostname(), pid: process.pid, instance: randomBytes(6).toString("hex") };
  private reclaimed = false;

  constructor(private readonly options: WorkerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** Starts looking at the queue every few seconds; first takes back what a killed worker of this host held. */
  start(): void {
    this.schedule(0);
  }

  /** Looks at the queue now (something was just queued). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  /**
   * Stops after the mail in hand is sent and recorded, or, when its server
   * takes longer than STOP_WAIT_MS (one that never answers holds it for its
   * timeouts, a minute), cuts the connection: the mail is not recorded as
   * sent, and goes when the service runs again.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const settled = this.running ? await Promise.race([this.running.then(() => true), delay(STOP_WAIT_MS, false, { ref: false })]) : true;
    await this.options.transport.close(settled ? {} : { force: true });
  }

  /** Sends every due mail, then returns (for tests and the command line). */
  async drain(): Promise<void> {
    while (!this.stopped && (await this.batch()) > 0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.loop().finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.schedule(0);
        } else this.schedule(this.options.pollMs ?? 2000);
      });
    }, ms);
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    if (Date.now() < this.pausedUntil) return;
    try {
      while (!this.stopped && (await this.batch()) === BATCH);
    } catch (error) {
      this.options.log("error", `mail queue: ${(error as Error).message}; trying again shortly`);
    }
  }

  /** Claims and sends one batch; returns how many mails it claimed. */
  private async batch(): Promise<number> {
    if (!this.reclaimed) {
      const taken = await reclaimStale(this.options.list.store, this.claimant, this.now(), running);
      this.reclaimed = true;
      if (taken > 0) this.options.log("info", `mail queue: took back ${taken} mail(s) a killed worker of this host had claimed; they go now`);
    }
    const claimed = await claimDue(this.options.list.store, this.now(), BATCH, LEASE_MS, claimantName(this.claimant));
    for (const [i, mail] of claimed.entries()) {
      if (this.stopped || !(await this.deliver(mail))) {
        await release(this.options.list.store, claimed.slice(i + (this.stopped ? 0 : 1)).map((m) => m.id));
        return 0;
      }
    }
    return claimed.length;
  }

  /** Sends one mail and records the outcome; false when sending must pause (the server refuses us altogether). */
  private async deliver(mail: ClaimedMail): Promise<boolean> {
    const { list, newsletter, secret, publicUrl, transport } = this.options;
    const now = this.now();
    const wanted = mail.kind === "confirm" ? awaitsConfirmation(mail.status, mail.nonce) : mail.status === "active";
    if (!wanted) {
      await markFailed(list.store, mail, `not sent: the subscriber is ${mail.status} now`, now, true);
      return true;
    }
    const values = {
      address: mail.email,
      name: mail.name,
      id: `${mail.id}.${mail.addressKey}`,
      date: now,
      ...(mail.kind === "confirm" && mail.nonce
        ? { confirmUrl: `${publicUrl}confirm?token=${encodeURIComponent(confirmToken(mail.nonce, list.list, new Date(now.getTime() + CONFIRM_DAYS * 86_400_000), secret))}` }
        : {}),
      unsubscribeUrl: unsubscribeUrl(newsletter, mail.email, secret, mail.addressKey),
      // Tagged as the issues' are when the mailbox takes tagged addresses (newsletter.bounces says so); the token names no issue.
      unsubscribeMailto: unsubscribeMailto({ address: newsletter.unsubscribe.mailto, ...(newsletter.bounces ? { delimiter: newsletter.bounces.delimiter } : {}) }, { key: mail.addressKey }, secret),
    };
    let outcome;
    try {
      if (!this.verified) {
        await transport.verify();
        this.verified = true;
      }
      const raw = await this.options.mail.build(mail.kind, values);
      outcome = await transport.send({ key: `${mail.addressKey}.${mail.kind}-${mail.id}`, envelope: { from: newsletter.from.address, to: mail.email }, raw });
    } catch (error) {
      await markFailed(list.store, mail, (error as Error).message, now, false);
      if (isPressworkError(error, "smtp-unavailable", "smtp-setup")) {
        // Authentication, TLS, nothing listening: no use trying the rest now.
        this.verified = false;
        this.pausedUntil = Date.now() + 60_000;
        this.options.log("error", `mail queue paused for a minute: ${error.message}`);
        return false;
      }
      this.options.log("error", `${mail.kind} mail not built: ${(error as Error).message}`);
      return true;
    }
    const who = maskAddress(mail.email);
    if (outcome.state === "sent") {
      await markSent(list.store, mail.id, this.now());
      this.options.log("info", `${mail.kind} mail sent to ${who}`);
    } else if (outcome.state === "bounced") {
      await markFailed(list.store, mail, outcome.response, now, true);
      await list.record({ id: `mail-${mail.id}`, type: "bounced", bounce: "hard", key: mail.addressKey, at: now, source: "service-mail", detail: outcome.response });
      this.options.log("warn", `${mail.kind} mail to ${who} refused for good (${outcome.code}): the address is recorded as bounced`);
    } else if (outcome.state === "outboxed") {
      await markSent(list.store, mail.id, this.now());
      this.options.log("info", `${mail.kind} mail to ${who} written to the outbox, not sent`);
    } else if (outcome.state === "failed") {
      await markFailed(list.store, mail, outcome.response, now, true);
      this.options.log("warn", `${mail.kind} mail to ${who} refused (${outcome.code}): given up, the address stays as it is`);
    } else if (outcome.state === "refused") {
      // The server refuses the sender or the message, not this recipient: keep it queued and pause.
      await markFailed(list.store, mail, outcome.response, now, false);
      this.pausedUntil = Date.now() + 60_000;
      this.options.log("error", `mail queue paused for a minute: the server refused the ${mail.kind} mail at ${outcome.command} (${outcome.response})`);
      return false;
    } else {
      const next = await markFailed(list.store, mail, outcome.response, now, false);
      this.options.log("warn", `${mail.kind} mail to ${who} not sent (${outcome.response})${next === "failed" ? ": given up" : ": will try again"}`);
    }
    return true;
  }
}
