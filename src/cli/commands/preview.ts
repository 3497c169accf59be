import { defineCommand } from "citty";
import { startPreview } from "../../preview/server.js";
import { io } from "../io.js";
import { PressworkError } from "../../errors/error.js";
import { ABOUT } from "./about.js";

/** `presswork preview`: the site, the next email and a mail catcher on 127.0.0.1, rebuilt on every change. */
export const previewCommand = defineCommand({
  meta: { name: "preview", description: ABOUT.preview },
  args: {
    port: { type: "string", description: "HTTP port", default: "4000", valueHint: "N" },
    "smtp-port": { type: "string", description: "Port of the mail catcher (an SMTP server)", default: "2525", valueHint: "N" },
  },
  async run({ args }) {
    const port = Number(args.port);
    const smtpPort = Number(args["smtp-port"]);
    for (const [flag, value] of [["--port", port], ["--smtp-port", smtpPort]] as const) {
      if (!Number.isInteger(value) || value < 0 || value > 65535) throw new PressworkError("usage", `${flag} must be a port number from 0 to 65535`);
    }
    if (port !== 0 && port === smtpPort) throw new PressworkError("usage", `--port and --smtp-port are both ${port}: the site and the mail catcher need a port each`);
    const preview = await startPreview({ root: io.root(), port, smtpPort, log: (line) => io.err(`preview: ${line}`) });
    io.out(`Preview: ${preview.url}  (next email: ${preview.url.replace(/\/[^/]*$/, "")}/_presswork/email)`);
    io.out(`Mail catcher: SMTP_URL=smtp://127.0.0.1:${preview.smtpPort} npx presswork send …  (inbox: /_presswork/inbox)`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await preview.close();
  },
});
