// A minimal SMTP sink for benchmarks: answers every command with success and
// finds the end of DATA with a native buffer search, so it costs the sender's
// measurement as little as possible. Not a mail server: it parses nothing.
import { createServer } from "node:net";

let received = 0;
let bytes = 0;
const END = Buffer.from("\r\n.\r\n");
const server = createServer((socket) => {
  socket.setNoDelay(true);
  let data = false;
  let pending = Buffer.alloc(0);
  socket.write("220 sink ready\r\n");
  socket.on("data", (chunk) => {
    if (data) bytes += chunk.length;
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      if (data) {
        const end = pending.indexOf(END);
        if (end < 0) {
          pending = pending.subarray(Math.max(0, pending.length - 4));
          return;
        }
        pending = pending.subarray(end + END.length);
        data = false;
        received++;
        socket.write("250 queued\r\n");
        continue;
      }
      const eol = pending.indexOf("\r\n");
      if (eol < 0) return;
      const line = pending.subarray(0, eol).toString("latin1").toUpperCase();
      pending = pending.subarray(eol + 2);
      if (line.startsWith("EHLO")) socket.write("250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
      else if (line.startsWith("DATA")) {
        data = true;
        socket.write("354 go on\r\n");
      } else if (line.startsWith("QUIT")) socket.end("221 bye\r\n");
      else socket.write("250 ok\r\n");
    }
  });
  socket.on("error", () => {});
});
server.listen(0, "127.0.0.1", () => process.send?.({ port: server.address().port }));
process.on("message", (message) => {
  if (message === "count") process.send?.({ received, bytes });
});
