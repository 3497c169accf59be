import { describe, expect, it } from "vitest";
import { compiledPath } from "../../src/pipeline/compiled.js";

describe("compiledPath", () => {
  it("finds a worker beside the module in lib/ and lib/bundle/, and its compiled twin in lib/ for a module run from src/", () => {
    expect(compiledPath("file:///repo/lib/bundle/chunk-ab12.js", "watch-worker.js")).toBe("/repo/lib/bundle/watch-worker.js");
    expect(compiledPath("file:///repo/lib/preview/watch.js", "watch-worker.js")).toBe("/repo/lib/preview/watch-worker.js");
    expect(compiledPath("file:///repo/src/preview/watch.ts", "watch-worker.js")).toBe("/repo/lib/preview/watch-worker.js");
    expect(compiledPath("file:///repo/src/pipeline/render-all.ts", "render-worker.js")).toBe("/repo/lib/pipeline/render-worker.js");
    // A checkout whose own path holds a src/ folder.
    expect(compiledPath("file:///home/me/src/presswork/src/pipeline/render-pages.ts", "page-worker.js")).toBe("/home/me/src/presswork/lib/pipeline/page-worker.js");
  });

  it("refuses a TypeScript module outside a folder of src/, whose twin it could not name", () => {
    expect(() => compiledPath("file:///repo/src/main.ts", "worker.js")).toThrow(/not in a folder of src\//);
  });
});
