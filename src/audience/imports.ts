import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { csvRecords, malformedCsv, separatorProblem } from "./csv.js";
import { detect, EXPORT_NAMES, type ImportFormat } from "./export-format.js";
import { readSubscribers, type UnreadableRow } from "./source.js";
import { isPressworkError, PressworkError } from "../errors/error.js";

/** One row of an export, read but not yet validated, with the line it came from. */
export interface ExportRow {
  line: number;
  email: string;
  name?: string;
  status: "active" | "unsubscribed" | "bounced" | "complained";
  subscribedAt?: Date;
  confirmedAt?: Date;
  stoppedAt?: Date;
  /** Where the person signed up from, as the export says (Mailchimp's OPTIN_IP, Buttondown's ip_address). */
  ip?: string;
  fields: Record<string, string>;
  /** What of the row could not be kept (a time it cannot read), said beside its line. */
  warnings?: string[];
}

/** A row left out on purpose (never confirmed there, a deletion request), by line, with why. */
export interface SkippedRow {
  line: number;
  skipped: string;
}

/**
 * Reads a subscriber export a row at a time. CSV files say what made them
 * by their header: Mailchimp's audience export ("Email Address", OPTIN_TIME,
 * CONFIRM_TIME, and UNSUB_TIME or CLEAN_TIME in its unsubscribed and cleaned
 * files; the rows of its nonsubscribed_… file are skipped), Ghost's members
 * export (email, subscribed_to_emails, created_at; it does not say whom Ghost
 * stopped mailing after bounces, which `onFormat` is told, and an
 * email_disabled column is read where a file has one), Substack's (email, active_subscription, email_disabled,
 * created_at), Buttondown's (email or email_address, subscriber_type or
 * type, creation_date), listmonk's (uuid, email, attributes, status: read
 * only when `format` names it, since it does not say who unsubscribed from
 * a list), or Presswork's own (email, name, status, anything else: refused
 * without a status column when another column looks like a subscription
 * state); JSON and JSON Lines are Presswork's own. A CSV file is read
 * through first, so a malformed one yields no row at all.
 */
export async function* readExport(path: string, format?: ImportFormat, onFormat?: (format: ImportFormat, warning?: string) => void): AsyncGenerator<ExportRow | SkippedRow | UnreadableRow> {
  if (/\.(json|jsonl|ndjson)$/i.test(path)) {
    if (format && format !== "presswork") throw new PressworkError("subscriber-list", `${path}: a ${format} export is a CSV file; JSON lists are Presswork's own format`);
    onFormat?.("presswork");
    yield* ownRows(path);
    return;
  }
  await checkCsv(path);
  let header: string[] | undefined;
  let read: ((row: Record<string, string>, line: number) => ExportRow | SkippedRow | UnreadableRow) | undefined;
  let own = false;
  try {
    for await (const { record, info } of csvRecords(createReadStream(path))) {
      if (!header) {
        header = record;
        const separator = separatorProblem(record);
        if (separator) throw new PressworkError("subscriber-list", `${path}: ${separator}`);
        const detected = detect(record);
        // A reader takes what its columns say of who stopped getting mail, and a file without them as everyone active.
        if (format && format !== "presswork" && format !== detected) {
          throw new PressworkError(
            "subscriber-list",
            `${path}: --format ${format} was given, but the header is not ${EXPORT_NAMES[format]}'s${detected === "presswork" ? "" : `: it is ${EXPORT_NAMES[detected]}`}, and read as ${format} the columns that say who stopped getting mail would be missed; import it without --format${detected === "presswork" ? ", which reads it as Presswork's own list (email, name, status)" : ""}; nothing was imported`,
          );
        }
        const found = format ?? detected;
        if (found === "listmonk" && !format) throw new PressworkError("subscriber-list", `${path}: ${LISTMONK_UNSUBSCRIBES}`);
        onFormat?.(found, found === "ghost" && !record.some((h) => h.toLowerCase() === "email_disabled") ? GHOST_BOUNCES_UNSAID : undefined);
        if (found === "presswork") {
          // Read as the send reads it (see readSubscribers), which refuses a column like a subscription state without a status.
          own = true;
          break;
        }
        read = readers[found](record, path);
        continue;
      }
      const row: Record<string, string> = {};
      header.forEach((name, i) => {
        const value = record[i];
        if (value !== undefined && value !== "") row[name] = value;
      });
      yield (read as NonNullable<typeof read>)(row, info.lines);
    }
  } catch (error) {
    if (isPressworkError(error)) throw error;
    throw new PressworkError("subscriber-list", malformedCsv(path, error));
  }
  if (own) yield* ownRows(path);
  if (!header) throw new PressworkError("subscriber-list", `${path}: the file is empty; it needs a header row with an email column`);
}

