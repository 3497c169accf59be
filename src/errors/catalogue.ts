/**
 * Every error Presswork raises, by id: what it means, the exit code the
 * command ends with, and a hint printed under the message when one helps.
 * Scripts may rely on the ids and the exit codes; the messages are for people.
 */

/** Exit codes, by what a script can do about the failure. */
export const EXIT = {
  /** The input has problems (articles, templates, config, a subscriber list), or some deliveries failed: fix and run again. */
  problem: 1,
  /** The command was called wrongly: a flag, an argument. */
  usage: 2,
  /** A setting or a secret is missing or wrong (environment, config): nothing was done. */
  setup: 3,
  /** Something outside is busy or unreachable (another send's lock, a server, a database, a remote): run again later. */
  unavailable: 4,
  /** Saved state is damaged or belongs elsewhere: a person must look before anything is sent or pinged. */
  damaged: 5,
  /** A bug in Presswork: report it with PRESSWORK_DEBUG=1 output. */
  internal: 70,
} as const;

/** One entry of the catalogue. */
export interface CatalogueEntry {
  /** Exit code of a command that ends with this error. */
  readonly exit: (typeof EXIT)[keyof typeof EXIT];
  /** What the error means, for the README and `--help` readers. */
  readonly summary: string;
  /** Printed under the message, when the message alone does not say what to do. */
  readonly hint?: string;
}

/** The catalogue. Ids are stable: add new ones, never rename. */
export const ERRORS = {
  usage: { exit: EXIT.usage, summary: "a flag or argument is missing, unknown or malformed" },
  setup: { exit: EXIT.setup, summary: "a secret or a section of the config the command needs is missing or contradicts another" },
  content: { exit: EXIT.problem, summary: "articles, templates or config have errors; each is printed with its file and line" },
  "header-injection": { exit: EXIT.problem, summary: "a mail header (subject, name, from) would contain a line break" },
  "token-unknown": { exit: EXIT.problem, summary: "a template uses a personalisation token Presswork does not know", hint: "The tokens are listed in the README under \"Email issues\"." },
  "subscriber-list": { exit: EXIT.problem, summary: "the subscriber list cannot be read as a list (no email column, malformed CSV or JSON)" },
  "subscriber-refused": { exit: EXIT.problem, summary: "the subscriber list refuses the change (a suppressed or unsubscribed address)" },
  "output-foreign": { exit: EXIT.setup, summary: "the output folder holds files Presswork did not write" },
  "output-write": { exit: EXIT.problem, summary: "the output folder cannot be written" },
  "site-unbuilt": { exit: EXIT.problem, summary: "there is no built site where the command looks for one (run presswork build first)" },
  "render-cache": { exit: EXIT.problem, summary: "the render cache lost part of itself" },
  "send-setup": { exit: EXIT.setup, summary: "the send cannot start: a setting, a secret, the list or the state is missing or not allowed" },
  "send-refused": { exit: EXIT.problem, summary: "the send was stopped before mailing: the test message was refused, or the last issue drew too many complaints" },
  "send-heap": { exit: EXIT.problem, summary: "the send ran out of its memory limit" },
  "smtp-setup": { exit: EXIT.setup, summary: "SMTP_URL or SMTP_PORT is malformed, or the SMTP server refused the login or needs TLS the settings do not allow" },
  "smtp-unavailable": { exit: EXIT.unavailable, summary: "the SMTP server cannot be reached, did not answer or is busy: nothing was sent, or the send stopped where it was and the same command run later mails those still owed the issue" },
  "verp-address": { exit: EXIT.setup, summary: "the bounce or unsubscribe address built from the configured mailbox is too long for SMTP" },
  locked: { exit: EXIT.unavailable, summary: "another send holds the lock of this issue" },
  "state-setup": { exit: EXIT.setup, summary: "where the send keeps its state is not configured, or not reachable as configured" },
  "state-save": { exit: EXIT.unavailable, summary: "the send's state cannot be read or saved; nothing more is mailed", hint: "Once the store is reachable, run presswork state save where the attempt's journal is (.presswork-state/), then the send; under GitHub Actions, \"Re-run failed jobs\": it restores the journal from the send-state artifact before it sends. A send without the journal mails again those mailed since the last save." },
  "state-damaged": { exit: EXIT.damaged, summary: "the send's state is damaged or belongs to another issue; the send does not start" },
  "websub-state": { exit: EXIT.damaged, summary: "the `presswork websub --state` file is not the state websub writes (a folder, another file, damaged JSON); nothing is pinged", hint: "Point --state at the state file presswork websub writes; if that file is damaged, delete it and the next run pings every feed." },
  git: { exit: EXIT.unavailable, summary: "a git command on the state branch failed" },
  "database-url": { exit: EXIT.setup, summary: "DATABASE_URL is not a PostgreSQL or SQLite address" },
  "database-unavailable": { exit: EXIT.unavailable, summary: "the database cannot be opened" },
  "database-read-only": { exit: EXIT.setup, summary: "this user cannot write the SQLite database file or its folder" },
  "database-refused": { exit: EXIT.setup, summary: "the database server refused DATABASE_URL's user name, password or database" },
  "database-migration": { exit: EXIT.unavailable, summary: "the database schema cannot be brought up to date" },
  "mailbox-setup": { exit: EXIT.setup, summary: "IMAP_URL, its login or a mailbox folder is missing or wrong" },
  "mailbox-unavailable": { exit: EXIT.unavailable, summary: "the IMAP server cannot be reached, or closed the connection" },
  "service-setup": { exit: EXIT.setup, summary: "`presswork serve` is missing a setting or a secret" },
  "service-listen": { exit: EXIT.unavailable, summary: "`presswork serve` or `presswork preview` cannot listen on its port" },
  "request-refused": { exit: EXIT.problem, summary: "`presswork serve` refused a form's body (a file, a field given twice, too many or too long fields): answered 400 or 413" },
  "feedback-report": { exit: EXIT.unavailable, summary: "bounces could not be reported back to the subscription service" },
  "webhook-certificate": { exit: EXIT.unavailable, summary: "a webhook's signing certificate could not be fetched" },
  system: { exit: EXIT.problem, summary: "the operating system refused a file or network operation (permission, disk full, a file gone); the message names it" },
  internal: { exit: EXIT.internal, summary: "a bug: something Presswork relies on did not hold", hint: "Run again with PRESSWORK_DEBUG=1 and report the output." },
} as const satisfies Record<string, CatalogueEntry>;

/** The id of a catalogue entry. */
export type ErrorId = keyof typeof ERRORS;
