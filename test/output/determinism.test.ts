import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { build } from "../../src/pipeline/build.js";
import { article, NOW, put, removeProjects, REPO, snapshot, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

/**
 * Loaded first into a Node process (and its threads and child processes):
 * moves the clock `PRESSWORK_TEST_CLOCK_SHIFT` milliseconds away from the
 * real one, for `new Date()` and `Date.now()` alike.
 */
const SHIFT_CLOCK = `
const shift = Number(process.env.PRESSWORK_TEST_CLOCK_SHIFT);
const Real = Date;
globalThis.Date = class extends Real {
  constructor(...args) { if (args.length === 0) super(Real.now() + shift); else super(...args); }
  static now() { return Real.now() + shift; }
};
`;
const YEAR = 365.25 * 24 * 3600 * 1000;

describe("builds are reproducible", () => {
  it("gives identical bytes for the same input, built twice, with and without the render cache", async () => {
    const root = await tempProject({ samples: true });
    await build({ root, now: NOW, out: join(root, "a"), cacheDir: false });
    await build({ root, now: NOW, out: join(root, "b"), cacheDir: join(root, "cache") });
    await build({ root, now: new Date("2026-11-29T23:59:00Z"), out: join(root, "c"), cacheDir: join(root, "cache") });
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((d) => snapshot(join(root, d))));
    expect([...(b?.keys() ?? [])].sort()).toEqual([...(a?.keys() ?? [])].sort());
    for (const [path, bytes] of a ?? []) {
      expect(b?.get(path)?.equals(bytes), path).toBe(true);
      expect(c?.get(path)?.equals(bytes), `${path} at a later clock`).toBe(true);
    }
  });

  it("holds nothing of the real clock, the machine's time zone or the build's time", { timeout: 180_000 }, async () => {
    // Enough articles for the render processes to take part; and the newsletter's issues.
    const articles = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`extra-${i}.md`, article(`title: Extra ${i}\ndate: 2026-10-${String((i % 28) + 1).padStart(2, "0")}T0${i % 10}:15:00`, `Body ${i}, with a [link](https://example.org/${i}).`)]));
    const root = await tempProject({ samples: true, articles });
    const preload = join(root, "shift-clock.mjs");
    await put(preload, SHIFT_CLOCK);
    const run = (shift: number, zone: string, args: string[]) =>
      execFileSync(process.execPath, ["--import", preload, ...args], { cwd: root, encoding: "utf8", env: { ...process.env, GITHUB_ACTIONS: "", PRESSWORK_TEST_CLOCK_SHIFT: String(shift), TZ: zone } });
    // The shifted clock is what the processes see.
    expect(run(40 * YEAR, "UTC", ["--input-type=module", "-e", "console.log(new Date().getUTCFullYear(), Date.now() > Date.UTC(2060, 0))"]).trim()).toMatch(/^20[67]\d true$/);
    // Decades apart, on opposite sides of the date line: the same --now must give the same bytes.
    const cli = join(REPO, "bin/presswork.js");
    run(40 * YEAR, "Pacific/Kiritimati", [cli, "build", "--now", "2026-11-29T12:00:00Z", "--no-cache", "--out", "future"]);
    run(-30 * YEAR, "America/Adak", [cli, "build", "--now", "2026-11-29T12:00:00Z", "--no-cache", "--out", "past"]);
    const [future, past] = await Promise.all([snapshot(join(root, "future")), snapshot(join(root, "past"))]);
    expect([...future.keys()].sort()).toEqual([...past.keys()].sort());
    for (const [path, bytes] of future) {
      expect(past.get(path)?.equals(bytes), path).toBe(true);
      if (!/\.(html|xml|json|txt|eml)$/.test(path)) continue;
      // The build's own time is not in it either: only dates of articles and issues are.
      const text = bytes.toString("utf8");
      expect(text, path).not.toContain("2026-11-29");
      expect(text, path).not.toContain("29 Nov 2026");
    }
  });

  it("writes Liquid's date filter in the site's language and time zone, whatever the machine's locale and time zone", { timeout: 120_000 }, async () => {
    const config = (await readFile(join(REPO, "presswork.config.yaml"), "utf8")).replace(/^  language: en$/m, "  language: fr");
    expect(config).toContain("language: fr");
    const template = await readFile(join(REPO, "templates/site/article.liquid"), "utf8");
    const root = await tempProject({
      config,
      articles: { "automne.md": article("title: Automne\ndate: 2026-10-14T09:00:00Z", "Un paragraphe.") },
      templates: {
        "site/article.liquid": template.replace(
          "</time>",
          '</time> <span class="named">{{ article.published | date: "%A %B" }} | {{ article.published | date: "%c" }} | {{ article.published | date: "%x, %X %%c" }} | {{ article.published | date: "%X", "Asia/Tokyo" }}</span>',
        ),
      },
    });
    const cli = join(REPO, "bin/presswork.js");
    const named = (locale: string, zone: string, out: string) => {
      execFileSync(process.execPath, [cli, "build", "--now", "2026-11-29T12:00:00Z", "--no-cache", "--out", out], { cwd: root, encoding: "utf8", env: { ...process.env, GITHUB_ACTIONS: "", LANG: locale, LC_ALL: locale, TZ: zone } });
      return readFile(join(root, out, "articles/automne/index.html"), "utf8").then((page) => /<span class="named">([^<]*)<\/span>/.exec(page)?.[1]);
    };
    // 09:00 UTC is 10:00 in the site's London, and still the day before in Honolulu; Tokyo's time when the filter is given it.
    // %c, %x and %X are the locale's own forms (LiquidJS writes them as the machine's: 14.10.2026, 10:00:00 under German).
    const french = "mercredi octobre | 14/10/2026 10:00:00 | 14/10/2026, 10:00:00 %c | 18:00:00";
    expect(await named("de_DE.UTF-8", "Pacific/Honolulu", "de")).toBe(french);
    expect(await named("C.UTF-8", "UTC", "c")).toBe(french);
  });

  it("rebuilds only what changed: an edited article shows up, cached ones stay the same", async () => {
    const root = await tempProject({ samples: true });
    const cacheDir = join(root, "cache");
    await build({ root, now: NOW, out: join(root, "dist"), cacheDir });
    const path = join(root, "articles/municipal-broadband.md");
    await writeFile(path, (await readFile(path, "utf8")).replace("mostly good news", "mostly very good news"));
    const second = await build({ root, now: NOW, out: join(root, "dist"), cacheDir });
    const page = await readFile(join(root, "dist/articles/municipal-broadband/index.html"), "utf8");
    expect(page).toContain("mostly very good news");
    expect(second.articles.find((a) => a.slug === "municipal-broadband")?.body.html.feed).toContain("mostly very good news");
  });
});