/**
 * Reads a CSV file through before any row of it is used: a malformed one
 * (an unclosed quote at the end of a million rows) is refused whole,
 * instead of after the batches before the break went in and with the rows
 * after it, unsubscribes among them, never read.
 */
async function checkCsv(path: string): Promise<void> {
  try {
    for await (const _ of csvRecords(createReadStream(path)));
  } catch (error) {
    throw new PressworkError("subscriber-list", `${malformedCsv(path, error)}; nothing was imported`);
  }
}

/** What a Ghost members export leaves out (Ghost writes no email_disabled column), said once as the file is imported. */
const GHOST_BOUNCES_UNSAID =
  "a Ghost members export does not say which members Ghost stopped mailing after a hard bounce or a spam complaint (their subscribed_to_emails stays true), so they are imported as active: the first issue's bounces and complaints stop them here. Leave them out before importing if you know them";

/** Why a listmonk export is read only when named with --format listmonk. */
const LISTMONK_UNSUBSCRIBES =
  "a listmonk subscriber export does not say who unsubscribed from a list (its status is the subscriber's: enabled, disabled or blocklisted), so everyone who unsubscribed from the list but was not blocklisted would be imported as active. Export from listmonk only the list's subscribers whose subscription is still on (the list's subscribers filtered by subscription status: confirmed, or unconfirmed on a single opt-in list) and import that file with --format listmonk; nothing was imported";

/**
 * Presswork's own list, as `subscribers export` writes it or by hand: its
 * `subscribed_at` is the consent's time and, for a stopped subscriber, its
 * `changed_at` the stop's; a pending subscriber (`export --status all`)
 * never confirmed, and is left out.
 */
async function* ownRows(path: string): AsyncGenerator<ExportRow | SkippedRow | UnreadableRow> {
  for await (const row of readSubscribers({ file: path })) {
    if ("reason" in row) {
      yield row;
      continue;
    }
    const status = row.status ?? "active";
    if (status === "pending") {
      yield { line: row.line, skipped: "pending: never confirmed, so not imported" };
      continue;
    }
    if (status !== "active" && status !== "unsubscribed" && status !== "bounced" && status !== "complained") {
      yield { line: row.line, reason: `status "${row.status}" is not one of active, unsubscribed, bounced, complained` };
      continue;
    }
    const { subscribed_at: _subscribed, changed_at: _changed, ...fields } = row.fields;
    const t = times(row.fields);
    const subscribedAt = t.at("subscribed_at");
    const stoppedAt = status === "active" ? undefined : t.at("changed_at");
    yield { line: row.line, email: row.email, ...(row.name ? { name: row.name } : {}), status, ...(subscribedAt ? { subscribedAt } : {}), ...(stoppedAt ? { stoppedAt } : {}), fields, ...t.warned() };
  }
}

type Reader = (header: string[], path: string) => (row: Record<string, string>, line: number) => ExportRow | SkippedRow | UnreadableRow;

/**
 * A time as an export writes it: ISO 8601; Mailchimp's "YYYY-MM-DD
 * HH:MM:SS" in UTC; or the same with fractions of a second and an offset, as
 * Buttondown ("…09.183465+00:00") and listmonk (Go's "…00.123456 +0530
 * IST", or "+0530 +0530" for a zone without a name) write it, or followed
 * by UTC, as beehiiv writes it. Undefined
 * when absent or unreadable.
 */
