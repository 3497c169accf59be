/** A message ready for the wire. */
export interface Outgoing {
  /** Keyed hash of the recipient: names the message in the ledger and the outbox. */
  key: string;
  envelope: { from: string; to: string };
  raw: Buffer;
}

/**
 * What became of one message, classified by what the server's reply was
 * about (see classify.ts): the message, this recipient, or the whole send.
 */
export type Outcome =
  | { state: "sent"; code: number; response: string }
  /** Written to the outbox: nothing left the machine. */
  | { state: "outboxed"; response: string }
  /**
   * 4xx, a dropped connection or a timeout: worth another try later. `relay`: no connection could be opened for it, which is no try of the recipient's.
   * `throttled`: the relay limits the sender's rate, an answer about the whole send (which pauses), not a try of the recipient's either.
   */
  | { state: "retry"; code?: number; response: string; relay?: true; throttled?: true }
  /** The relay is unavailable (connections keep failing to open): the send must stop, and run again later. */
  | { state: "unavailable"; response: string }
  /** A 5xx to RCPT TO about the mailbox itself (5.1.x, 5.2.1): never mail the address again. */
  | { state: "bounced"; code: number; response: string }
  /** A 5xx to RCPT TO that does not say the mailbox is gone: failed for this issue, not suppressed. `policy`: a policy refusal (5.7.x, 554). */
  | { state: "failed"; code: number; response: string; policy?: true }
  /** The message or the account was refused (MAIL FROM, DATA, 552/554, 5.7.x, authentication): the send must stop. */
  | { state: "refused"; code?: number; command: string; response: string };


/** Where messages go: an SMTP pool or the outbox. Listmonk's messenger, in small. */
export interface Transport {
  /** Sends one message; never throws, every failure is an Outcome. */
  send(message: Outgoing): Promise<Outcome>;
  /** Resolves when the transport can take another message without a backlog (a free connection in the SMTP pool). */
  ready(): Promise<void>;
  /** Checks that sending can work at all before the first message; throws a FatalTransportError. */
  verify(): Promise<void>;
  /** Closes the transport; `force` also cuts the connections that are carrying a message. */
  close(options?: { force?: boolean }): Promise<void>;
  /** "smtp" delivers; "outbox" only writes files, and its deliveries never count as sent. */
  readonly kind: "smtp" | "outbox";
  /** What the transport is, for the report: never a password. */
  readonly description: string;
}
