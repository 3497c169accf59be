import { createReadStream, existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { fileChunks } from "../files/chunks.js";
import { DEFAULT_DATABASE } from "../store/url.js";
import { csvRecords, malformedCsv, separatorProblem } from "./csv.js";
import { detect, EXPORT_NAMES, stateColumn } from "./export-format.js";
import { isPressworkError, PressworkError } from "../errors/error.js";

/** One row of a subscriber list, before validation, with the line it came from. */
export interface SubscriberRow {
  line: number;
  email: string;
  name?: string;
  status?: string;
  fields: Record<string, string>;
}

/** A row that could not be read at all (not an object, malformed JSON). */
export interface UnreadableRow {
  line: number;
  reason: string;
}

/**
 * Where the list comes from: a file (CSV, JSON or JSON Lines), the text of
 * an environment variable, the database (the active subscribers of `list`),
 * or a running service's GET /api/subscribers.
 */
export type SubscriberSource = { file: string } | { text: string; origin: string } | { database: string | undefined; root: string; list: string } | { url: string; token: string };


/**
 * Streams a subscriber list one row at a time, so a million rows fit in a
 * little memory. CSV needs a header row with an `email` column; JSON is an
 * array of objects (read whole); JSON Lines (`.jsonl`, `.ndjson`) one object
 * a line.
 */
export async function* readSubscribers(source: SubscriberSource): AsyncGenerator<SubscriberRow | UnreadableRow> {
  if ("database" in source) {
    yield* readDatabase(source);
    return;
  }
  if ("url" in source) {
    yield* readService(source);
    return;
  }
  const kind = kindOf(source);
  const origin = "file" in source ? source.file : source.origin;
  const stream = () => ("file" in source ? createReadStream(source.file) : Readable.from([source.text]));
  if (kind === "csv") yield* readCsv(stream(), origin);
  else if (kind === "jsonl") yield* readJsonLines(stream(), origin);
  else yield* readJsonArray(stream(), origin);
}

/** How a source is named at the start of a row's message (`NAME:LINE`): the file, the variable, the database, the service's URL without its query. */
export function sourceName(source: SubscriberSource): string {
  if ("file" in source) return source.file;
  if ("text" in source) return source.origin;
  if ("database" in source) return "the database";
  const url = new URL(source.url);
  return `${url.origin}${url.pathname}`;
}

/**
 * About how many rows a list holds, for the progress display: its lines,
 * less a CSV's header, counted without parsing. Undefined for a JSON array.
 */
export function estimateRows(source: SubscriberSource): number | undefined {
  if ("database" in source || "url" in source) return undefined;
  const kind = kindOf(source);
  if (kind === "json") return undefined;
  let lines = 0;
  let lastByte = 10;
  for (const chunk of "text" in source ? [Buffer.from(source.text)] : fileChunks(source.file)) {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    if (chunk.length > 0) lastByte = chunk[chunk.length - 1] as number;
  }
  if (lastByte !== 10) lines++;
  return Math.max(0, kind === "csv" ? lines - 1 : lines);
}

function kindOf(source: { file: string } | { text: string; origin: string }): "csv" | "json" | "jsonl" {
  return "file" in source ? kindOfFile(source.file) : kindOfText(source.text);
}

function kindOfFile(path: string): "csv" | "json" | "jsonl" {
  if (/\.(jsonl|ndjson)$/i.test(path)) return "jsonl";
  if (/\.json$/i.test(path)) return "json";
  return "csv";
}

function kindOfText(text: string): "csv" | "json" | "jsonl" {
  const start = text.trimStart();
  if (start.startsWith("[")) return "json";
  if (start.startsWith("{")) return "jsonl";
  return "csv";
}

/** A value as written before a CSV export kept a spreadsheet from running it as a formula (see csvField in store/transfer.ts). */
function unneutralised(value: string): string {
  return /^'[=+\-@\t\r]/.test(value) ? value.slice(1) : value;
}

async function* readCsv(input: Readable, origin: string): AsyncGenerator<SubscriberRow | UnreadableRow> {
  let header: string[] | undefined;
  try {
    for await (const { record, info } of csvRecords(input)) {
      if (!header) {
        header = record.map((h) => h.toLowerCase());
        const separator = separatorProblem(header);
        if (separator) throw new PressworkError("subscriber-list", `${origin}: ${separator}`);
        const format = detect(header);
        if (format !== "presswork") {
          throw new PressworkError(
            "subscriber-list",
            `${origin}: this is ${EXPORT_NAMES[format]}, whose columns say who stopped getting mail in ways a Presswork list does not: run \`presswork subscribers import\` first (without --format presswork), then send with --subscribers db; nothing was read from it`,
          );
        }
        if (!header.includes("email")) throw new PressworkError("subscriber-list", `${origin}: the header row has no email column (found: ${header.join(", ") || "nothing"})`);
        const column = stateColumn(record);
        if (column) {
          throw new PressworkError(
            "subscriber-list",
            `${origin}: the header has no status column, but its column "${column}" looks like a subscription state, and without a status every row would be read as active: add a status column (active, unsubscribed, bounced or complained), or rename the column if it says something else; nothing was read from it`,
          );
        }
        continue;
      }
      const row: Record<string, string> = {};
      header.forEach((name, i) => {
        if (record[i] !== undefined && record[i] !== "") row[name] = unneutralised(record[i] as string);
      });
      yield toRow(row, info.lines);
    }
  } catch (error) {
    if (isPressworkError(error)) throw error;
    throw new PressworkError("subscriber-list", malformedCsv(origin, error));
  }
  if (!header) throw new PressworkError("subscriber-list", `${origin}: the list is empty; it needs a header row with an email column`);
}

async function* readJsonLines(input: Readable, origin: string): AsyncGenerator<SubscriberRow | UnreadableRow> {
  let line = 0;
  let first = true;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      yield { line, reason: "not valid JSON" };
      continue;
    }
    // As a CSV's header: the first subscriber's keys speak for the list, before anyone is read.
    if (first) refuseStateWithoutStatus(value, `${origin}:${line}`);
    first = false;
    yield objectRow(value, line);
  }
}

