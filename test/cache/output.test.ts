import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OutputState } from "../../src/cache/output.js";
import { CacheStore } from "../../src/cache/store.js";
import { MARKER } from "../../src/output/write.js";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

describe("the output state", () => {
  it("gives a rebuild the marker a build from nothing gives, whatever the output files are named", async () => {
    const root = await mkdtemp(join(tmpdir(), "presswork-output-state-"));
    dirs.push(root);
    const out = join(root, "dist");
    await mkdir(out);
    // Names an object has by default: a record of keys must not take them for files it knows.
    const files = ["index.html", "constructor", "toString", "__proto__", "hasOwnProperty"];
    /** Keys every file for a build whose index page has the key `index`, as a build does, and returns its marker. */
    const keyed = (state: OutputState, index: string) => {
      const last = state.plannedFrom("signature");
      for (const file of files) state.keep(file, file === "index.html" ? index : `key of ${file}`);
      state.planned({ signature: "signature", pages: last ? last.pages : ["index.html"], bodies: {} });
      return state.marker(files);
    };
    for (const index of ["a", "b", "c", "a"]) {
      const store = CacheStore.open(join(root, "cache"));
      const state = OutputState.open(store, out);
      const marker = keyed(state, index);
      expect(marker, `a rebuild with the index keyed ${index}`).toBe(keyed(OutputState.open(CacheStore.open(undefined), out), index));
      await writeFile(join(out, MARKER), marker);
      state.save();
      store.close();
    }
  });
});
