// The database's share of a one-click unsubscribe, without HTTP: a SQLite
// list of 100,000 active subscribers opened as `presswork serve` opens it
// (its checkpoint thread and page cache), then 40,000 of them unsubscribed
// in batches of 8 submitted at once, as the service's group commit gathers
// them under load. Reports the process's CPU time per unsubscribe (the
// checkpoint thread's included) and the wall time.
// Usage: npm run compile && node bench/unsubscribe-store.js [batch]
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { openStore } from "../lib/store/database.js";
import { SubscriberList } from "../lib/store/subscribers.js";
import { importActive } from "./list.js";

const WORK = join(import.meta.dirname, ".work/unsubscribe-store");
const LIST = "weekly.signal-noise.example";
const SUBSCRIBERS = 100_000;
const UNSUBSCRIBES = 40_000;
const BATCH = Number(process.argv[2] ?? 8);

await rm(WORK, { recursive: true, force: true });
await mkdir(WORK, { recursive: true });
const url = `sqlite:${join(WORK, "list.sqlite")}`;
let store = await openStore({ url, root: WORK });
let list = new SubscriberList(store, LIST, "bench-secret");
const members = await importActive(list, SUBSCRIBERS, (i) => `member.${i}@list${i % 97}.example.org`);
await store.close();

store = await openStore({ url, root: WORK, service: { onBackgroundError: (message) => console.error(message) } });
list = new SubscriberList(store, LIST, "bench-secret");
// Members in a shuffled order (the same every run), scattered over the table as real clicks are.
const order = members.map((_, i) => i);
for (let i = order.length - 1, seed = 1; i > 0; i--) {
  seed = (seed * 48271) % 2147483647;
  const j = seed % (i + 1);
  [order[i], order[j]] = [order[j], order[i]];
}
const keys = order.slice(0, UNSUBSCRIBES).map((i) => list.keyOf(members[i]));
const cpu = process.cpuUsage();
const start = performance.now();
for (let i = 0; i < keys.length; i += BATCH) {
  const outcomes = await Promise.all(keys.slice(i, i + BATCH).map((key) => list.unsubscribe(key, "one-click", new Date())));
  if (outcomes.some((o) => o !== "unsubscribed")) throw new Error(`unexpected outcomes: ${outcomes.join(", ")}`);
}
const used = process.cpuUsage(cpu);
const wall = performance.now() - start;
await store.close();
console.log(`SQLite, ${SUBSCRIBERS.toLocaleString("en")} subscribers, ${UNSUBSCRIBES.toLocaleString("en")} unsubscribes in batches of ${BATCH}: ${Math.round((used.user + used.system) / UNSUBSCRIBES)} µs of CPU and ${Math.round((wall * 1000) / UNSUBSCRIBES)} µs of wall time an unsubscribe`);