/**
 * Refuses a list whose subscriber has a key like a subscription state and
 * no status (see stateColumn), before any row of it is used: read as
 * active, those it says stopped would be mailed.
 */
function refuseStateWithoutStatus(value: unknown, where: string): void {
  const key = typeof value === "object" && value !== null && !Array.isArray(value) ? stateColumn(Object.keys(value)) : undefined;
  if (key) {
    throw new PressworkError(
      "subscriber-list",
      `${where}: the subscriber has no status, but its key "${key}" looks like a subscription state, and without a status every subscriber would be read as active: give each a status (active, unsubscribed, bounced or complained), or rename the key if it says something else; nothing was read from it`,
    );
  }
}

async function* readJsonArray(input: Readable, origin: string): AsyncGenerator<SubscriberRow | UnreadableRow> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.from(chunk as Buffer));
  const text = Buffer.concat(chunks).toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8 quotes the text around the fault ('Unexpected token 'x', "[{"email":"ann@…", x]" is not valid JSON'): only what comes before is said.
    const message = (error as Error).message;
    const at = /at position (\d+)/.exec(message)?.[1];
    const line = at === undefined ? "" : `:${text.slice(0, Number(at)).split("\n").length}`;
    throw new PressworkError("subscriber-list", `${origin}${line}: not valid JSON (${message.split('"')[0]?.replace(/[\s,.]+$/, "")})`);
  }
  if (!Array.isArray(value)) throw new PressworkError("subscriber-list", `${origin}: a JSON list must be an array of subscribers`);
  const lines = elementLines(text);
  value.forEach((element, i) => refuseStateWithoutStatus(element, `${origin}:${lines[i] ?? 1}`));
  for (let i = 0; i < value.length; i++) yield objectRow(value[i], lines[i] ?? 1);
}

/** The line each element of a JSON array (text that parsed as one) starts on, in order. */
function elementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expecting = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") line++;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\n") continue;
    if (depth === 1 && expecting && c !== "]") {
      lines.push(line);
      expecting = false;
    }
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") {
      depth++;
      if (depth === 1) expecting = true;
    } else if (c === "]" || c === "}") depth--;
    else if (c === "," && depth === 1) expecting = true;
  }
  return lines;
}

