import { createPrivateKey, type KeyObject } from "node:crypto";
import type { ErrorId } from "../errors/catalogue.js";
import { PressworkError } from "../errors/error.js";

/** What nodemailer signs a message with. */
export interface DkimKey {
  domainName: string;
  keySelector: string;
  privateKey: string;
}

/** RFC 8301: verifiers treat a signature by an RSA key under 1024 bits as no signature. */
const MIN_BITS = 1024;

/**
 * The DKIM key the send and the service sign with: DKIM_PRIVATE_KEY (PEM,
 * its line breaks written as `\n` where a secret cannot hold them),
 * DKIM_SELECTOR, and DKIM_DOMAIN (by default the From address's domain).
 * Undefined when no key is set. A key nodemailer cannot sign with (not a
 * private key, encrypted, not RSA) is refused here, with `id`: nodemailer
 * would send every message unsigned without a word. The error never shows
 * the key.
 */
export function dkimFromEnv(env: NodeJS.ProcessEnv, from: string, id: ErrorId): DkimKey | undefined {
  const given = env["DKIM_PRIVATE_KEY"];
  if (!given) return undefined;
  const keySelector = env["DKIM_SELECTOR"];
  if (!keySelector) throw new PressworkError(id, "DKIM_PRIVATE_KEY is set but DKIM_SELECTOR is not: set the selector of the key's DNS record");
  const privateKey = given.replace(/\\n/g, "\n");
  const domainName = env["DKIM_DOMAIN"] ?? from.split("@")[1] ?? "";
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKey);
  } catch {
    // PKCS #8's "BEGIN ENCRYPTED PRIVATE KEY", or the older "Proc-Type: 4,ENCRYPTED" header.
    throw new PressworkError(
      id,
      /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(privateKey)
        ? "DKIM_PRIVATE_KEY is encrypted with a passphrase, which the send cannot give: set the key without one (openssl pkey -in key.pem -out plain.pem)"
        : "DKIM_PRIVATE_KEY is not a private key in PEM form (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----, its line breaks kept or written as \\n): every message would go out unsigned",
    );
  }
  const record = `${keySelector}._domainkey.${domainName}`;
  if (key.asymmetricKeyType !== "rsa") {
    throw new PressworkError(id, `DKIM_PRIVATE_KEY is an ${key.asymmetricKeyType ?? "unknown"} key, and nodemailer signs with RSA only (rsa-sha256): make an RSA key of 2048 bits and publish its public half at ${record}`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_BITS) {
    throw new PressworkError(id, `DKIM_PRIVATE_KEY is an RSA key of ${bits} bits, and receivers ignore signatures by keys under ${MIN_BITS} bits (RFC 8301): make one of 2048 bits and publish its public half at ${record}`);
  }
  return { privateKey, keySelector, domainName };
}
