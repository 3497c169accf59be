import type { IncomingHttpHeaders } from "node:http";
import { Busboy } from "@fastify/busboy";
import type { FastifyInstance } from "fastify";
import { PressworkError } from "../errors/error.js";

/** What a multipart form may hold: a few short text fields, no files. */
const LIMITS = { fields: 20, fieldSize: 4096, fieldNameSize: 100, files: 0, parts: 20, headerPairs: 20 } as const;

/** An error Fastify answers with its status. */
const refusal = (statusCode: number, message: string) => Object.assign(new PressworkError("request-refused", message), { statusCode });

/** A form's text fields, and the first thing in it that LIMITS or busboy refused, if any. */
type Read = (fields: Record<string, string>, refused: PressworkError | undefined) => void;

/** Reads a multipart body with busboy: each field's first value, and what was wrong with it (a file, a field given twice, more fields than LIMITS, no boundary, a malformed body). */
function readMultipart(headers: IncomingHttpHeaders, body: Buffer | string, read: Read): void {
  const fields: Record<string, string> = {};
  let refused: PressworkError | undefined;
  const refuse = (error: PressworkError) => (refused ??= error);
  let form;
  try {
    form = Busboy({ headers: { ...headers, "content-type": headers["content-type"] ?? "" }, limits: LIMITS });
  } catch {
    read(fields, refusal(400, "The form's multipart body has no boundary."));
    return;
  }
  form.on("field", (name, value, nameTruncated, valueTruncated) => {
    if (nameTruncated || valueTruncated) refuse(refusal(413, "The request is too large."));
    else if (Object.hasOwn(fields, name)) refuse(refusal(400, `The field "${name.slice(0, 100)}" is given twice.`));
    else fields[name] = value;
  });
  // With LIMITS.files at 0, busboy skips every file part and says so once.
  form.on("filesLimit", () => refuse(refusal(400, "Files are not accepted.")));
  form.on("partsLimit", () => refuse(refusal(413, "The request is too large.")));
  form.on("fieldsLimit", () => refuse(refusal(413, "The request is too large.")));
  // busboy finishes after an error too.
  form.on("error", () => refuse(refusal(400, "The form's multipart body is malformed.")));
  form.on("finish", () => read(fields, refused));
  form.end(body);
}

/**
 * Reads `multipart/form-data` bodies (a form may be sent so) into their text
 * fields with busboy, as a content-type parser: only such requests pay for
 * it, where a plugin's hooks would run on every request. The body is
 * collected up to the route's limit by Fastify first (413 past it); a file,
 * a field given twice, or more fields than LIMITS, is refused.
 */
export function acceptMultipartForms(app: FastifyInstance): void {
  app.addContentTypeParser("multipart/form-data", { parseAs: "buffer" }, (request, body, done) => {
    readMultipart(request.headers, body, (fields, refused) => (refused ? done(refused, undefined) : done(null, fields)));
  });
}

/** A multipart boundary (RFC 2046's bchars), as a body without one in its Content-Type opens with it. */
const OPENING_BOUNDARY = /^--([0-9A-Za-z'()+_,./:=? -]{0,69}[0-9A-Za-z'()+_,./:=?-])\r?\n/;

/**
 * Reads whatever body a request to `scope`'s routes sends as a form's
 * fields, and refuses none: for the one-click unsubscribe of RFC 8058,
 * whose clients send `List-Unsubscribe=One-Click` as URL-encoded,
 * multipart, JSON, octet-stream or nothing, and whose link alone decides.
 * The first `limit` bytes are read and the rest is neither read nor waited for. A multipart body
 * is read by its boundary (by its first line when the Content-Type names
 * none), keeping a field's first value; a JSON object gives its string
 * members; anything else is read as URL-encoded; what cannot be read gives
 * no fields.
 */
export function acceptAnyBodyAsForm(scope: FastifyInstance, limit: number): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser("*", (request, payload, done) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let read = false;
    // Once `limit` bytes are in, the rest is not waited for: a body that never ends must not hold the answer.
    const finish = () => {
      if (read) return;
      read = true;
      payload.pause();
      const body = Buffer.concat(chunks).subarray(0, limit);
      const type = request.headers["content-type"] ?? "";
      if (/^\s*multipart\/form-data\b/i.test(type)) {
        const boundary = /;\s*boundary=/i.test(type) ? undefined : OPENING_BOUNDARY.exec(body.toString("latin1"))?.[1];
        const headers = boundary === undefined ? request.headers : { ...request.headers, "content-type": `multipart/form-data; boundary="${boundary}"` };
        readMultipart(headers, body, (fields) => done(null, fields));
      } else done(null, textFields(body.toString("utf8")));
    };
    payload.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) finish();
    });
    // A connection cut before the body ended is the client's doing, as Fastify's own parsers take it.
    payload.on("error", (error) => {
      if (!read) done(Object.assign(error, { statusCode: 400 }), undefined);
      read = true;
    });
    payload.on("end", finish);
  });
}

/** A text body's fields: a JSON object's string members, or else the body read as URL-encoded (the first value of each name). */
function textFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  if (text.trimStart().startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === "object") for (const [name, value] of Object.entries(parsed)) if (typeof value === "string") fields[name] = value;
      return fields;
    } catch {
      // Not JSON after all: read as URL-encoded below.
    }
  }
  for (const [name, value] of new URLSearchParams(text)) if (!Object.hasOwn(fields, name)) fields[name] = value;
  return fields;
}
