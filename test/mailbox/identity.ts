import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/parse.js";
import { senderIdentity, type SenderIdentity } from "../../src/mailbox/identify.js";
import { REPO } from "../helpers/project.js";

/** The secret the fixtures' tokens are made with. */
export const FIXTURE_SECRET = "fixture-secret";

/** The sample configuration's text with a bounce address. */
export const CONFIG_WITH_BOUNCES = readFileSync(join(REPO, "presswork.config.yaml"), "utf8").replace(
  "  postalAddress:",
  "  bounces: { address: bounces@signal-noise.example }\n  postalAddress:",
);

/** The sample newsletter's identity, as the fixtures were written for it. */
export function fixtureIdentity(): SenderIdentity {
  const { config } = parseConfig(CONFIG_WITH_BOUNCES);
  if (!config?.newsletter) throw new Error("the sample config has no newsletter");
  return senderIdentity(config.newsletter, FIXTURE_SECRET);
}
