/** A private Dovecot IMAP server on loopback. */
export interface TestDovecot {
  port: number;
  /** Its temporary folder (config, mail store, log). */
  dir: string;
  /** With TLS: the self-signed certificate it offers over STARTTLS. */
  ca?: string;
  /** An IMAP URL for a user (any name logs in, with the test password); without TLS, one that allows a login in clear. */
  url: (user?: string) => string;
  /** Dovecot's log so far. */
  log: () => string;
  /** Stops it and removes its folder. */
  stop: () => Promise<void>;
}
/** The password every test user has. */
export const IMAP_PASSWORD: string;
/** Why Dovecot cannot run on this machine, or undefined when it can. */
export function dovecotUnavailable(): string | undefined;
/** Starts a private Dovecot, with extra lines of configuration and, with `tls`, STARTTLS on a self-signed certificate; rejects with its own words when it does not start. */
export function startDovecot(extra?: string[], options?: { tls?: boolean }): Promise<TestDovecot>;
