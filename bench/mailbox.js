// Mailbox benchmark: `presswork mailbox --once` over N waiting bounces
// (default 10,000) in a private Dovecot on loopback, plus one 20 MB bounce.
// The bounces are the corpus's shapes (Postfix and Microsoft 365 DSNs, an
// Exim text bounce, a Gmail mailbox-full report, a Yahoo complaint) made out
// to N different recipients with their own envelope tokens. Delivered with
// IMAP APPEND first (not timed), then the command runs in a fresh process:
// wall time, messages per second and peak memory. Run it at two sizes to see
// that memory stays flat: node bench/mailbox.js 1000 && node bench/mailbox.js
// With --db the events go into the subscriber database (the sink a real setup
// uses: each one recorded once, with what the rules make of it) instead of a
// JSON Lines file: a SQLite file holding the N readers as subscribers, or
// BENCH_DATABASE_URL (an empty PostgreSQL database, say) when it is set.
// Usage: npm run compile && node bench/mailbox.js [N] [--db]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { addressKey } from "../lib/issues/message.js";
import { verpAddress } from "../lib/issues/verp.js";
import { openStore } from "../lib/store/database.js";
import { SubscriberList } from "../lib/store/subscribers.js";
import { importActive } from "./list.js";
import { startDovecot } from "../test/helpers/dovecot.js";

const REPO = join(import.meta.dirname, "..");
const args = process.argv.slice(2);
const COUNT = Number(args.find((a) => /^\d+$/.test(a)) ?? 10_000);
const DATABASE = args.includes("--db");
const SECRET = "bench-secret";
const FIXTURES = join(REPO, "test/fixtures/bounces");
const FIXTURE_SECRET = "fixture-secret";

/** Each shape with the recipient it was written for, and how many in ten are of it. */
const SHAPES = [
  ["postfix-user-unknown.eml", "jane@example.org", 4],
  ["gmail-over-quota-headers-only.eml", "bob.smith@gmail.com", 2],
  ["m365-recipient-not-found.eml", "carol@contoso.com", 2],
  ["exim-plain-text.eml", "jane@example.org", 1],
  ["arf-yahoo.eml", "dave@yahoo.com", 1],
].flatMap(([file, address, weight]) => Array(weight).fill({ text: readFileSync(join(FIXTURES, file), "utf8"), address }));

const bounces = { address: "bounces@signal-noise.example", delimiter: "+" };
const tokenOf = (address, secret) => verpAddress(bounces, { issue: 12, key: addressKey(address, secret) }, secret).split("+")[1].split("@")[0];

/** Bounce i: a shape made out to reader i, with its own token and report Message-ID. */
function bounce(i) {
  const { text, address } = SHAPES[i % SHAPES.length];
  const reader = `reader${i}@example.org`;
  return text
    .replaceAll(tokenOf(address, FIXTURE_SECRET), tokenOf(reader, SECRET))
    .replaceAll(addressKey(address, FIXTURE_SECRET), addressKey(reader, SECRET))
    .replaceAll(address, reader)
    .replace(/^Message-I[dD]: .*$/m, `Message-ID: <bench-${i}@relay.example>`)
    .replace(/\r?\n/g, "\r\n");
}

const dovecot = await startDovecot();
const project = mkdtempSync(join(tmpdir(), "presswork-bench-mailbox-"));
try {
  writeFileSync(
    join(project, "presswork.config.yaml"),
    readFileSync(join(REPO, "presswork.config.yaml"), "utf8").replace("  postalAddress:", "  bounces: { address: bounces@signal-noise.example }\n  postalAddress:"),
  );
  const databaseUrl = process.env.BENCH_DATABASE_URL || `sqlite:${join(project, "data/list.sqlite")}`;
  if (DATABASE) {
    const store = await openStore({ url: databaseUrl, root: project });
    const list = new SubscriberList(store, "weekly.signal-noise.example", SECRET);
    await importActive(list, COUNT + 1, (i) => `reader${i}@example.org`, { at: new Date("2026-10-01T00:00:00Z") });
    await store.close();
  }
  const client = new ImapFlow({ host: "127.0.0.1", port: dovecot.port, secure: false, auth: { user: "bench", pass: "test-password" }, logger: false });
  await client.connect();
  const delivering = performance.now();
  for (let i = 0; i < COUNT; i++) await client.append("INBOX", bounce(i));
  const big = bounce(COUNT).replace("The week in chips and networks.\r\n", `The week in chips and networks.\r\n${`${"C".repeat(76)}\r\n`.repeat(270_000)}`);
  await client.append("INBOX", big);
  await client.logout();
  const delivered = (performance.now() - delivering) / 1000;

  const started = performance.now();
  const sink = DATABASE ? [] : ["--events", "events.jsonl"];
  const result = spawnSync(process.execPath, ["--import", join(REPO, "bench/peak-memory.js"), join(REPO, "bin/presswork.js"), "mailbox", "--once", ...sink], {
    cwd: project,
    encoding: "utf8",
    env: { ...process.env, IMAP_URL: dovecot.url("bench"), PRESSWORK_SECRET: SECRET, ...(DATABASE ? { DATABASE_URL: databaseUrl } : {}) },
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`mailbox failed:\n${result.stderr}`);
  const peak = Number(/PEAK_RSS_KB=(\d+)/.exec(result.stderr)?.[1] ?? 0) / 1024;
  let events;
  if (DATABASE) {
    const store = await openStore({ url: databaseUrl, root: project });
    const rows = await store.db.selectFrom("events").select((eb) => eb.fn.countAll().as("n")).where("type", "in", ["bounced", "complained"]).executeTakeFirstOrThrow();
    const stopped = await store.db.selectFrom("subscribers").select((eb) => eb.fn.countAll().as("n")).where("status", "in", ["bounced", "complained"]).executeTakeFirstOrThrow();
    await store.close();
    events = `${Number(rows.n).toLocaleString("en")} events in ${databaseUrl.split(":")[0]}, ${Number(stopped.n).toLocaleString("en")} subscribers stopped`;
  } else {
    events = `${readFileSync(join(project, "events.jsonl"), "utf8").trim().split("\n").length.toLocaleString("en")} events in a JSON Lines file`;
  }
  console.log(result.stdout.trim());
  console.log(
    `mailbox: ${(COUNT + 1).toLocaleString("en")} messages (one of ${(Buffer.byteLength(big) / 1048576).toFixed(0)} MB) appended in ${delivered.toFixed(1)} s;` +
      ` presswork mailbox --once read, recorded (${events}) and moved them in ${seconds.toFixed(2)} s` +
      ` (${((COUNT + 1) / seconds).toFixed(0)} messages/s, start-up included); peak RSS ${peak.toFixed(0)} MB`,
  );
} finally {
  await dovecot.stop();
  rmSync(project, { recursive: true, force: true });
}
