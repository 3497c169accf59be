import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { VFile } from "vfile";
import { PressworkError } from "../errors/error.js";
import { fileError } from "../errors/rules.js";
import { decodeUtf8 } from "../files/utf8.js";
import type { TemplateSources } from "./liquid.js";

/**
 * Template sources from the bytes of the files in `folder`, by name. Fails
 * with a content error when any is not UTF-8, naming each such file and the
 * lines of its bad bytes.
 */
export function templateSources(folder: string, files: ReadonlyMap<string, Buffer>): TemplateSources {
  const sources: Record<string, string> = {};
  const bad: VFile[] = [];
  for (const [name, bytes] of files) {
    const file = new VFile({ path: `${folder}/${name}` });
    sources[name] = decodeUtf8(bytes, file);
    if (file.messages.length > 0) bad.push(file);
  }
  if (bad.length > 0) throw new PressworkError("content", "a template is not UTF-8: save it as UTF-8", { files: bad });
  return sources;
}

/**
 * A templates folder that is not there (`folder`, relative to the project
 * root), as a problem on the folder, for a content error: `what` is what
 * the build makes from it.
 */
export function missingTemplates(folder: string, what: string): VFile {
  const file = new VFile({ path: `${folder}/` });
  fileError(file, "templates-missing", `is missing: ${what} made from the Liquid templates there. Copy the folder from Presswork's repository`, { place: { line: 1, column: 1 } });
  return file;
}

/**
 * The `*.liquid` templates of the flat folder `folder` (relative to the
 * project root), in name order: a content error when one is not UTF-8.
 * Undefined when the folder is not there.
 */
export function readTemplateFolder(root: string, folder: string): TemplateSources | undefined {
  const dir = join(root, folder);
  if (!existsSync(dir)) return undefined;
  return templateSources(folder, new Map(readdirSync(dir).filter((name) => name.endsWith(".liquid")).sort().map((name) => [name, readFileSync(join(dir, name))])));
}
