/** A message ready for the wire. */
export interface Outgoing {
  /** Keyed hash of the recipient: names the message in the ledger and the outbox. */
  key: string;
  envelope: { from: string; to: string };
  raw: Buffer;
}

/** What the server (or the outbox) said about one message. */
export type Outcome =
  | { state: "sent"; code: number; response: string }
  /** 4xx, a dropped connection or a timeout: worth another try. */
  | { state: "retry"; code?: number; response: string }
  /** 5xx: never again to this address. */
  | { state: "rejected"; code: number; response: string };

/** A failure no retry can fix (authentication, TLS, nothing listening): the send stops at once. */
export class FatalTransportError extends Error {}

/** Where messages go: an SMTP pool or the outbox. Listmonk's messenger, in small. */
export interface Transport {
  /** Sends one message; never throws for a refused message, only for a FatalTransportError. */
  send(message: Outgoing): Promise<Outcome>;
  /** Checks that sending can work at all before the first message. */
  verify(): Promise<void>;
  close(): Promise<void>;
  /** How many messages may be in flight at once. */
  readonly concurrency: number;
  /** What the transport is, for the report: never a password. */
  readonly description: string;
}
