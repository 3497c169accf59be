import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { PressworkError } from "../errors/error.js";

/** A message the preview's SMTP catcher received. */
export interface CaughtMessage {
  id: number;
  subject: string;
  from: string;
  to: string;
  date: string;
  html: string;
  text: string;
  headers: Array<{ key: string; line: string }>;
  raw: string;
}

/**
 * An SMTP server on loopback that keeps what it receives in memory, so
 * `presswork send` pointed at it shows exactly what subscribers would get.
 * Any login is accepted; STARTTLS is off (it is loopback only).
 */
export async function startCatcher(port: number, onMessage: (message: CaughtMessage) => void): Promise<{ port: number; messages: CaughtMessage[]; close: () => Promise<void> }> {
  const messages: CaughtMessage[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onAuth: (_auth, _session, callback) => callback(null, { user: "preview" }),
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then((mail) => {
            const message: CaughtMessage = {
              id: messages.length + 1,
              subject: mail.subject ?? "(no subject)",
              from: mail.from?.text ?? "",
              to: Array.isArray(mail.to) ? mail.to.map((t) => t.text).join(", ") : (mail.to?.text ?? ""),
              date: mail.date?.toISOString() ?? "",
              html: typeof mail.html === "string" ? mail.html : "",
              text: mail.text ?? "",
              headers: mail.headerLines.map((h) => ({ key: h.key, line: h.line })),
              raw: raw.toString("utf8"),
            };
            messages.push(message);
            onMessage(message);
            callback(null, "caught by the Presswork preview");
          })
          .catch((error: Error) => callback(error));
      });
    },
  });
  server.on("error", () => {});
  await listen(server.server, port, "--smtp-port");
  const address = server.server.address();
  return { port: typeof address === "object" && address ? address.port : port, messages, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Listens on 127.0.0.1, turning a port in use into a message that says what to do. */
export function listen(server: import("node:net").Server, port: number, flag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(new PressworkError("service-listen", error.code === "EADDRINUSE" ? `port ${port} is in use: choose another with ${flag} N` : `cannot listen on 127.0.0.1:${port}: ${error.message}`, { cause: error }));
    };
    server.once("error", onError);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", onError);
      resolve();
    });
  });
}
