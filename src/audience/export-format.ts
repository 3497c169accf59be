/** The lists `presswork subscribers import` reads: Presswork's own (what the send reads) and other services' exports. */
export type ImportFormat = "presswork" | "mailchimp" | "substack" | "buttondown" | "ghost" | "listmonk" | "sendy" | "beehiiv";

/** The formats, for messages and flags. */
export const IMPORT_FORMATS: readonly ImportFormat[] = ["presswork", "mailchimp", "substack", "buttondown", "ghost", "listmonk", "sendy", "beehiiv"];

/** What each other service calls the file, for messages. */
export const EXPORT_NAMES: Record<Exclude<ImportFormat, "presswork">, string> = {
  mailchimp: "a Mailchimp audience export",
  substack: "a Substack subscriber export",
  buttondown: "a Buttondown subscriber export",
  ghost: "a Ghost members export",
  listmonk: "a listmonk subscriber export",
  sendy: "a Sendy subscriber export",
  beehiiv: "a beehiiv subscriber export",
};

/** Which service made a CSV, from its header row. */
export function detect(header: readonly string[]): ImportFormat {
  const names = new Set(header.map((h) => h.toLowerCase()));
  if (names.has("email address") && (names.has("optin_time") || names.has("euid") || names.has("leid"))) return "mailchimp";
  // Before Substack's: newer Ghost exports have an email_disabled column too.
  if (names.has("email") && names.has("subscribed_to_emails")) return "ghost";
  if (names.has("email") && (names.has("email_disabled") || names.has("active_subscription"))) return "substack";
  if ((names.has("email") || names.has("email_address")) && (names.has("subscriber_type") || names.has("type")) && names.has("creation_date")) return "buttondown";
  if (names.has("email") && names.has("uuid") && names.has("attributes") && names.has("status")) return "listmonk";
  // Both have an email and a status column, as Presswork's own list has, with values of their own.
  if (names.has("email") && names.has("status") && names.has("last activity") && names.has("opt-in method")) return "sendy";
  if (names.has("email") && names.has("status") && names.has("tier")) return "beehiiv";
  return "presswork";
}

/** Words in a column's name that say whether someone gets mail. */
const STATE = /subscri|unsub|state|disabled|block|blacklist|bounce|clean|complain|opt[ _-]?(in|out)|suppress/i;

/** Columns that only say when or from where someone signed up (subscribed_at, OPTIN_TIME, subscription_date, opt_in_ip). */
const SIGN_UP = /^(subscri[a-z]*|opt[ _-]?in)[ _-]?(at|on|time|date|ip)$/i;

/**
 * The first column of a header without a `status` column whose name looks
 * like a subscription state (subscribed, unsubscribed, email_disabled,
 * bounced, opt_out…): read as Presswork's own list, every row of such a file
 * would be imported as active.
 */
export function stateColumn(header: readonly string[]): string | undefined {
  if (header.some((h) => h.toLowerCase() === "status")) return undefined;
  return header.find((h) => STATE.test(h) && !SIGN_UP.test(h));
}
