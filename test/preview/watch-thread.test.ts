import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import type { PressworkError } from "../../src/errors/error.js";
import { watchInputs } from "../../src/preview/watch.js";

const thread = (name: string) => fileURLToPath(new URL(`../fixtures/watch-threads/${name}.mjs`, import.meta.url));

describe("the preview's watcher thread", () => {
  it("says in the terminal that the inputs are no longer watched when its thread stops", async () => {
    const logged: string[] = [];
    const watch = await watchInputs("/p", () => {}, (line) => logged.push(line), thread("stops"));
    expect(watch.watched()).toEqual(["", "articles"]);
    // However busy the machine, the line comes once the thread has ended.
    await vi.waitFor(() => expect(logged).toEqual(["watching the inputs: the watcher stopped (exit code 3): restart the preview to see changes"]), { timeout: 10_000 });
    await watch.close();
  });

  it("fails with the system's own error when the inputs cannot be watched, so that it is not taken for a bug", async () => {
    const error = (await watchInputs("/p", () => {}, () => {}, thread("refused")).catch((e: unknown) => e)) as PressworkError & NodeJS.ErrnoException;
    expect(error.message).toMatch(/^ENOSPC: System limit for number of file watchers reached/);
    expect({ id: error.id, code: error.code, syscall: error.syscall }).toEqual({ id: "system", code: "ENOSPC", syscall: "watch" });
  });

  it("reports no change once closed, not even those already on their way, and says nothing of the thread's end", async () => {
    const logged: string[] = [];
    let changes = 0;
    const watch = await watchInputs("/p", () => changes++, (line) => logged.push(line), thread("changes"));
    await vi.waitFor(() => expect(changes).toBeGreaterThan(0), { timeout: 10_000 });
    await watch.close();
    // Closed at once when ready, with the thread's first changes still queued.
    let early = 0;
    const closed = await watchInputs("/p", () => early++, (line) => logged.push(line), thread("changes"));
    await closed.close();
    const seen = changes;
    await sleep(100);
    expect({ changes, early }).toEqual({ changes: seen, early: 0 });
    expect(logged).toEqual([]);
  });
});
