// Compiles src/ into lib/ (tsc) and bundles the command line into lib/bundle/
// (scripts/bundle.js), unless lib/ was compiled from exactly what is there now:
// `npm run build`, `check` and `dev` call it first, and it costs them a few
// milliseconds (a stat of each source) when nothing changed, not a compile.
// What lib/ is made from: every file and folder under src/ (a folder's time
// changes when a file is added, removed or renamed), the compiler settings,
// these scripts and the installed packages (npm's record of node_modules),
// which the bundle holds. Their paths, sizes and modification times are
// recorded in lib/.compiled once a compile succeeds.
// Usage: node scripts/compile.js [--force]
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const REPO = join(import.meta.dirname, "..");
const STAMP = join(REPO, "lib/.compiled");
const INPUTS = ["tsconfig.json", "package.json", "scripts/bundle.js", "scripts/compile.js", "node_modules/.package-lock.json"];

/** A digest of the path, size and modification time of everything lib/ is made from. */
function fingerprint() {
  const hash = createHash("sha256");
  const add = (path) => {
    try {
      const stat = statSync(join(REPO, path));
      hash.update(`${path}\0${stat.size}\0${stat.mtimeMs}\n`);
    } catch {
      hash.update(`${path}\0missing\n`);
    }
  };
  add("src");
  for (const entry of readdirSync(join(REPO, "src"), { recursive: true }).sort()) add(join("src", entry));
  for (const path of INPUTS) add(path);
  return hash.digest("hex");
}

/** Compiles and bundles when lib/ is not from the current sources (or always, with `force`); says whether it did. */
export function compile({ force = false } = {}) {
  const wanted = fingerprint();
  const fresh = !force && existsSync(join(REPO, "lib/bundle/main.js")) && existsSync(STAMP) && readFileSync(STAMP, "utf8") === wanted;
  if (fresh) return false;
  execFileSync(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-p", join(REPO, "tsconfig.json")], { stdio: "inherit" });
  execFileSync(process.execPath, [join(REPO, "scripts/bundle.js")], { stdio: "inherit" });
  writeFileSync(STAMP, wanted);
  return true;
}

if (process.argv[1] === import.meta.filename) compile({ force: process.argv.includes("--force") });
