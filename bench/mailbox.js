// Mailbox benchmark: `presswork mailbox --once` over N waiting bounces
// (default 10,000) in a private Dovecot on loopback, plus one 20 MB bounce.
// The bounces are the corpus's shapes (Postfix and Microsoft 365 DSNs, an
// Exim text bounce, a Gmail mailbox-full report, a Yahoo complaint) made out
// to N different recipients with their own envelope tokens. Delivered with
// IMAP APPEND first (not timed), then the command runs in a fresh process:
// wall time, messages per second and peak memory. Run it at two sizes to see
// that memory stays flat: node bench/mailbox.js 1000 && node bench/mailbox.js
// Usage: npm run compile && node bench/mailbox.js [N]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { addressKey } from "../lib/issues/message.js";
import { verpAddress } from "../lib/issues/verp.js";
import { startDovecot } from "../test/helpers/dovecot.js";

const REPO = join(import.meta.dirname, "..");
const COUNT = Number(process.argv[2] ?? 10_000);
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
  const client = new ImapFlow({ host: "127.0.0.1", port: dovecot.port, secure: false, auth: { user: "bench", pass: "test-password" }, logger: false });
  await client.connect();
  const delivering = performance.now();
  for (let i = 0; i < COUNT; i++) await client.append("INBOX", bounce(i));
  const big = bounce(COUNT).replace("The week in chips and networks.\r\n", `The week in chips and networks.\r\n${`${"C".repeat(76)}\r\n`.repeat(270_000)}`);
  await client.append("INBOX", big);
  await client.logout();
  const delivered = (performance.now() - delivering) / 1000;

  const started = performance.now();
  const result = spawnSync(process.execPath, ["--import", join(REPO, "bench/peak-memory.js"), join(REPO, "bin/presswork.js"), "mailbox", "--once", "--events", "events.jsonl"], {
    cwd: project,
    encoding: "utf8",
    env: { ...process.env, IMAP_URL: dovecot.url("bench"), PRESSWORK_SECRET: SECRET },
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`mailbox failed:\n${result.stderr}`);
  const peak = Number(/PEAK_RSS_KB=(\d+)/.exec(result.stderr)?.[1] ?? 0) / 1024;
  const events = readFileSync(join(project, "events.jsonl"), "utf8").trim().split("\n").length;
  console.log(result.stdout.trim());
  console.log(
    `mailbox: ${(COUNT + 1).toLocaleString("en")} messages (one of ${(Buffer.byteLength(big) / 1048576).toFixed(0)} MB) appended in ${delivered.toFixed(1)} s;` +
      ` presswork mailbox --once read, recorded (${events.toLocaleString("en")} events) and moved them in ${seconds.toFixed(2)} s` +
      ` (${((COUNT + 1) / seconds).toFixed(0)} messages/s, start-up included); peak RSS ${peak.toFixed(0)} MB`,
  );
} finally {
  await dovecot.stop();
  rmSync(project, { recursive: true, force: true });
}
