import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DockerfileParser } from "dockerfile-ast";
import { validate } from "dockerfile-utils";
import { afterAll, describe, expect, it } from "vitest";
import { REPO, removeProjects } from "../helpers/project.js";
import { startService } from "../helpers/service.js";
import { startSmtp } from "../helpers/smtp.js";

// No Docker engine runs here: the image cannot be built in tests. What can be checked is.
const text = readFileSync(join(REPO, "Dockerfile"), "utf8");
const dockerfile = DockerfileParser.parse(text);
const ignored = readFileSync(join(REPO, ".dockerignore"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
afterAll(removeProjects);

/** A JSON-form instruction's arguments as the strings they are. */
function execForm(content: string | null): string[] {
  return JSON.parse(content ?? "[]") as string[];
}

describe("the Dockerfile", () => {
  it("passes the Dockerfile linter, which does catch a broken one", () => {
    expect(validate(text)).toEqual([]);
    expect(validate("FROM node:20-slim\nCOPY\nEXPOSE eighty\n").length).toBeGreaterThan(0);
  });

  it("copies only paths that exist in the repository and that .dockerignore lets through", () => {
    const sources = dockerfile
      .getCOPYs()
      .filter((copy) => !copy.getFromFlag())
      .flatMap((copy) => copy.getArguments().slice(0, -1).map((a) => a.getValue()));
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) {
      expect(existsSync(join(REPO, source)), source).toBe(true);
      expect(ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)), `${source} is in .dockerignore`).toBe(false);
    }
    for (const kept of ["node_modules", ".git", "data", "lib"]) expect(ignored).toContain(kept);
  });

  it("builds on Node 20 slim, has what `npm ci` compiles before it runs, and runs as an unprivileged user", () => {
    expect(dockerfile.getFROMs().map((f) => f.getImageName() + ":" + f.getImageTag())).toEqual(["node:20-slim", "node:20-slim"]);
    const instructions = dockerfile.getInstructions().map((i) => `${i.getKeyword()} ${i.getArgumentsContent() ?? ""}`);
    const ci = instructions.findIndex((i) => i.startsWith("RUN npm ci"));
    for (const needed of ["package-lock.json", "tsconfig.json", "scripts", "src"]) {
      const at = instructions.findIndex((i) => i.startsWith("COPY") && i.includes(needed));
      expect(at, needed).toBeGreaterThanOrEqual(0);
      expect(at, `${needed} is copied before npm ci`).toBeLessThan(ci);
    }
    const runtime = instructions.slice(instructions.findLastIndex((i) => i.startsWith("FROM")));
    const user = runtime.filter((i) => i.startsWith("USER")).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER (root|0)\b/);
  });

  it("starts the service on the port it exposes, in exec form so it gets SIGTERM, and checks its health on /healthz", () => {
    const cmd = execForm(dockerfile.getCMDs()[0]?.getArgumentsContent() ?? null);
    const script = cmd.indexOf("/app/bin/presswork.js");
    expect([cmd[0], ...cmd.slice(script, script + 2)]).toEqual(["node", "/app/bin/presswork.js", "serve"]);
    // The heap capped, as in the README's systemd unit.
    const flags = cmd.slice(1, script);
    expect(flags).toEqual(expect.arrayContaining([expect.stringMatching(/^--max-old-space-size=\d+$/), expect.stringMatching(/^--max-semi-space-size=\d+$/)]));
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    expect(readme).toContain(`ExecStart=/usr/bin/node ${flags.join(" ")} /srv/presswork/bin/presswork.js serve`);
    const port = cmd[cmd.indexOf("--port") + 1];
    expect(cmd[cmd.indexOf("--host") + 1]).toBe("0.0.0.0");
    const expose = dockerfile.getInstructions().find((i) => i.getKeyword() === "EXPOSE")?.getArgumentsContent();
    expect(expose).toBe(port);
    const health = dockerfile.getHEALTHCHECKs()[0]?.getArgumentsContent() ?? "";
    expect(health).toContain(`http://127.0.0.1:${port}/healthz`);
  });

  it("has a health check command that passes while the service answers and fails once it does not", async () => {
    const health = dockerfile.getHEALTHCHECKs()[0]?.getArgumentsContent() ?? "";
    const command = execForm(health.slice(health.indexOf("CMD") + 3).trim());
    const smtp = await startSmtp();
    const running = await startService({ databaseUrl: "", smtp });
    const port = new URL(running.url).port;
    const check = () =>
      new Promise<number | null>((resolve) => {
        const child = spawn(command[0] ?? "node", command.slice(1).map((a) => a.replace(":8787/", `:${port}/`)), { stdio: "ignore" });
        child.on("exit", (code) => resolve(code));
      });
    try {
      expect(await check()).toBe(0);
      await running.close();
      expect(await check()).toBe(1);
    } finally {
      await smtp.close();
    }
  });
});
