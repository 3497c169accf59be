import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { validateXML } from "xmllint-wasm";
import { REPO } from "./project.js";

const schemas = join(REPO, "test/fixtures/schemas");
const atomRng = readFileSync(join(schemas, "atom.rng"), "utf8");
const ajv = new Ajv.default({ allErrors: true, strict: false });
addFormats.default(ajv);
const jsonFeedSchema = ajv.compile(JSON.parse(readFileSync(join(schemas, "jsonfeed-1.1.schema.json"), "utf8")));

/** libxml2's verdict on a document: well-formed, and valid against the RELAX NG schema when one is given. */
export function xmllint(xml: string, relaxng?: "atom"): Promise<string[]> {
  return xmllintAll([["feed.xml", xml]], relaxng);
}

/**
 * xmllint's verdict on several documents, each error with the name of its
 * document and its line. One run for all: each run starts a thread and
 * compiles libxml2's WASM again, 80 ms of CPU.
 */
export async function xmllintAll(documents: ReadonlyArray<readonly [name: string, xml: string]>, relaxng?: "atom"): Promise<string[]> {
  if (documents.length === 0) return [];
  const result = await validateXML({
    xml: documents.map(([, xml], i) => ({ fileName: `document-${i}.xml`, contents: xml })),
    ...(relaxng ? { schema: { fileName: "atom.rng", contents: atomRng }, extension: "relaxng" as const } : { normalization: "format" as const }),
  });
  const named = (text: string) => text.replace(/document-(\d+)\.xml/g, (written, i: string) => documents[Number(i)]?.[0] ?? written);
  return result.errors.map((e) => named(e.loc ? `${e.loc.fileName}:${e.loc.lineNumber}: ${e.message}` : e.message));
}

/** Errors of a JSON Feed against the 1.1 schema. */
export function jsonFeedErrors(text: string): string[] {
  const ok = jsonFeedSchema(JSON.parse(text));
  return ok ? [] : (jsonFeedSchema.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** The HTML of each item's content exactly as written in an RSS or Atom file (CDATA sections, not entity-decoded). */
export function rawItemContents(xml: string): string[] {
  const pattern = /<(content:encoded|content type="html")><!\[CDATA\[([\s\S]*?)\]\]><\/(content:encoded|content)>/g;
  return [...xml.matchAll(pattern)].map((m) => m[2] ?? "");
}
