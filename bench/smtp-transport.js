// SMTP transport benchmark: N pre-built messages of about 33 KB (the size of
// an issue) through SmtpTransport alone, 5 connections, to the loopback sink
// (bench/fast-sink.js, a separate process), fed as the send feeds it (a
// message whenever ready() allows). Reports messages per second and the CPU
// time a message costs the sending process in the transport alone, without
// composing the issue or keeping the ledger (bench/send.js measures those).
// Usage: npm run compile && node bench/smtp-transport.js [N]
import { fork } from "node:child_process";
import { join } from "node:path";

const COUNT = Number(process.argv[2] ?? 10_000);
const { SmtpTransport } = await import("../lib/delivery/smtp.js");

// Headers and a quoted-printable HTML body in 76-character lines, a few of them beginning with a dot.
const line = (i) => `<p style=3D"margin:0 0 16px 0;font-family:Georgia,serif">Paragraph ${String(i).padStart(5, "0")} of the i=\r\n`;
const body = Array.from({ length: 420 }, (_, i) => (i % 50 === 7 ? `.${line(i)}` : line(i))).join("");
const message = (i) => {
  const to = `reader${i}@example.org`;
  const head = `From: News <news@example.org>\r\nTo: ${to}\r\nSubject: Issue 12\r\nMessage-ID: <${i}.12@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`;
  return { key: String(i), envelope: { from: "news@example.org", to }, messageId: `<${i}.12@example.org>`, raw: Buffer.from(head + body) };
};

const sink = fork(join(import.meta.dirname, "fast-sink.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
const { port } = await new Promise((resolve) => sink.once("message", resolve));
const transport = new SmtpTransport({ host: "127.0.0.1", port, secure: false, rejectUnauthorized: false, allowPlaintextAuth: false }, { maxConnections: 5, timeoutSeconds: 30 });
await transport.verify();
const messages = Array.from({ length: COUNT }, (_, i) => message(i));
const cpu = process.cpuUsage();
const started = performance.now();
let sent = 0;
const flights = [];
for (const each of messages) {
  await transport.ready();
  flights.push(transport.send(each).then((outcome) => void (outcome.state === "sent" && sent++)));
}
await Promise.all(flights);
const seconds = (performance.now() - started) / 1000;
const used = process.cpuUsage(cpu);
await transport.close();
sink.send("count");
const { received, bytes } = await new Promise((resolve) => sink.once("message", resolve));
sink.kill();
console.log(
  `smtp transport: ${sent.toLocaleString("en")} messages of ${(bytes / received / 1024).toFixed(1)} KB (${received.toLocaleString("en")} received by the sink) through 5 connections:` +
    ` ${(sent / seconds).toFixed(0)} messages/s; ${((used.user + used.system) / 1000 / sent).toFixed(3)} ms of CPU a message in the sending process`,
);
