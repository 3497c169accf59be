import { execFileSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO, removeProjects, tempProject } from "../helpers/project.js";

const installs: string[] = [];
afterAll(async () => {
  await removeProjects();
  await Promise.all(installs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/**
 * A copy of this Presswork as `npm ci` leaves it: package files, bin/,
 * scripts/ and the compiled lib/, over node_modules hard-linked to ours (so
 * a file in it must be removed, never written over: see `patch`).
 */
async function install(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "presswork-install-"));
  installs.push(dir);
  for (const part of ["package.json", "package-lock.json", "bin", "scripts", "lib"]) await cp(join(REPO, part), join(dir, part), { recursive: true });
  // The folder itself, never a link to it (a work tree's node_modules may be one): a link copied would let `patch` remove our files.
  execFileSync("cp", ["-al", realpathSync(join(REPO, "node_modules")), join(dir, "node_modules")]);
  return dir;
}

/** Runs the installed command line in a project. */
function presswork(dir: string, root: string, args: string[]): string {
  return execFileSync(process.execPath, [join(dir, "bin/presswork.js"), ...args], { cwd: root, encoding: "utf8", env: { ...process.env, GITHUB_ACTIONS: "" } });
}

describe("the cache after a dependency changes", () => {
  it("is not used: a cached build shows what the new version makes, as a build without the cache does", { timeout: 180_000 }, async () => {
    const dir = await install();
    const root = await tempProject({ samples: true });
    const page = () => readFile(join(root, "dist/articles/open-silicon-fab/index.html"), "utf8");
    expect(presswork(dir, root, ["build", "--now", "2026-11-29T12:00:00Z"])).toMatch(/\([1-9]\d* file\(s\) written/);
    expect(await page()).toContain('class="hljs-built_in"');

    // lowlight upgraded to a version with another class prefix, as `npm install` would leave it:
    // the package replaced, npm's record of node_modules updated, and the command line bundled again
    // (prepare), which puts the new version's code in lib/bundle/ (written there as the bundler would).
    const lowlight = join(dir, "node_modules/lowlight");
    await rm(lowlight, { recursive: true });
    await cp(join(REPO, "node_modules/lowlight"), lowlight, { recursive: true });
    const code = join(lowlight, "lib/index.js");
    await writeFile(code, (await readFile(code, "utf8")).replace("const defaultPrefix = 'hljs-'", "const defaultPrefix = 'hl-'"));
    const manifest = JSON.parse(await readFile(join(lowlight, "package.json"), "utf8")) as { version: string };
    await writeFile(join(lowlight, "package.json"), JSON.stringify({ ...manifest, version: "3.4.0" }));
    const record = join(dir, "node_modules/.package-lock.json");
    const locked = JSON.parse(await readFile(record, "utf8")) as { packages: Record<string, { version: string }> };
    (locked.packages["node_modules/lowlight"] as { version: string }).version = "3.4.0";
    await rm(record);
    await writeFile(record, JSON.stringify(locked));
    const bundled: string[] = [];
    for (const name of await readdir(join(dir, "lib/bundle"))) {
      const chunk = join(dir, "lib/bundle", name);
      const text = await readFile(chunk, "utf8");
      if (!text.includes('const defaultPrefix = "hljs-"')) continue;
      await writeFile(chunk, text.replace('const defaultPrefix = "hljs-"', 'const defaultPrefix = "hl-"'));
      bundled.push(name);
    }
    expect(bundled, "the bundle holds lowlight's prefix once").toHaveLength(1);

    const cached = presswork(dir, root, ["build", "--now", "2026-11-29T12:00:00Z"]);
    expect(await page()).toContain('class="hl-built_in"');
    expect(await page()).not.toContain("hljs-");
    expect(cached).not.toContain(" 0 file(s) written");
    const fresh = await readFile(join(root, "dist/articles/open-silicon-fab/index.html"));
    presswork(dir, root, ["build", "--now", "2026-11-29T12:00:00Z", "--no-cache", "--out", "fresh"]);
    expect((await readFile(join(root, "fresh/articles/open-silicon-fab/index.html"))).equals(fresh)).toBe(true);
  });
});
