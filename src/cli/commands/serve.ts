import { defineCommand } from "citty";
import { loadConfig } from "../../config/load.js";
import { createService } from "../../service/app.js";
import { serviceSettings, ServiceSetupError } from "../../service/settings.js";
import { DatabaseUrlError } from "../../store/database.js";
import { TemplateError } from "../../templates/liquid.js";
import { report } from "../report.js";
import { UsageError } from "../usage.js";
import { io } from "../io.js";

/** `presswork serve`: the subscription service, until SIGTERM or SIGINT, which let requests in flight finish. */
export const serveCommand = defineCommand({
  meta: { name: "serve", description: "Run the subscription service: subscribe, confirm, one-click unsubscribe, the subscriber API (DATABASE_URL, PRESSWORK_SECRET, SMTP_URL, PRESSWORK_API_TOKEN)" },
  args: {
    port: { type: "string", description: "Port to listen on", default: "8787", valueHint: "N" },
    host: { type: "string", description: "Address to listen on (0.0.0.0 in a container)", default: "127.0.0.1", valueHint: "H" },
  },
  async run({ args }) {
    const port = Number(args.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError("--port must be a port number from 0 to 65535");
    const root = io.root();
    const { config, file } = await loadConfig(root);
    if (!config) {
      report([file], io.err);
      io.fail(1);
      return;
    }
    let service;
    try {
      const logLevel = process.env["PRESSWORK_LOG_LEVEL"] || "info";
      service = await createService({ settings: serviceSettings(root, config, process.env, { host: args.host, port }), env: process.env, logLevel });
    } catch (error) {
      if (error instanceof TemplateError) report([error.file], io.err);
      else if (error instanceof ServiceSetupError || error instanceof DatabaseUrlError) io.err(`presswork serve: ${error.message}`);
      else io.err(`presswork serve: cannot open the database: ${(error as Error).message}`);
      io.fail(1);
      return;
    }
    let url: string;
    try {
      url = await service.listen();
    } catch (error) {
      await service.close();
      const code = (error as { code?: string }).code;
      io.err(`presswork serve: cannot listen on ${args.host}:${port}${code === "EADDRINUSE" ? ": the port is in use; choose another with --port" : `: ${(error as Error).message}`}`);
      io.fail(1);
      return;
    }
    io.err(`presswork serve: listening on ${url} (${service.store.description})`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    io.err("presswork serve: stopping: finishing the requests in flight");
    await service.close();
  },
});
