/** Whether `PRESSWORK_TIMINGS=1` asked for the time each stage of a build takes; `=gc` also collects garbage before each reading, so the heap is what the stage keeps (with node --expose-gc). */
const enabled = process.env["PRESSWORK_TIMINGS"] === "1" || process.env["PRESSWORK_TIMINGS"] === "gc";
const collect = process.env["PRESSWORK_TIMINGS"] === "gc" ? (globalThis as { gc?: () => void }).gc : undefined;
let last = performance.now();

/** Prints, when asked, the milliseconds since the previous stage ended and since the process started, and the memory held, to stderr. */
export function stage(name: string): void {
  if (!enabled) return;
  collect?.();
  const now = performance.now();
  const { rss, heapUsed } = process.memoryUsage();
  const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0).padStart(4)} MB`;
  process.stderr.write(`timing ${name.padEnd(26)} ${(now - last).toFixed(0).padStart(5)} ms  (at ${now.toFixed(0)} ms)  rss ${mb(rss)}, heap ${mb(heapUsed)}\n`);
  last = now;
}
