import { defineCommand } from "citty";
import { loadProjectConfig } from "../../config/load.js";
import { serviceSettings } from "../../service/settings.js";
import { report } from "../report.js";
import { io } from "../io.js";
import { isPressworkError, PressworkError } from "../../errors/error.js";
import { ABOUT } from "./about.js";

/** `presswork serve`: the subscription service, until SIGTERM or SIGINT, which let requests in flight finish. */
export const serveCommand = defineCommand({
  meta: { name: "serve", description: ABOUT.serve },
  args: {
    port: { type: "string", description: "Port to listen on", default: "8787", valueHint: "N" },
    host: { type: "string", description: "Address to listen on (0.0.0.0 in a container)", default: "127.0.0.1", valueHint: "H" },
  },
  async run({ args }) {
    const port = Number(args.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new PressworkError("usage", "--port must be a port number from 0 to 65535");
    const root = io.root();
    const { config, file } = await loadProjectConfig(root);
    if (!config) {
      report([file], io.err);
      io.fail(1);
      return;
    }
    // Settings refused before the server and its mail are loaded: a service that cannot start says so at once.
    const settings = serviceSettings(root, config, process.env, { host: args.host, port });
    const { createService } = await import("../../service/app.js");
    let service;
    try {
      const logLevel = process.env["PRESSWORK_LOG_LEVEL"] || "info";
      service = await createService({ settings, env: process.env, logLevel });
    } catch (error) {
      throw isPressworkError(error) ? error : new PressworkError("database-unavailable", `cannot open the database: ${(error as Error).message}`, { cause: error });
    }
    let url: string;
    try {
      url = await service.listen();
    } catch (error) {
      await service.close();
      const code = (error as { code?: string }).code;
      throw new PressworkError("service-listen", `cannot listen on ${args.host}:${port}${code === "EADDRINUSE" ? ": the port is in use; choose another with --port" : `: ${(error as Error).message}`}`, { cause: error });
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
