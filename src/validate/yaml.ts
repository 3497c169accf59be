import { LineCounter, isMap, isScalar, parseDocument, type Document, type Node } from "yaml";
import type { VFile } from "vfile";
import type { z } from "zod";
import { didYouMean } from "./suggest.js";

/** Where a YAML block sits inside its file, so messages point at file lines. */
export interface YamlPlace {
  /** 1-based line in the file of the block's first line. */
  line: number;
  /** Rule id prefix for messages, e.g. "front-matter" or "config". */
  rule: string;
}

interface Located {
  start: { line: number; column: number };
  end: { line: number; column: number };
}

/**
 * Parses a YAML block and validates it with a zod schema. Every problem becomes
 * a message on `file` with the line and column of the offending key or value;
 * unknown keys are warnings with a did-you-mean. Returns the typed value, or
 * undefined when anything fatal was found.
 */
export function parseYaml<S extends z.ZodType>(
  text: string,
  schema: S,
  file: VFile,
  place: YamlPlace,
): z.infer<S> | undefined {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const pos = counter.linePos(offset);
    return { line: pos.line + place.line - 1, column: pos.col };
  };
  const span = (range: readonly [number, number, number?] | null | undefined): Located | undefined =>
    range ? { start: at(range[0]), end: at(range[1]) } : undefined;

  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const reason = `YAML: ${error.message.split("\n")[0]}`;
      file.message(reason, { place: span(error.pos), ruleId: "yaml", source: place.rule }).fatal = true;
    }
    return undefined;
  }
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== "object" || Array.isArray(data)) {
    file.message(`${place.rule} must be a mapping of keys to values`, {
      place: { line: place.line, column: 1 },
      ruleId: "shape",
      source: place.rule,
    }).fatal = true;
    return undefined;
  }
  warnUnknownKeys(doc.contents, schema, [], file, place, span);

  const result = schema.safeParse(data);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const path = issue.path;
    if (issue.code === "unrecognized_keys") continue;
    const exact = path.length > 0 ? doc.getIn(path as unknown[], true) : undefined;
    const node = nodeAt(doc, path);
    const field = path.map(String).join(".") || place.rule;
    const value = exact === undefined && path.length > 0 ? " is missing:" : isScalar(exact) ? ` is ${JSON.stringify(exact.value)},` : "";
    file.message(`'${field}'${value} ${issue.message}`, {
      place: span(node?.range) ?? { line: place.line, column: 1 },
      ruleId: `${place.rule}-${path[0] === undefined ? "shape" : String(path[0])}`,
      source: place.rule,
    }).fatal = true;
  }
  return undefined;
}

function nodeAt(doc: Document, path: readonly PropertyKey[]): Node | undefined {
  for (let i = path.length; i >= 0; i--) {
    const found = doc.getIn(path.slice(0, i) as unknown[], true);
    if (found && typeof found === "object" && "range" in found) return found as Node;
  }
  return undefined;
}

function warnUnknownKeys(
  node: unknown,
  schema: z.ZodType | undefined,
  path: PropertyKey[],
  file: VFile,
  place: YamlPlace,
  span: (range: readonly [number, number, number?] | null | undefined) => Located | undefined,
): void {
  if (!isMap(node)) return;
  const shape = objectShape(schema);
  const known = shape ? Object.keys(shape) : undefined;
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (key === undefined) continue;
    if (known && !known.includes(key)) {
      const hint = didYouMean(key, known);
      const where = path.length ? ` in '${path.join(".")}'` : "";
      file.message(`unknown key '${key}'${where}${hint ? `: did you mean '${hint}'?` : ""} It is ignored.`, {
        place: span(isScalar(pair.key) ? pair.key.range : undefined),
        ruleId: "unknown-key",
        source: place.rule,
      });
    }
    warnUnknownKeys(pair.value, shape?.[key] ?? recordValue(schema), [...path, key], file, place, span);
  }
}

/** The fields of an object schema, looking through optional, default and union wrappers. */
function objectShape(schema: z.ZodType | undefined): Record<string, z.ZodType> | undefined {
  const def = unwrap(schema)?._zod.def as { type: string; shape?: Record<string, z.ZodType>; options?: z.ZodType[] } | undefined;
  if (!def) return undefined;
  if (def.type === "object") return def.shape;
  if (def.type === "union") {
    for (const option of def.options ?? []) {
      const shape = objectShape(option);
      if (shape) return shape;
    }
  }
  return undefined;
}

function recordValue(schema: z.ZodType | undefined): z.ZodType | undefined {
  const def = unwrap(schema)?._zod.def as { type: string; valueType?: z.ZodType } | undefined;
  return def?.type === "record" ? def.valueType : undefined;
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  for (;;) {
    const def = current?._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType } | undefined;
    if (!def) return current;
    if (def.type === "optional" || def.type === "default" || def.type === "nullable" || def.type === "prefault") current = def.innerType;
    else if (def.type === "pipe") current = def.in;
    else return current;
  }
}
