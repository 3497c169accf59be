import { execFileSync } from "node:child_process";

/** CLI tests run bin/presswork.js, which loads the bundled lib/: compile and bundle once before the run. */
export default function setup(): void {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
  execFileSync(process.execPath, ["scripts/bundle.js"], { stdio: "inherit" });
}
