import { connect, createServer, type AddressInfo, type Socket } from "node:net";

/** What the proxy does with one line: pass it on as it is or changed, or answer the client itself instead (and then, with `hangUp`, drop the connection). */
export type ClientLine = string | { answer: string; hangUp?: boolean };

/** How the proxy edits the conversation, a line (CRLF included) at a time. Either side left out passes through untouched. */
export interface ProxyEdits {
  fromClient?: (line: string) => ClientLine;
  fromServer?: (line: string) => string;
}

/** A loopback proxy in front of an IMAP server: a man in the middle, or a server that answers otherwise. */
export interface ImapProxy {
  /** `url` with the proxy's port in place of the server's. */
  url: (url: string) => string;
  /** Everything clients sent through it, as text. */
  sent: () => string;
  close: () => Promise<void>;
}

/** Calls `each` with every CRLF-ended line `socket` sends (bytes as latin1 text, so nothing is lost). */
function lines(socket: Socket, each: (line: string) => void): void {
  let pending = "";
  socket.on("data", (chunk: Buffer) => {
    pending += chunk.toString("latin1");
    let end;
    while ((end = pending.indexOf("\r\n")) >= 0) {
      each(pending.slice(0, end + 2));
      pending = pending.slice(end + 2);
    }
  });
}

/** Starts a proxy on a free loopback port to the IMAP server on `port`, editing the plaintext conversation with `edits`. */
export async function imapProxy(port: number, edits: ProxyEdits): Promise<ImapProxy> {
  let sent = "";
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const server = connect(port, "127.0.0.1");
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    }
    client.on("data", (chunk: Buffer) => (sent += chunk.toString("latin1")));
    const { fromClient, fromServer } = edits;
    if (fromClient) {
      lines(client, (line) => {
        const out = fromClient(line);
        if (typeof out === "string") server.write(out, "latin1");
        else if (out.hangUp) client.end(out.answer, "latin1");
        else client.write(out.answer, "latin1");
      });
    } else client.pipe(server);
    if (fromServer) lines(server, (line) => client.write(fromServer(line), "latin1"));
    else server.pipe(client);
    client.on("close", () => server.destroy());
    server.on("close", () => client.destroy());
    client.on("error", () => server.destroy());
    server.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const proxyPort = (proxy.address() as AddressInfo).port;
  return {
    url: (url) => {
      const moved = new URL(url);
      moved.port = String(proxyPort);
      return moved.href;
    },
    sent: () => sent,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
