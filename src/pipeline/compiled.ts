import { fileURLToPath } from "node:url";
import { PressworkError } from "../errors/error.js";

/**
 * The path of a compiled module beside `from` (an import.meta.url), for a
 * worker to load. Tests run modules from src/, where Node cannot load
 * TypeScript, so from there it is the twin in lib/ (src/preview/x.ts's
 * neighbour is in lib/preview/).
 */
export function compiledPath(from: string, name: string): string {
  const url = new URL(`./${name}`, from);
  if (from.endsWith(".ts")) {
    const twin = url.pathname.replace(/\/src\/([^/]+)\/([^/]+)$/, "/lib/$1/$2");
    if (twin === url.pathname) throw new PressworkError("internal", `${fileURLToPath(from)} is not in a folder of src/, where a worker's compiled twin can be found`);
    url.pathname = twin;
  }
  return fileURLToPath(url);
}
