import { VFile } from "vfile";
import { z } from "zod";
import { parseYaml } from "../validate/yaml.js";
import { RECORD_FILE } from "./limits.js";
import { fileError } from "../errors/rules.js";


const sentIssue = z.object({
  number: z.number().int().min(1),
  date: z.iso.datetime({ offset: true, error: "is not an ISO 8601 date-time such as 2026-11-03T08:00:00Z" }),
  subject: z.string(),
  articles: z.array(z.string()).min(1, "lists no article"),
  /** Articles the issue left out to fit Gmail's size. */
  leftOut: z.array(z.string()).optional(),
  counts: z.object({ sent: z.number().int().min(0), failed: z.number().int().min(0), suppressed: z.number().int().min(0) }).optional(),
});

const recordSchema = z.object({ issues: z.array(sentIssue) });

/** One issue already sent. */
export type SentIssue = z.infer<typeof sentIssue>;
/** The record of sent issues, oldest first. */
export type SentRecord = z.infer<typeof recordSchema>;

/**
 * Parses the record of sent issues. A missing record (undefined text) is an
 * empty one: the next issue is number 1. Numbers must run 1, 2, 3… in order.
 */
export function parseRecord(text: string | undefined): { record?: SentRecord; file: VFile } {
  const file = new VFile({ path: RECORD_FILE, value: text ?? "" });
  if (text === undefined) return { record: { issues: [] }, file };
  const record = parseYaml(text, recordSchema, file, { line: 1, rule: "record" });
  if (!record) return { file };
  record.issues.forEach((issue, index) => {
    if (issue.number !== index + 1) {
      fileError(file, "record-order", `issue number ${issue.number} is out of order: issue ${index + 1} was expected here. Fix the record by hand; numbers are never reused`, {
        place: { line: lineOf(text, `"number": ${issue.number}`), column: 1 },
      });
    }
  });
  return file.messages.some((m) => m.fatal) ? { file } : { record, file };
}

function lineOf(text: string, needle: string): number {
  const at = text.indexOf(needle);
  return at < 0 ? 1 : text.slice(0, at).split("\n").length;
}