/** A JSON subscriber; one without a status but with a key like a subscription state (`"subscribed": false`) is not read as active. */
function objectRow(value: unknown, line: number): SubscriberRow | UnreadableRow {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { line, reason: "not an object with an email field" };
  const row: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) row[k.toLowerCase()] = String(v);
  const key = stateColumn(Object.keys(value));
  if (key) return { line, reason: `no status, but "${key}" looks like a subscription state: without a status it would be read as active; give it a status (active, unsubscribed, bounced or complained), or rename the key if it says something else` };
  return toRow(row, line);
}

/**
 * The source a `--subscribers` value names when it is not a file: `db`, the
 * database of DATABASE_URL (or data/presswork.sqlite, when it exists), or
 * the URL of a running service's /api/subscribers, read with
 * PRESSWORK_API_TOKEN. https only, but for a service on this machine.
 */
export function remoteSource(value: string, context: { env: NodeJS.ProcessEnv; root: string; list: string }): SubscriberSource | undefined {
  if (value === "db") {
    const url = context.env["DATABASE_URL"] || undefined;
    if (!url && !existsSync(join(context.root, DEFAULT_DATABASE))) {
      throw new PressworkError("subscriber-list", `--subscribers db reads the database: set DATABASE_URL (postgres://… or sqlite:PATH), or run it where ${DEFAULT_DATABASE} exists`);
    }
    return { database: url, root: context.root, list: context.list };
  }
  if (!/^https?:\/\//i.test(value)) return undefined;
  if (!URL.canParse(value)) throw new PressworkError("subscriber-list", `--subscribers ${value} is not a URL`);
  const url = new URL(value);
  if (url.protocol === "http:" && !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
    throw new PressworkError("subscriber-list", `--subscribers ${url.origin}: the API token would cross the network in clear; use https://`);
  }
  const token = context.env["PRESSWORK_API_TOKEN"];
  if (!token) throw new PressworkError("subscriber-list", `--subscribers ${url.origin}${url.pathname} needs PRESSWORK_API_TOKEN, the service's API token`);
  return { url: url.href, token };
}

/** The list's active subscribers from the database, a batch at a time. */
async function* readDatabase(source: { database: string | undefined; root: string; list: string }): AsyncGenerator<SubscriberRow> {
  const [{ openStore }, { listRows }] = await Promise.all([import("../store/database.js"), import("../store/subscribers.js")]);
  let store;
  try {
    store = await openStore({ url: source.database, root: source.root, poolSize: 2 });
  } catch (error) {
    throw new PressworkError("subscriber-list", `cannot read the subscribers from the database: ${(error as Error).message}`);
  }
  try {
    let line = 0;
    for await (const s of listRows(store, source.list, ["active"])) {
      yield { line: ++line, email: s.email, ...(s.name ? { name: s.name } : {}), status: "active", fields: s.fields };
    }
  } finally {
    await store.close();
  }
}

/**
 * The list from a running service, streamed as JSON Lines. A list cut short
 * (the service died, the connection dropped) is an error, never a shorter
 * list: the send stops instead of counting the rest as done.
 */
async function* readService(source: { url: string; token: string }): AsyncGenerator<SubscriberRow | UnreadableRow> {
  const where = new URL(source.url);
  const origin = `${where.origin}${where.pathname}`;
  let response: Response;
  try {
    response = await fetch(source.url, { headers: { authorization: `Bearer ${source.token}`, accept: "application/x-ndjson" } });
  } catch (error) {
    throw new PressworkError("subscriber-list", `${origin}: cannot reach the service (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message})`);
  }
  if (response.status === 401) throw new PressworkError("subscriber-list", `${origin}: the service refused PRESSWORK_API_TOKEN (401)`);
  if (!response.ok || !response.body) throw new PressworkError("subscriber-list", `${origin}: the service answered ${response.status} ${response.statusText}`);
  let line = 0;
  try {
    for await (const text of createInterface({ input: Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), crlfDelay: Infinity })) {
      line++;
      if (text.trim() === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        yield { line, reason: "not valid JSON" };
        continue;
      }
      yield objectRow(value, line);
    }
  } catch (error) {
    throw new PressworkError("subscriber-list", `${origin}: the list was cut off after ${line} rows (${(error as Error).message}); nothing after them was read`);
  }
}

function toRow(row: Record<string, string>, line: number): SubscriberRow {
  const { email = "", name, status, ...fields } = row;
  return { line, email, ...(name ? { name } : {}), ...(status ? { status: status.toLowerCase() } : {}), fields };
}
