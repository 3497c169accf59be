import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { parse } from "csv-parse";
import { fileChunks } from "../files/chunks.js";

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

/** Where the list comes from: a file (CSV, JSON or JSON Lines) or the text of an environment variable. */
export type SubscriberSource = { file: string } | { text: string; origin: string };

/** Thrown when the list as a whole cannot be read (no email column, not a list). Names the source, never an address. */
export class SubscriberListError extends Error {}

/**
 * Streams a subscriber list one row at a time, so a million rows fit in a
 * little memory. CSV needs a header row with an `email` column; JSON is an
 * array of objects (read whole); JSON Lines (`.jsonl`, `.ndjson`) one object
 * a line.
 */
export async function* readSubscribers(source: SubscriberSource): AsyncGenerator<SubscriberRow | UnreadableRow> {
  const kind = kindOf(source);
  const origin = "file" in source ? source.file : source.origin;
  const stream = () => ("file" in source ? createReadStream(source.file) : Readable.from([source.text]));
  if (kind === "csv") yield* readCsv(stream(), origin);
  else if (kind === "jsonl") yield* readJsonLines(stream());
  else yield* readJsonArray(stream(), origin);
}

/**
 * About how many rows a list holds, for the progress display: its lines,
 * less a CSV's header, counted without parsing. Undefined for a JSON array.
 */
export function estimateRows(source: SubscriberSource): number | undefined {
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

function kindOf(source: SubscriberSource): "csv" | "json" | "jsonl" {
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

async function* readCsv(input: Readable, origin: string): AsyncGenerator<SubscriberRow | UnreadableRow> {
  let header: string[] | undefined;
  const parser = input.pipe(parse({ bom: true, skip_empty_lines: true, trim: true, relax_column_count: true, info: true }));
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!header) {
        header = record.map((h) => h.toLowerCase());
        if (!header.includes("email")) throw new SubscriberListError(`${origin}: the header row has no email column (found: ${header.join(", ") || "nothing"})`);
        continue;
      }
      const row: Record<string, string> = {};
      header.forEach((name, i) => {
        if (record[i] !== undefined && record[i] !== "") row[name] = record[i] as string;
      });
      yield toRow(row, info.lines);
    }
  } catch (error) {
    if (error instanceof SubscriberListError) throw error;
    const line = (error as { lines?: number }).lines;
    throw new SubscriberListError(`${origin}${line ? `:${line}` : ""}: the CSV is malformed: ${(error as Error).message.replace(/: ".*$/, "")}`);
  }
  if (!header) throw new SubscriberListError(`${origin}: the list is empty; it needs a header row with an email column`);
}

async function* readJsonLines(input: Readable): AsyncGenerator<SubscriberRow | UnreadableRow> {
  let line = 0;
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
    yield objectRow(value, line);
  }
}

async function* readJsonArray(input: Readable, origin: string): AsyncGenerator<SubscriberRow | UnreadableRow> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.from(chunk as Buffer));
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    throw new SubscriberListError(`${origin}: not valid JSON (${(error as Error).message.replace(/"[^"]*"/g, "…")})`);
  }
  if (!Array.isArray(value)) throw new SubscriberListError(`${origin}: a JSON list must be an array of subscribers`);
  for (let i = 0; i < value.length; i++) yield objectRow(value[i], i + 1);
}

function objectRow(value: unknown, line: number): SubscriberRow | UnreadableRow {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { line, reason: "not an object with an email field" };
  const row: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) row[k.toLowerCase()] = String(v);
  return toRow(row, line);
}

function toRow(row: Record<string, string>, line: number): SubscriberRow {
  const { email = "", name, status, ...fields } = row;
  return { line, email, ...(name ? { name } : {}), ...(status ? { status: status.toLowerCase() } : {}), fields };
}
