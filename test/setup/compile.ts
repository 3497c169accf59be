import { execFileSync } from "node:child_process";

/** CLI tests run bin/presswork.js, which loads the bundled lib/: compile and bundle before the run when the sources changed. */
export default function setup(): void {
  execFileSync(process.execPath, ["scripts/compile.js"], { stdio: "inherit" });
}
