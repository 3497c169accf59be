// A private Dovecot IMAP server for tests and benches: its own config, base
// directory, mail store and log in a temporary folder, on a free loopback
// port, with a static password for any user name. Plain JavaScript so that
// bench/ (run by node without a compile step) can use it too; types in
// dovecot.d.ts.
//
// Dovecot as root needs unprivileged users for its login and internal
// processes (Debian's package creates dovenull and dovecot) and refuses to
// give mail access to uid 0, so the mail store belongs to `nobody`. As any
// other user everything runs as that user (Dovecot's "running without
// root" setup) and privilege separation is off.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "../../scripts/free-port.js";

// DOVECOT_BIN names another binary (a build of its own, or a missing one to see the tests skip).
const DOVECOT = process.env.DOVECOT_BIN || ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"].find((path) => existsSync(path));
export const IMAP_PASSWORD = "test-password";

/** Why Dovecot cannot run here, or undefined when it can. */
export function dovecotUnavailable() {
  if (!DOVECOT || !existsSync(DOVECOT)) return "dovecot is not installed (Debian: apt-get install dovecot-imapd)";
  if (process.getuid?.() === 0) {
    for (const user of ["dovecot", "dovenull", "nobody"]) {
      if (spawnSync("id", ["-u", user]).status !== 0) return `dovecot runs as root here and needs the system user ${user}, which does not exist`;
    }
  }
  return undefined;
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString().startsWith("* OK"));
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * A self-signed certificate for 127.0.0.1 and its key, made with openssl
 * (which Debian's dovecot-core depends on) in `dir`: cert.pem and key.pem.
 */
function selfSignedCertificate(dir) {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const made = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`openssl could not make a test certificate: ${(made.stderr || made.error?.message || "").trim()}`);
  return { cert, key };
}

/**
 * Starts Dovecot, with `extra` lines of configuration (to imitate another
 * server), and with `tls` STARTTLS on a self-signed certificate (its path
 * is `ca`). Resolves with its port, an IMAP URL for a user (one that
 * allows a login without STARTTLS when the server has no TLS), and
 * `stop()`, which stops it and removes its folder. Rejects with Dovecot's
 * own words when it does not start.
 */
export async function startDovecot(extra = [], { tls = false } = {}) {
  const why = dovecotUnavailable();
  if (why) throw new Error(why);
  const dir = mkdtempSync(join(tmpdir(), "presswork-dovecot-"));
  // The mail processes (not root) walk into the folder.
  chmodSync(dir, 0o755);
  let certificate;
  try {
    certificate = tls ? selfSignedCertificate(dir) : undefined;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const root = process.getuid?.() === 0;
  const me = userInfo();
  const mailUid = root ? Number(spawnSync("id", ["-u", "nobody"]).stdout.toString().trim()) : me.uid;
  const mailGid = root ? Number(spawnSync("id", ["-g", "nobody"]).stdout.toString().trim()) : me.gid;
  for (const sub of ["run", "state", "mail"]) mkdirSync(join(dir, sub));
  if (root) chownSync(join(dir, "mail"), mailUid, mailGid);
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = [
      "protocols = imap",
      `base_dir = ${dir}/run`,
      `state_dir = ${dir}/state`,
      "instance_name = presswork-test",
      `log_path = ${dir}/dovecot.log`,
      ...(certificate ? ["ssl = yes", `ssl_cert = <${certificate.cert}`, `ssl_key = <${certificate.key}`] : ["ssl = no"]),
      "disable_plaintext_auth = no",
      "auth_mechanisms = plain login",
      // A refused password is answered at once, not after Dovecot's default 2 s: the tests of a wrong password wait for nothing.
      "auth_failure_delay = 0",
      root ? "default_login_user = dovenull" : `default_login_user = ${me.username}`,
      root ? "default_internal_user = dovecot" : `default_internal_user = ${me.username}`,
      `mail_location = maildir:${dir}/mail/%u`,
      `first_valid_uid = ${Math.min(mailUid, 1)}`,
      "mail_fsync = never",
      "passdb {",
      "  driver = static",
      `  args = password=${IMAP_PASSWORD}`,
      "}",
      "userdb {",
      "  driver = static",
      `  args = uid=${mailUid} gid=${mailGid} home=${dir}/mail/%u`,
      "}",
      "service imap-login {",
      "  chroot =",
      "  inet_listener imap {",
      "    address = 127.0.0.1",
      `    port = ${port}`,
      "  }",
      "  inet_listener imaps {",
      "    port = 0",
      "  }",
      "}",
      "service anvil {",
      "  chroot =",
      "}",
      ...(root ? [] : ["service auth {", `  user = ${me.username}`, "}", "service auth-worker {", `  user = ${me.username}`, "}"]),
      ...extra,
      "",
    ].join("\n");
    writeFileSync(join(dir, "dovecot.conf"), config);
    const child = spawn(DOVECOT, ["-F", "-c", join(dir, "dovecot.conf")], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + 10_000;
    let up = false;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      if (await listening(port)) {
        up = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (up) {
      return {
        port,
        dir,
        ...(certificate ? { ca: certificate.cert } : {}),
        url: (user = "bounces") => `imap://${encodeURIComponent(user)}:${IMAP_PASSWORD}@127.0.0.1:${port}${certificate ? "" : "?allow-plaintext-auth=true"}`,
        log: () => (existsSync(join(dir, "dovecot.log")) ? readFileSync(join(dir, "dovecot.log"), "utf8") : ""),
        stop: async () => {
          if (child.exitCode === null) {
            child.kill("SIGTERM");
            await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
            if (child.exitCode === null) child.kill("SIGKILL");
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    if (child.exitCode === null) child.kill("SIGKILL");
    await exited;
    const log = existsSync(join(dir, "dovecot.log")) ? readFileSync(join(dir, "dovecot.log"), "utf8") : "";
    lastError = `dovecot did not start: ${(stderr + log).trim().split("\n").slice(-5).join(" | ") || "no output"}`;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(lastError);
}
