/**
 * What each command does, in a line: its own help shows it, and so does the
 * list `presswork --help` prints, which loads no command to print it
 * (loading them all, the service's HTTP server among them, took 0.5 to
 * 0.7 s). That list knows a command by its name and this line only: a
 * command given an alias or hidden from help needs it there too (main.ts).
 */
export const ABOUT = {
  build: "Build the site and the feeds from articles/ into dist/",
  check: "Report every problem in the config, articles (drafts too) and templates",
  new: "Create a draft article with today's date, a unique slug and a permanent id",
  issue: "Show the next email issue (number, subject, preheader, articles) and whether one is due by the cadence. Sends nothing",
  send: "Send the due issue to the subscribers through SMTP (SMTP_URL), or with --outbox write the messages to outbox/ instead",
  state: "The send's state (its git branch, or the database): fetch it, save what this machine has not saved, show it, or list the GitHub runs whose sends still hold a lock",
  preview: "Serve the site, the next email and a mail catcher on 127.0.0.1, rebuilding on every change",
  mailbox: "Read bounces, complaints and unsubscribe mail from the IMAP mailbox (IMAP_URL) and record what they say",
  serve: "Run the subscription service: subscribe, confirm, one-click unsubscribe, the subscriber API (DATABASE_URL, PRESSWORK_SECRET, SMTP_URL, PRESSWORK_API_TOKEN)",
  subscribers: "The subscriber list in the database (DATABASE_URL): import FILE | export | add EMAIL | remove EMAIL | forget EMAIL | count | show EMAIL",
  websub: "Ping the feeds.hub WebSub hub for every feed in the built site that changed since the last ping",
} as const;
