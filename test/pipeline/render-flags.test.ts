import { describe, expect, it } from "vitest";
import { inheritedFlags } from "../../src/pipeline/render-all.js";

describe("the Node flags a render process inherits", () => {
  it("keeps this process's flags but never code given on the command line, which would run again in every render process", () => {
    expect(inheritedFlags(["--enable-source-maps", "-e", "build()", "--max-old-space-size=900"])).toEqual(["--enable-source-maps", "--max-old-space-size=900"]);
    expect(inheritedFlags(["-p", "x", "--eval=build()", "--print", "y", "-pe", "z", "--cpu-prof"])).toEqual(["--cpu-prof"]);
    expect(inheritedFlags([])).toEqual([]);
  });
});
