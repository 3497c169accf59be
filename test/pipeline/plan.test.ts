import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { assemble } from "../../src/pipeline/build.js";
import { NOW, removeProjects, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

/** A feed file of the site's own feeds (the archive's, a tag's, an author's), not the newsletter's. */
const isSiteFeed = (path: string) => /(^|\/)(feed\.xml|atom\.xml|feed\.json)$/.test(path) && !path.startsWith("issues/");

describe("what a build holds before it writes", () => {
  it("keeps no page or feed text in memory: each is read back from the scratch packs when it is written", async () => {
    const root = await tempProject({ samples: true });
    const { plan } = await assemble({ root, now: NOW, out: join(root, "dist"), cacheDir: false });
    if (!plan) throw new Error("the sample project did not assemble");
    const pages = [...plan.files.keys()].filter((path) => path.endsWith(".html") && !path.startsWith("issues/next/"));
    const feeds = [...plan.files.keys()].filter(isSiteFeed);
    expect(pages.length).toBeGreaterThan(20);
    // The main feeds, and each tag's and author's.
    expect(feeds.length).toBeGreaterThan(9);
    const held = [...pages, ...feeds].filter((path) => typeof plan.files.get(path) !== "function");
    // (The store's scratch packs are gone once assemble returns: build writes from them before it closes the store.)
    expect(held).toEqual([]);
  });
});
