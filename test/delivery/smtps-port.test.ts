import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCliHere } from "../helpers/cli.js";
import { initRepo } from "../helpers/git.js";
import { removeProjects, tempProject } from "../helpers/project.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";

const NOW = "2026-11-29T12:00:00Z";
const SECRET = "test-secret";

// Port 465 is below 1024: only root may listen on it. .ci/run runs as root (PRESSWORK_CI=1), where not having it fails.
const smtps = await startSmtp({ implicitTls: { port: 465 } }).catch((error: Error) => error);
const missing = smtps instanceof Error ? `cannot listen on 127.0.0.1:465 (${smtps.message})` : undefined;
if (missing && process.env["PRESSWORK_CI"] === "1") throw new Error(`port 465 is required under PRESSWORK_CI=1: ${missing}`);
if (missing) console.warn(`skipping the port 465 tests: ${missing}`);
const server = smtps as TestSmtp;

afterAll(async () => {
  if (!missing) await server.close();
  await removeProjects();
});

async function project(): Promise<string> {
  const root = await tempProject({ samples: true, built: true });
  const path = join(root, "presswork.config.yaml");
  await writeFile(path, (await readFile(path, "utf8")).replace("timeoutSeconds: 60", "timeoutSeconds: 5").replace("retryDelaySeconds: 2", "retryDelaySeconds: 0"));
  await writeFile(join(root, "subs.csv"), "email\nann@example.org\nbob@example.org\n");
  initRepo(root);
  return root;
}

describe.skipIf(Boolean(missing))(`a relay on port 465, written smtp://${missing ? ` (${missing})` : ""}`, () => {
  it("is spoken to in TLS from the first byte, as port 465 expects (RFC 8314): the SMTP_URL and the SMTP_HOST forms both deliver", async () => {
    const root = await project();
    const env = { PRESSWORK_SECRET: SECRET, SMTP_TLS_INSECURE: "1" };
    // Over plaintext the client waited for a greeting the server never sends, and the send stopped as unavailable.
    const byHost = await runCliHere(["send", "--to", "editor@example.org", "--now", NOW], root, { ...env, SMTP_HOST: "127.0.0.1", SMTP_PORT: "465" });
    expect(byHost.code, byHost.stderr).toBe(0);
    expect(server.received.map((m) => m.to[0])).toEqual(["editor@example.org"]);
    const byUrl = await runCliHere(["send", "--subscribers", "subs.csv", "--now", NOW], root, { ...env, SMTP_URL: server.url() });
    expect(server.url()).toMatch(/^smtp:\/\/127\.0\.0\.1:465$/);
    expect(byUrl.code, byUrl.stderr).toBe(0);
    expect(server.received.slice(1).map((m) => m.to[0]).sort()).toEqual(["ann@example.org", "bob@example.org"]);
  });
});
