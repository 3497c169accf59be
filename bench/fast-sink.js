// A minimal SMTP sink for benchmarks: answers every command with success and
// finds the end of DATA with a native buffer search, copying nothing but the
// four bytes either side of a chunk boundary, so it takes as little of the
// machine from the sender as it can. Not a mail server: it parses nothing.
import { createServer } from "node:net";

let received = 0;
let bytes = 0;
const END = Buffer.from("\r\n.\r\n");
const server = createServer((socket) => {
  socket.setNoDelay(true);
  let data = false;
  // Command bytes not yet ended by CRLF; in DATA, the last four bytes seen.
  let pending = Buffer.alloc(0);
  socket.write("220 sink ready\r\n");
  socket.on("data", (chunk) => {
    let rest = chunk;
    while (rest.length > 0) {
      if (data) {
        // The end marker may straddle the previous chunk and this one.
        const joint = pending.length ? Buffer.concat([pending, rest.subarray(0, 4)]).indexOf(END) : -1;
        const end = joint >= 0 ? joint - pending.length : rest.indexOf(END);
        if (joint < 0 && end < 0) {
          bytes += rest.length;
          pending = Buffer.from(rest.subarray(Math.max(0, rest.length - 4)));
          return;
        }
        bytes += Math.max(0, end);
        rest = rest.subarray(end + END.length);
        pending = Buffer.alloc(0);
        data = false;
        received++;
        socket.write("250 queued\r\n");
        continue;
      }
      pending = pending.length ? Buffer.concat([pending, rest]) : rest;
      rest = Buffer.alloc(0);
      for (let eol = pending.indexOf("\r\n"); eol >= 0 && !data; eol = pending.indexOf("\r\n")) {
        const line = pending.subarray(0, eol).toString("latin1").toUpperCase();
        pending = pending.subarray(eol + 2);
        if (line.startsWith("EHLO")) socket.write("250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
        else if (line.startsWith("DATA")) {
          data = true;
          socket.write("354 go on\r\n");
        } else if (line.startsWith("QUIT")) socket.end("221 bye\r\n");
        else socket.write("250 ok\r\n");
      }
      if (data) {
        rest = pending;
        pending = Buffer.alloc(0);
      }
    }
  });
  socket.on("error", () => {});
});
server.listen(0, "127.0.0.1", () => process.send?.({ port: server.address().port }));
process.on("message", (message) => {
  if (message === "count") process.send?.({ received, bytes });
});
