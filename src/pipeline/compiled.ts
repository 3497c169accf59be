import { fileURLToPath } from "node:url";

/**
 * The path of a compiled module beside `from` (an import.meta.url), for a
 * worker to load. Tests run modules from src/, where Node cannot load
 * TypeScript, so from there it is the twin in lib/.
 */
export function compiledPath(from: string, name: string): string {
  return fileURLToPath(from.endsWith(".ts") ? new URL(`../../lib/pipeline/${name}`, from) : new URL(`./${name}`, from));
}
