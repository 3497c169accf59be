import { Busboy } from "@fastify/busboy";
import type { FastifyInstance } from "fastify";
import { PressworkError } from "../errors/error.js";

/** What a multipart form may hold: a few short text fields, no files. */
const LIMITS = { fields: 20, fieldSize: 4096, fieldNameSize: 100, files: 0, parts: 20, headerPairs: 20 } as const;

/** An error Fastify answers with its status. */
const refusal = (statusCode: number, message: string) => Object.assign(new PressworkError("request-refused", message), { statusCode });

/**
 * Reads `multipart/form-data` bodies (RFC 8058 lets a one-click unsubscribe
 * come this way, and a form may be sent so) into their text fields with
 * busboy, as a content-type parser: only such requests pay for it, where a
 * plugin's hooks would run on every request. The body is collected up to
 * the route's limit by Fastify first (413 past it); a file, a field given
 * twice, or more fields than LIMITS, is refused.
 */
export function acceptMultipartForms(app: FastifyInstance): void {
  app.addContentTypeParser("multipart/form-data", { parseAs: "buffer" }, (request, body, done) => {
    const fields: Record<string, string> = {};
    let refused: Error | undefined;
    const refuse = (error: Error) => (refused ??= error);
    let form;
    try {
      form = Busboy({ headers: { ...request.headers, "content-type": request.headers["content-type"] ?? "" }, limits: LIMITS });
    } catch {
      done(refusal(400, "The form's multipart body has no boundary."), undefined);
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
    form.on("error", () => refuse(refusal(400, "The form's multipart body is malformed.")));
    form.on("finish", () => (refused ? done(refused, undefined) : done(null, fields)));
    form.end(body);
  });
}