function time(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const spaced = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(?: ?([+-]\d{2}):?(\d{2})(?: \S+)?| UTC)?$/.exec(value);
  // A time without an offset is UTC, as the spaced form is: Date would read it in this machine's time zone.
  const iso = spaced ? `${spaced[1]}T${spaced[2]}${spaced[3] ? `${spaced[3]}:${spaced[4]}` : "Z"}` : /T[\d:.]+$/.test(value) ? `${value}Z` : value;
  // Year first only: "8/27/2022 15:06", as a spreadsheet saves it, would be read in this machine's time zone, and "27/08/2022" not at all.
  if (!/^\d{4}-\d{2}-\d{2}(?:$|T)/.test(iso)) return undefined;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The cell of `row` in the column named `name` (lower case), whatever the case of the file's header. */
function cell(row: Record<string, string>, name: string): string | undefined {
  return Object.entries(row).find(([k]) => k.toLowerCase() === name)?.[1];
}

/**
 * The times of a row (see time), by column; a column whose cell holds no
 * time it can read gets a warning, named by the column (never its value):
 * the consent is then recorded at the time of the import.
 */
function times(row: Record<string, string>) {
  const warnings: string[] = [];
  const at = (column: string | undefined): Date | undefined => {
    const value = column === undefined ? undefined : cell(row, column);
    const date = time(value);
    if (value && !date) warnings.push(`${column} is not a time written YYYY-MM-DD (2024-08-27, or 2024-08-27T15:06:00Z), as the service exports it: a spreadsheet may have rewritten it; its time is not kept`);
    return date;
  };
  return { at, warned: () => (warnings.length > 0 ? { warnings } : {}) };
}

/** TRUE and FALSE as Excel writes them in German, French, Spanish, Italian, Portuguese and Dutch. */
const EXCEL_TRUE = new Set(["wahr", "vrai", "verdadero", "vero", "verdadeiro", "waar"]);
const EXCEL_FALSE = new Set(["falsch", "faux", "falso", "onwaar"]);

/**
 * A yes-or-no cell as services and spreadsheets write it: true or false in
 * any case (Excel saves TRUE, and WAHR in German), 1 or 0, yes or no. An empty cell is `empty`,
 * or a problem when no default is given; any other value is the row's
 * problem, named by its column (never by its value, which could be an
 * address in a shifted row).
 */
function yesNo(row: Record<string, string>, column: string, line: number, empty?: boolean): boolean | UnreadableRow {
  const value = cell(row, column)?.toLowerCase();
  if (value === undefined) return empty ?? { line, reason: `${column} is empty: it must say true or false` };
  if (value === "true" || value === "1" || value === "yes" || EXCEL_TRUE.has(value)) return true;
  if (value === "false" || value === "0" || value === "no" || EXCEL_FALSE.has(value)) return false;
  return { line, reason: `${column} is not true or false (nor TRUE, FALSE, 1, 0, yes or no)` };
}

/** The row's name column, where it has one. */
function named(row: Record<string, string>): { name?: string } {
  const name = cell(row, "name");
  return name ? { name } : {};
}

/** The columns of `row` not in `known`, for the subscriber's fields. */
function rest(row: Record<string, string>, known: ReadonlySet<string>): Record<string, string> {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !known.has(k.toLowerCase())));
}

const MAILCHIMP_SYSTEM = new Set(
  ["email address", "first name", "last name", "member_rating", "optin_time", "optin_ip", "confirm_time", "confirm_ip", "latitude", "longitude", "gmtoff", "dstoff", "timezone", "cc", "region", "last_changed", "leid", "euid", "notes"].concat(
    ["unsub_time", "unsub_campaign_title", "unsub_campaign_id", "unsub_reason", "unsub_reason_other", "clean_time", "clean_campaign_title", "clean_campaign_id"],
  ),
);

