/** Whether `PRESSWORK_TIMINGS=1` asked for the time each stage of a build takes. */
const enabled = process.env["PRESSWORK_TIMINGS"] === "1";
let last = performance.now();

/** Prints, when asked, the milliseconds since the previous stage ended and since the process started, to stderr. */
export function stage(name: string): void {
  if (!enabled) return;
  const now = performance.now();
  process.stderr.write(`timing ${name.padEnd(16)} ${(now - last).toFixed(0).padStart(5)} ms  (at ${now.toFixed(0)} ms)\n`);
  last = now;
}
