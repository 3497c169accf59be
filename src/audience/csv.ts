import { Readable } from "node:stream";
import { parse } from "csv-parse";

/** One record of a CSV list, with the line it ends on. */
export interface CsvRecord {
  record: string[];
  info: { lines: number };
}

/**
 * A subscriber list's CSV records: a BOM dropped, fields trimmed, rows of
 * any length, empty lines skipped, and so are rows of empty fields only
 * (the `,,,` Excel leaves where rows were cleared). Separated by commas,
 * or by semicolons where the header row has semicolons and no comma, as
 * Excel saves CSV where the comma is the decimal sign (much of Europe).
 * csv-parse counts a CRLF inside a quoted field (a note on two lines, as
 * Excel saves it) as two lines: here it is one, in the records' lines and
 * in an error's, and a quote never closed is placed on the line it opens,
 * not the file's last.
 */
export async function* csvRecords(input: Readable): AsyncGenerator<CsvRecord> {
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const first = await chunks.next();
  const head = first.done ? "" : String(first.value);
  const header = head.slice(0, (head.indexOf("\n") + 1 || head.length + 1) - 1);
  const delimiter = header.includes(";") && !header.includes(",") ? ";" : ",";
  const whole = Readable.from(
    (async function* () {
      if (!first.done) yield first.value;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
    })(),
  );
  yield* parsed(whole, delimiter);
}

async function* parsed(input: Readable, delimiter: string): AsyncGenerator<CsvRecord> {
  // Counted as the parser makes each record, which is before it meets an error further on: the stream drops the records it holds then.
  let extra = 0;
  let ended = 0;
  const count = ({ record, info }: CsvRecord): CsvRecord => {
    for (const field of record) extra += field.split("\r\n").length - 1;
    ended = info.lines - extra;
    return { record, info: { lines: ended } };
  };
  // csv-parse's types do not know that with `info` each record comes as { record, info }.
  const options = { delimiter, bom: true, skip_empty_lines: true, skip_records_with_empty_values: true, trim: true, relax_column_count: true, info: true, on_record: count as unknown as (record: string[]) => string[] };
  try {
    yield* input.pipe(parse(options)) as AsyncIterable<CsvRecord>;
  } catch (error) {
    // A quote never closed is found at the end of the file: it opens on the line after the last record.
    const found = error as { code?: string; lines?: number };
    if (found.code === "CSV_QUOTE_NOT_CLOSED") found.lines = ended + 1;
    else if (found.lines !== undefined) found.lines -= extra;
    throw error;
  }
}

/**
 * Why a header row read as one column is no comma-separated header, when
 * tabs separate it, as Excel saves its Text and Unicode Text (semicolons
 * are read: see csvRecords).
 */
export function separatorProblem(header: readonly string[]): string | undefined {
  const only = header.length === 1 ? (header[0] ?? "") : "";
  const separated = only.includes("\t") ? "tabs, not commas (as Excel saves Text and Unicode Text)" : undefined;
  return separated && `its header row is separated by ${separated}: save it as CSV with commas between the columns and run again; nothing was read from it`;
}

/** What csv-parse's commonest error codes mean, in words that quote nothing from the file. */
const MEANINGS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: "a quoted field is never closed",
  INVALID_OPENING_QUOTE: "a quote in the middle of a field",
  CSV_INVALID_CLOSING_QUOTE: "text right after a field's closing quote",
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: "text right after a field's closing quote",
};

/**
 * What to say of a subscriber list csv-parse refused (as csvRecords gives
 * its errors): its origin, the line and the parser's error code, never the
 * parser's message, which quotes the field it stopped at (an address, as
 * often as not).
 */
export function malformedCsv(origin: string, error: unknown): string {
  const { code, lines } = error as { code?: string; lines?: number };
  const meaning = code === undefined ? undefined : MEANINGS[code];
  return `${origin}${lines ? `:${lines}` : ""}: the CSV is malformed: ${meaning ? `${meaning} (${code})` : (code ?? "it cannot be read")}`;
}
