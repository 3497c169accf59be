import { appendFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { defineCommand } from "citty";
import { loadProjectConfig } from "../../config/load.js";
import { PLAINTEXT_AUTH_PARAM } from "../../config/url-part.js";
import type { FeedbackSink } from "../../feedback/event.js";
import { DatabaseSink, type SinkCounts } from "../../feedback/store-sink.js";
import { senderIdentity } from "../../mailbox/identify.js";
import { imapFromEnv } from "../../mailbox/imap.js";
import { JsonLinesSink } from "../../mailbox/jsonl-sink.js";
import { runMailbox, type MailboxReport } from "../../mailbox/read.js";
import { databaseInUse, openStore, type Store } from "../../store/database.js";
import { SubscriberList } from "../../store/subscribers.js";
import { report } from "../report.js";
import { io } from "../io.js";
import { isPressworkError, PressworkError } from "../../errors/error.js";
import { ABOUT } from "./about.js";

/** `presswork mailbox`: bounces, complaints and unsubscribe mail from IMAP into feedback events. */
export const mailboxCommand = defineCommand({
  meta: { name: "mailbox", description: ABOUT.mailbox },
  args: {
    once: { type: "boolean", description: "Read what is waiting, then exit (default: keep watching)", default: false },
    events: { type: "string", description: "Also append the events to this JSON Lines file (default: PRESSWORK_FEEDBACK_FILE); without a database, the only record", valueHint: "FILE" },
    "dry-run": { type: "boolean", description: "Classify and report; record and move nothing", default: false },
  },
  async run({ args }) {
    const root = io.root();
    const secret = process.env["PRESSWORK_SECRET"];
    if (!secret) throw new PressworkError("setup", "PRESSWORK_SECRET is not set: it checks the tokens in bounce and unsubscribe addresses and keys the address hashes. Use the value the send uses");
    const loaded = await loadProjectConfig(root);
    if (!loaded.config) {
      report([loaded.file], io.err);
      io.fail(1);
      return;
    }
    const newsletter = loaded.config.newsletter;
    if (!newsletter) throw new PressworkError("setup", "no newsletter is configured: add a newsletter section to presswork.config.yaml");
    const mailbox = loaded.config.mailbox;
    const overlap = mailbox.folders.find((f) => f === mailbox.processed || f === mailbox.attention);
    if (overlap) throw new PressworkError("mailbox-setup", `mailbox.folders names "${overlap}", which is where messages are moved to: read other folders`);
    const eventsFile = args.events ?? process.env["PRESSWORK_FEEDBACK_FILE"];
    const withDatabase = databaseInUse(process.env["DATABASE_URL"], root);
    if (!eventsFile && !withDatabase && !args["dry-run"]) {
      throw new PressworkError("mailbox-setup", "say where to record the events: set DATABASE_URL (the subscriber database, where they change the list), or --events FILE or PRESSWORK_FEEDBACK_FILE (a JSON Lines file; keyed hashes only, no address)");
    }
    const imap = imapFromEnv(process.env);
    const sinks: FeedbackSink[] = [];
    let database: DatabaseSink | undefined;
    let store: Store | undefined;
    if (withDatabase && !args["dry-run"]) {
      try {
        store = await openStore({ url: process.env["DATABASE_URL"], root, poolSize: 2 });
      } catch (error) {
        throw isPressworkError(error) ? error : new PressworkError("database-unavailable", `cannot open the database: ${(error as Error).message}`, { cause: error });
      }
      database = new DatabaseSink(new SubscriberList(store, newsletter.listId, secret), loaded.config.feedback);
      sinks.push(database);
    }
    if (eventsFile && !args["dry-run"]) sinks.push(await JsonLinesSink.open(isAbsolute(eventsFile) ? eventsFile : join(root, eventsFile)));
    const sink = allOf(sinks);
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    const started = Date.now();
    try {
      await runMailbox({
        imap,
        config: mailbox,
        identity: senderIdentity(newsletter, secret),
        sink,
        now: () => new Date(),
        once: args.once,
        dryRun: args["dry-run"],
        signal: controller.signal,
        onPass: (pass) => summarise(pass, (Date.now() - started) / 1000, args["dry-run"], args.once, database?.takeCounts()),
        onError: (caught) => {
          const error = isPressworkError(caught) ? caught : imapFailure(caught as ImapError, imap.host);
          // A setting to fix (the login, STARTTLS, a certificate, a folder) does not mend itself: watching stops, as --once does.
          if (error.id === "mailbox-setup") throw error;
          io.err(`presswork mailbox: ${error.message}; connecting again in ${mailbox.pollSeconds} s`);
        },
      });
    } catch (error) {
      if (isPressworkError(error)) throw error;
      throw imapFailure(error as ImapError, imap.host);
    } finally {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      await sink.close?.();
      await store?.close();
    }
  },
});

/** One sink that records in each of several, in order. */
function allOf(sinks: FeedbackSink[]): FeedbackSink {
  return {
    record: async (event) => {
      for (const sink of sinks) await sink.record(event);
    },
    flush: async () => {
      for (const sink of sinks) await sink.flush?.();
    },
    close: async () => {
      for (const sink of sinks) await sink.close?.();
    },
  };
}

/** What imapflow and Node's sockets say of a failure. */
type ImapError = Error & { code?: string; authenticationFailed?: boolean; tlsFailed?: boolean; responseText?: string };

/**
 * What went wrong with the server, as a setup error (the URL, the login, TLS:
 * a person must change something) or as the server being unavailable
 * (worth trying again). Never with the password: imapflow's messages never
 * hold it, though a response text might name the user.
 */
function imapFailure(error: ImapError, host: string): PressworkError {
  const setup = (message: string) => new PressworkError("mailbox-setup", message, { cause: error });
  if (error.authenticationFailed || error.code === "AUTHENTICATIONFAILED") return setup(`the IMAP server ${host} refused the user name or password in IMAP_URL`);
  // OpenSSL's verification results: SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID…
  if (error.code && /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)/.test(error.code)) {
    return setup(`the certificate of the IMAP server ${host} does not verify (${error.code}: ${error.message}). If the server's certificate comes from a private authority, give that authority's certificate to Node in NODE_EXTRA_CA_CERTS (a PEM file); otherwise check the host name in IMAP_URL`);
  }
  // imapflow's own refusals (STARTTLS not offered, refused, or after PREAUTH) carry no code; a connection lost in the handshake does.
  if (error.tlsFailed && error.code === undefined) {
    return setup(
      `STARTTLS with the IMAP server ${host} is not possible (${error.message}), and without it the password would cross the network unencrypted. Use imaps:// (port 993), turn STARTTLS on at the server, or, if the network between is trusted, add ?${PLAINTEXT_AUTH_PARAM}=true to IMAP_URL (or set IMAP_ALLOW_PLAINTEXT_AUTH=true)`,
    );
  }
  const unavailable = (message: string) => new PressworkError("mailbox-unavailable", message, { cause: error });
  if (error.code === "ECONNREFUSED" || error.code === "ENOTFOUND" || error.code === "ETIMEDOUT" || error.code === "EHOSTUNREACH") return unavailable(`cannot reach the IMAP server ${host} (${error.code}): check IMAP_URL`);
  if (error.code === "NoConnection") return unavailable(`the IMAP server ${host} closed the connection`);
  return unavailable(`IMAP: ${error.responseText ?? error.message}`);
}

