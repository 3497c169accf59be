import { createSign, createVerify, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { dkimFromEnv } from "../../src/issues/dkim.js";

const FROM = "newsletter@signal-noise.example";
const rsa = (bits: number) => generateKeyPairSync("rsa", { modulusLength: bits });
const pem = (key: ReturnType<typeof rsa>["privateKey"]) => key.export({ type: "pkcs8", format: "pem" }).toString();

/** The message dkimFromEnv refuses the environment with, or "" when it takes it. */
function refusal(env: NodeJS.ProcessEnv): string {
  try {
    dkimFromEnv(env, FROM, "send-setup");
    return "";
  } catch (error) {
    return (error as Error).message;
  }
}

describe("the DKIM key from the environment", () => {
  it("takes an RSA key, written whole or with its line breaks as \\n, and signs with it what its public half verifies", () => {
    const { privateKey, publicKey } = rsa(2048);
    const text = pem(privateKey);
    for (const given of [text, text.replace(/\n/g, "\\n")]) {
      const key = dkimFromEnv({ DKIM_PRIVATE_KEY: given, DKIM_SELECTOR: "pw2026" }, FROM, "send-setup");
      expect(key).toMatchObject({ keySelector: "pw2026", domainName: "signal-noise.example" });
      const signature = createSign("RSA-SHA256").update("headers").sign(key?.privateKey ?? "");
      expect(createVerify("RSA-SHA256").update("headers").verify(publicKey, signature)).toBe(true);
    }
    expect(dkimFromEnv({ DKIM_PRIVATE_KEY: text, DKIM_SELECTOR: "s", DKIM_DOMAIN: "mail.example.org" }, FROM, "send-setup")?.domainName).toBe("mail.example.org");
    expect(dkimFromEnv({}, FROM, "send-setup")).toBeUndefined();
  });

  it("refuses each key nodemailer would quietly not sign with, saying why, and never shows the key", () => {
    const { privateKey, publicKey } = rsa(2048);
    const encrypted = privateKey.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "secret" }).toString();
    const cases: Array<[string, string, RegExp]> = [
      ["text that is no key", "not a key", /not a private key in PEM form/],
      ["the public half", publicKey.export({ type: "spki", format: "pem" }).toString(), /not a private key in PEM form/],
      ["a key cut short", pem(privateKey).slice(0, 400), /not a private key in PEM form/],
      ["an encrypted key", encrypted, /encrypted with a passphrase/],
      ["an encrypted key in PKCS #1", privateKey.export({ type: "pkcs1", format: "pem", cipher: "aes-256-cbc", passphrase: "secret" }).toString(), /encrypted with a passphrase/],
      ["an Ed25519 key", pem(generateKeyPairSync("ed25519").privateKey), /an ed25519 key, and nodemailer signs with RSA only .* pw2026\._domainkey\.signal-noise\.example/],
      ["a 512-bit RSA key", pem(rsa(512).privateKey), /RSA key of 512 bits.*under 1024 bits \(RFC 8301\)/],
    ];
    for (const [what, key, why] of cases) {
      const message = refusal({ DKIM_PRIVATE_KEY: key, DKIM_SELECTOR: "pw2026" });
      expect(message, what).toMatch(why);
      // Neither the text given nor, for a PEM, a line of its base64.
      expect(message, what).not.toContain(key.split("\n")[1] ?? key);
    }
    expect(refusal({ DKIM_PRIVATE_KEY: pem(privateKey) })).toContain("DKIM_SELECTOR is not");
  });
});