const readers: Record<Exclude<ImportFormat, "presswork">, Reader> = {
  mailchimp: (header, path) => {
    const names = new Set(header.map((h) => h.toLowerCase()));
    if (!names.has("email address")) throw new PressworkError("subscriber-list", `${path}: a Mailchimp export needs its "Email Address" column`);
    // Mailchimp exports an audience as four files: subscribed_…, unsubscribed_… and cleaned_… (bounced), told apart by their extra
    // columns, and nonsubscribed_…, contacts who never opted in to marketing mail, with the subscribed file's columns: only its name says.
    if (/^nonsubscribed_/i.test(basename(path))) return (_row, line) => ({ line, skipped: "a nonsubscribed contact at Mailchimp: never opted in to marketing mail" });
    const status = names.has("unsub_time") ? "unsubscribed" : names.has("clean_time") ? "bounced" : "active";
    return (row, line) => {
      const get = (name: string) => cell(row, name);
      const name = [get("first name"), get("last name")].filter(Boolean).join(" ").trim();
      const t = times(row);
      const stoppedAt = t.at(status === "unsubscribed" ? "unsub_time" : status === "bounced" ? "clean_time" : undefined);
      const subscribedAt = t.at("optin_time");
      const confirmedAt = t.at("confirm_time");
      const ip = get("confirm_ip") ?? get("optin_ip");
      return {
        line,
        email: get("email address") ?? "",
        status,
        ...(name ? { name } : {}),
        ...(subscribedAt ? { subscribedAt } : {}),
        ...(confirmedAt ? { confirmedAt } : {}),
        ...(status !== "active" && stoppedAt ? { stoppedAt } : {}),
        ...(ip ? { ip } : {}),
        fields: rest(row, MAILCHIMP_SYSTEM),
        ...t.warned(),
      };
    };
  },
  substack: () => (row, line) => {
    const email = cell(row, "email") ?? "";
    // Substack replaces the address of someone who asked to be deleted.
    if (/@deletion-request\.substack\.com$/i.test(email)) return { line, skipped: "a deletion request" };
    const disabled = yesNo(row, "email_disabled", line, false);
    if (typeof disabled !== "boolean") return disabled;
    const t = times(row);
    const subscribedAt = t.at("created_at");
    return {
      line,
      email,
      status: disabled ? "unsubscribed" : "active",
      ...named(row),
      ...(subscribedAt ? { subscribedAt } : {}),
      fields: rest(row, new Set(["email", "email_disabled", "created_at", "name", "active_subscription", "expiry", "stripe_connected_customer_id"])),
      ...t.warned(),
    };
  },
  ghost: () => (row, line) => {
    const subscribed = yesNo(row, "subscribed_to_emails", line);
    if (typeof subscribed !== "boolean") return subscribed;
    // Ghost's own export has no such column (see GHOST_BOUNCES_UNSAID); a file that has one says Ghost stopped mail to the address.
    const disabled = yesNo(row, "email_disabled", line, false);
    if (typeof disabled !== "boolean") return disabled;
    const t = times(row);
    const subscribedAt = t.at("created_at");
    return {
      line,
      email: cell(row, "email") ?? "",
      status: disabled ? "bounced" : subscribed ? "active" : "unsubscribed",
      ...named(row),
      ...(subscribedAt ? { subscribedAt } : {}),
      fields: rest(row, new Set(["id", "email", "name", "note", "subscribed_to_emails", "email_disabled", "created_at", "deleted_at", "stripe_customer_id"])),
      ...t.warned(),
    };
  },
  listmonk: () => (row, line) => {
    const status = cell(row, "status")?.toLowerCase();
    if (status === "disabled") return { line, skipped: "disabled at listmonk" };
    if (status !== "enabled" && status !== "blocklisted") return { line, reason: "status is not enabled, disabled or blocklisted" };
    const t = times(row);
    const subscribedAt = t.at("created_at");
    return {
      line,
      email: cell(row, "email") ?? "",
      // listmonk mails no blocklisted address (blocklisted by hand, or on a bounce, a complaint or an unsubscribe, as it is set up).
      status: status === "enabled" ? "active" : "unsubscribed",
      ...named(row),
      ...(subscribedAt ? { subscribedAt } : {}),
      fields: rest(row, new Set(["uuid", "email", "name", "status", "created_at", "updated_at"])),
      ...t.warned(),
    };
  },
  sendy: () => (row, line) => {
    const said = cell(row, "status") ?? "";
    const status = SENDY[said.toLowerCase()];
    if (status === "skip") return { line, skipped: "never confirmed at Sendy" };
    if (status === undefined) return { line, reason: "Status is not Active, Unsubscribed, Bounced, Marked as spam or Unconfirmed" };
    // Sendy's Joined is written for people ("Mon, Jan 8, 2024 9:13AM"), in the installation's zone: the consent is recorded at the import.
    const ip = cell(row, "ip address");
    return {
      line,
      email: cell(row, "email") ?? "",
      status,
      ...named(row),
      ...(ip ? { ip } : {}),
      fields: rest(row, new Set(["name", "email", "joined", "last activity", "added via", "opt-in method", "ip address", "status", "gdpr"])),
    };
  },
  beehiiv: () => (row, line) => {
    const said = cell(row, "status")?.toLowerCase();
    if (said === "pending") return { line, skipped: "never confirmed at beehiiv" };
    // Inactive: unsubscribed, or stopped by beehiiv.
    if (said !== "active" && said !== "inactive") return { line, reason: "status is not active, inactive or pending" };
    const status = said === "active" ? "active" : "unsubscribed";
    const t = times(row);
    const subscribedAt = t.at("created_at");
    const stoppedAt = status === "unsubscribed" ? t.at("unsubscribed_at") : undefined;
    const name = [cell(row, "first name"), cell(row, "last name")].filter(Boolean).join(" ").trim();
    return {
      line,
      email: cell(row, "email") ?? "",
      status,
      ...(name ? { name } : {}),
      ...(subscribedAt ? { subscribedAt } : {}),
      ...(stoppedAt ? { stoppedAt } : {}),
      fields: rest(row, new Set(["email", "first name", "last name", "status", "created_at", "unsubscribed_at"])),
      ...t.warned(),
    };
  },
  buttondown: () => (row, line) => {
    const type = (cell(row, "subscriber_type") ?? cell(row, "type") ?? "regular").toLowerCase();
    const status = BUTTONDOWN[type];
    if (status === undefined) return { line, skipped: `Buttondown subscriber type "${type}" is not someone to mail` };
    if (status === "skip") return { line, skipped: type === "unactivated" ? "never confirmed at Buttondown" : `marked ${type} at Buttondown` };
    // The export's subscription_date, unsubscription_date and ip_address, where it has them, are the consent record and the stop.
    const t = times(row);
    const subscribedAt = t.at(cell(row, "subscription_date") !== undefined ? "subscription_date" : "creation_date");
    const stoppedAt = status === "unsubscribed" ? t.at("unsubscription_date") : undefined;
    const ip = cell(row, "ip_address");
    return {
      line,
      email: cell(row, "email_address") ?? cell(row, "email") ?? "",
      status,
      ...(subscribedAt ? { subscribedAt } : {}),
      ...(stoppedAt ? { stoppedAt } : {}),
      ...(ip ? { ip } : {}),
      fields: rest(row, new Set(["email", "email_address", "subscriber_type", "type", "creation_date", "subscription_date", "unsubscription_date", "ip_address", "id", "secondary_id", "notes", "source"])),
      ...t.warned(),
    };
  },
};