function summarise(pass: MailboxReport, seconds: number, dryRun: boolean, once: boolean, database: SinkCounts | undefined): void {
  if (!once && pass.read === 0) return;
  const kinds = Object.entries(pass.events).sort((a, b) => b[1] - a[1]);
  io.out(`${dryRun ? "Dry run: read" : "Read"} ${pass.read} messages in ${seconds.toFixed(1)} s: ${pass.processed} understood${dryRun ? "" : " and moved to the processed folder"}, ${pass.attention.length} ${dryRun ? "would go" : "moved"} to the folder for a person.`);
  for (const [kind, n] of kinds) io.out(`  ${String(n).padStart(8)}  ${kind}`);
  if (database) io.out(`In the database: ${database.recorded} events recorded, ${database.stopped} of them stopping mail to an address; ${database.duplicates} recorded before.`);
  if (pass.truncated) io.out(`  ${pass.truncated} larger than mailbox.maxMessageKilobytes were read from their start only.`);
  for (const line of pass.attention) io.err(`${line.folder} uid ${line.uid}: ${line.reason}`);
  const summaryFile = process.env["GITHUB_STEP_SUMMARY"];
  if (summaryFile) {
    const rows = [
      "| | count |",
      "| --- | ---: |",
      `| messages read | ${pass.read} |`,
      ...kinds.map(([kind, n]) => `| ${kind} | ${n} |`),
      `| for a person | ${pass.attention.length} |`,
      ...(database ? [`| addresses stopped | ${database.stopped} |`] : []),
    ];
    const people = pass.attention.map((l) => `- ${l.folder} uid ${l.uid}: ${l.reason.replace(/[|<>]/g, " ")}`);
    appendFileSync(summaryFile, `### Mailbox\n\n${rows.join("\n")}\n${people.length ? `\n${people.join("\n")}\n` : ""}\n`);
  }
}