/** Sendy's statuses: who is mailed, who stopped (a complaint is "Marked as spam"), and who never confirmed. */
const SENDY: Record<string, ExportRow["status"] | "skip"> = {
  active: "active",
  unsubscribed: "unsubscribed",
  bounced: "bounced",
  "marked as spam": "complained",
  unconfirmed: "skip",
};

/**
 * Buttondown's subscriber types (its API's SubscriberType): who is mailed
 * (past_due and churned readers are still subscribed, only no longer
 * paying; upcoming ones are subscribed before their plan starts), who
 * stopped (removed by the newsletter too), and who never should be
 * (unconfirmed, spam, malformed or disposable addresses, disabled ones).
 */
const BUTTONDOWN: Record<string, ExportRow["status"] | "skip"> = {
  regular: "active",
  premium: "active",
  trialed: "active",
  unpaid: "active",
  gifted: "active",
  churning: "active",
  paused: "active",
  past_due: "active",
  churned: "active",
  // A premium subscription that starts later: subscribed already.
  upcoming: "active",
  unsubscribed: "unsubscribed",
  // Removed by the newsletter: stopped, so that no later import brings the address back.
  removed: "unsubscribed",
  undeliverable: "bounced",
  complained: "complained",
  unactivated: "skip",
  spammy: "skip",
  malformed: "skip",
  disposable: "skip",
  blocked: "skip",
  disabled: "skip",
};
