import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { build } from "../../src/pipeline/build.js";
import { writeNotified } from "../../src/websub/changes.js";
import { pingHub } from "../../src/websub/ping.js";
import { runCliAsync, runCliHere, startCli } from "../helpers/cli.js";
import { REPO, removeProjects, tempProject } from "../helpers/project.js";

/** A WebSub hub on loopback: records every publish notification and answers as told for each feed. */
interface Hub {
  url: string;
  pings: Array<{ mode: string | null; url: string | null; type: string | undefined }>;
  /** Status codes to answer for a feed, one per request, then 204. */
  script: Map<string, number[]>;
  /** Requests answered before the hub stops answering: it takes those after and never replies. */
  answered: number;
  /** Resolves once the hub has received `count` requests. */
  received: (count: number) => Promise<void>;
  close: () => Promise<void>;
}

async function startHub(): Promise<Hub> {
  const pings: Hub["pings"] = [];
  const script = new Map<string, number[]>();
  const waiting: Array<{ count: number; resolve: () => void }> = [];
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const form = new URLSearchParams(body);
      const url = form.get("hub.url");
      pings.push({ mode: form.get("hub.mode"), url, type: request.headers["content-type"] });
      for (const wait of waiting.filter((w) => pings.length >= w.count)) wait.resolve();
      if (pings.length > started.answered) return;
      const status = (url ? script.get(url)?.shift() : undefined) ?? 204;
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const started: Hub = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    pings,
    script,
    answered: Infinity,
    received: (count) => (pings.length >= count ? Promise.resolve() : new Promise((resolve) => waiting.push({ count, resolve }))),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return started;
}

let hub: Hub;
beforeAll(async () => {
  hub = await startHub();
});
afterAll(async () => {
  await hub.close();
  await removeProjects();
});

const NOW = "2026-11-29T12:00:00Z";
const built = async (root: string) => expect((await build({ root, now: new Date(NOW), out: join(root, "dist"), cacheDir: false })).written).toBeDefined();
const withHub = async (url: string) => (await readFile(join(REPO, "presswork.config.yaml"), "utf8")).replace("  fullContent: true\n", `  fullContent: true\n  hub: ${url}\n`);
/** The address of every feed of a built project. */
const feedUrls = async (root: string) =>
  (await readdir(join(root, "dist"), { recursive: true }))
    .map((p) => p.split("\\").join("/"))
    .filter((p) => /(^|\/)(feed\.xml|atom\.xml|feed\.json)$/.test(p))
    .map((p) => `https://signal-noise.example/${p}`)
    .sort();

/** A built sample project whose hub answers the first `answered` pings, then takes the others and never replies. */
async function withHangingHub(answered: number): Promise<{ root: string; hanging: Hub }> {
  const hanging = await startHub();
  onTestFinished(() => hanging.close());
  hanging.answered = answered;
  const root = await tempProject({ samples: true, config: await withHub(hanging.url) });
  await built(root);
  return { root, hanging };
}

describe("presswork websub", () => {
  it("pings the hub for every feed once, then for only the feeds an edit changed", { timeout: 120_000 }, async () => {
    const root = await tempProject({ samples: true, config: await withHub(hub.url) });
    await built(root);
    const feeds = (await readdir(join(root, "dist"), { recursive: true })).map((p) => p.split("\\").join("/")).filter((p) => /(^|\/)(feed\.xml|atom\.xml|feed\.json)$/.test(p));
    expect(feeds.length).toBeGreaterThan(50);

    hub.pings.length = 0;
    const first = await runCliHere(["websub", "--state", "websub.json"], root);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`${feeds.length} of ${feeds.length} feed(s) to ping (every feed: nothing recorded in websub.json yet)`);
    expect(hub.pings.map((p) => p.url).sort()).toEqual(feeds.map((f) => `https://signal-noise.example/${f}`).sort());
    expect(new Set(hub.pings.map((p) => `${p.mode} ${p.type}`))).toEqual(new Set(["publish application/x-www-form-urlencoded"]));

    hub.pings.length = 0;
    const again = await runCliHere(["websub", "--state", "websub.json"], root);
    expect(again.stdout).toContain(`0 of ${feeds.length} feed(s) to ping (changed since the last ping)`);
    expect(hub.pings).toEqual([]);

    // A body edit to a story by Tomás tagged Networks and Infrastructure.
    const path = join(root, "articles/undersea-cable-repair.md");
    await writeFile(path, (await readFile(path, "utf8")).replace("The call came at 3 a.m.", "The call came at 4 a.m."));
    await built(root);
    hub.pings.length = 0;
    expect((await runCliHere(["websub", "--state", "websub.json"], root)).code).toBe(0);
    const pinged = hub.pings.map((p) => p.url?.replace("https://signal-noise.example/", "")).sort();
    expect(pinged).toEqual(["atom.xml", "authors/tomas/atom.xml", "authors/tomas/feed.json", "authors/tomas/feed.xml", "feed.json", "feed.xml", "tags/infrastructure/atom.xml", "tags/infrastructure/feed.json", "tags/infrastructure/feed.xml", "tags/networks/atom.xml", "tags/networks/feed.json", "tags/networks/feed.xml"]);
  });

  it("says which feed the hub refused, exits 1, and pings that feed again next time", { timeout: 120_000 }, async () => {
    const root = await tempProject({ samples: true, config: await withHub(hub.url) });
    await built(root);
    hub.script.set("https://signal-noise.example/atom.xml", [500]);
    hub.pings.length = 0;
    const failed = await runCliHere(["websub", "--state", "websub.json", "--retries", "0"], root);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`presswork websub: ${hub.url} did not take the ping for https://signal-noise.example/atom.xml: 500 Internal Server Error (1 try)`);
    expect(failed.stderr).toContain("WebSub: 1 of ");
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    hub.pings.length = 0;
    const retried = await runCliHere(["websub", "--state", "websub.json"], root);
    expect(retried.code).toBe(0);
    expect(hub.pings.map((p) => p.url)).toEqual(["https://signal-noise.example/atom.xml"]);
  });

  it("records each ping as the hub takes it: a run killed while the hub hangs loses none, and the next run pings only the others", { timeout: 120_000 }, async () => {
    const { root, hanging } = await withHangingHub(10);
    const run = startCli(["websub", "--state", "websub.json"], root);
    // Four pings go at a time, and each is recorded before the next goes: once the hub holds four it will not answer, the ten before are recorded.
    await hanging.received(10 + 4);
    run.child.kill("SIGKILL");
    await run.done;
    const taken = hanging.pings.slice(0, 10).map((p) => p.url ?? "");
    const state = JSON.parse(await readFile(join(root, "websub.json"), "utf8")) as Record<string, string>;
    expect(Object.keys(state).sort()).toEqual([...taken].sort());

    await writeFile(join(root, "presswork.config.yaml"), await withHub(hub.url));
    hub.pings.length = 0;
    const next = await runCliHere(["websub", "--state", "websub.json"], root);
    expect(next.code).toBe(0);
    const all = await feedUrls(root);
    expect(next.stdout).toContain(`${all.length - 10} of ${all.length} feed(s) to ping (changed since the last ping)`);
    expect(hub.pings.map((p) => p.url).sort()).toEqual(all.filter((url) => !taken.includes(url)));
  });

  it("refuses a --max-minutes no job could wait for (past a timer's range it would end the run at once), naming the limit", async () => {
    const { root } = await withHangingHub(0);
    for (const value of ["0", "-1", "100000"]) {
      const run = await runCliHere(["websub", "--state", "websub.json", "--max-minutes", value], root);
      expect(run.code, value).toBe(2);
      expect(run.stderr).toContain("--max-minutes must be a number of minutes above 0 and at most 1440");
    }
  });

  it("stops after --max-minutes when the hub stops answering, names the feeds left for the next run, keeps what the hub took, and exits 1", { timeout: 120_000 }, async () => {
    const { root, hanging } = await withHangingHub(10);
    const run = await runCliAsync(["websub", "--state", "websub.json", "--max-minutes", "0.05"], root);
    expect(run.code).toBe(1);
    const all = await feedUrls(root);
    const taken = hanging.pings.slice(0, 10).map((p) => p.url ?? "");
    expect(run.stderr).toContain(`presswork websub: stopped after 0.05 minute(s) (--max-minutes), with ${all.length - 10} feed(s) the hub has not taken a ping for:\n`);
    for (const url of all.filter((u) => !taken.includes(u))) expect(run.stderr).toContain(`\n  ${url}\n`);
    expect(run.stderr).toContain(`WebSub: 10 of ${all.length} ping(s) taken, 0 failed, ${all.length - 10} left when the time ran out; the next run pings those again.`);
    const state = JSON.parse(await readFile(join(root, "websub.json"), "utf8")) as Record<string, string>;
    expect(Object.keys(state).sort()).toEqual([...taken].sort());
  });

  it("says so and exits 0 when no hub is configured, and says what to do when nothing is built", async () => {
    const root = await tempProject({ samples: true });
    const none = await runCliHere(["websub"], root);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain("feeds.hub is not set");
    const unbuilt = await tempProject({ samples: true, config: await withHub(hub.url) });
    const missing = await runCliHere(["websub"], unbuilt);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("there is no built site in dist/: run presswork build first");
  });
});

describe("presswork websub with a --state that is not its state file", () => {
  /** A built project for each test, so a file one of them overwrites cannot break another. */
  const builtProject = async () => {
    const root = await tempProject({ samples: true, config: await withHub(hub.url) });
    await built(root);
    return root;
  };

  /** Runs websub in `root` with `--state state`; expects it refused before any ping, and returns what it printed. */
  const refused = async (root: string, state: string) => {
    hub.pings.length = 0;
    const run = await runCliHere(["websub", "--state", state], root);
    expect(hub.pings).toEqual([]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain(`presswork websub: --state ${state} is not the state file presswork websub writes`);
    expect(run.stderr).toContain("nothing was pinged and nothing was written [websub-state]");
    expect(run.stderr).toContain("Point --state at the state file presswork websub writes; if that file is damaged, delete it and the next run pings every feed.");
    return run.stderr;
  };

  it("leaves the config given as --state by mistake as it was, and pings nothing", { timeout: 120_000 }, async () => {
    const root = await builtProject();
    const config = await readFile(join(root, "presswork.config.yaml"));
    expect(await refused(root, "presswork.config.yaml")).toContain("(it is not JSON)");
    expect(await readFile(join(root, "presswork.config.yaml"))).toEqual(config);
  });

  it("refuses a folder before any ping, and leaves no temporary file", { timeout: 120_000 }, async () => {
    const root = await builtProject();
    await mkdir(join(root, "state"));
    expect(await refused(root, "state")).toContain("(it is a folder)");
    expect(await readdir(join(root, "state"))).toEqual([]);
    expect((await readdir(root)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("leaves a state file cut short, or a JSON file of another kind, as it was", { timeout: 120_000 }, async () => {
    const root = await builtProject();
    const cut = `{\n  "https://signal-noise.example/atom.xml": "${"ab".repeat(32)}",\n  "https://signal-noise.example/fe`;
    await writeFile(join(root, "websub.json"), cut);
    expect(await refused(root, "websub.json")).toContain("(it is not JSON)");
    expect(await readFile(join(root, "websub.json"), "utf8")).toBe(cut);
    const other = `{ "name": "site", "version": "1.0.0", "private": true }\n`;
    await writeFile(join(root, "package.json"), other);
    expect(await refused(root, "package.json")).toContain("(it is JSON, but not feed URLs with their digests)");
    expect(await readFile(join(root, "package.json"), "utf8")).toBe(other);
  });
});

describe("pinging a hub", () => {
  it("tries again after a 503, a 429 or a dropped connection, and gives up on a 4xx at once", async () => {
    const dropping = createServer((request) => request.socket.destroy());
    await new Promise<void>((resolve) => dropping.listen(0, "127.0.0.1", resolve));
    const options = { retries: 2, retryDelayMs: 10, timeoutMs: 20_000, concurrency: 2 };
    hub.script.set("https://x.example/a.xml", [503, 429]);
    hub.script.set("https://x.example/b.xml", [404]);
    hub.script.set("https://x.example/c.xml", [503, 503, 503]);
    const results = await pingHub(hub.url, ["https://x.example/a.xml", "https://x.example/b.xml", "https://x.example/c.xml"], options);
    expect(results).toEqual([
      { url: "https://x.example/a.xml", ok: true, tries: 3 },
      { url: "https://x.example/b.xml", ok: false, tries: 1, reason: "404 Not Found" },
      { url: "https://x.example/c.xml", ok: false, tries: 3, reason: "503 Service Unavailable" },
    ]);
    const [gone] = await pingHub(`http://127.0.0.1:${(dropping.address() as AddressInfo).port}/`, ["https://x.example/a.xml"], options);
    expect(gone).toMatchObject({ ok: false, tries: 3, reason: expect.stringContaining("fetch failed") });
    dropping.close();
  });
});

describe("stopping a run of pings", () => {
  it("starts no ping once told to stop, cuts off those under way as left, and tells each result as it comes", async () => {
    const hanging = await startHub();
    onTestFinished(() => hanging.close());
    hanging.answered = 2;
    const stop = new AbortController();
    const heard: string[] = [];
    const urls = ["a", "b", "c", "d", "e"].map((name) => `https://x.example/${name}.xml`);
    const pinging = pingHub(hanging.url, urls, { retries: 3, retryDelayMs: 10, timeoutMs: 600_000, concurrency: 2 }, { signal: stop.signal, onResult: (r) => heard.push(r.url) });
    // Two answered, then the next two held without an answer.
    await hanging.received(4);
    expect(heard.sort()).toEqual(urls.slice(0, 2));
    stop.abort();
    const left = (url: string, tries: number) => ({ url, ok: false, tries, reason: "the time ran out first", left: true });
    expect(await pinging).toEqual([{ url: urls[0], ok: true, tries: 1 }, { url: urls[1], ok: true, tries: 1 }, left(urls[2] as string, 1), left(urls[3] as string, 1), left(urls[4] as string, 0)]);
    expect(heard).toHaveLength(5);
  });
});

describe("writing the state", () => {
  it("leaves no temporary file when the state cannot be put in place", async () => {
    const dir = await mkdtemp(join(tmpdir(), "presswork-websub-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, "state", "taken"), { recursive: true });
    expect(() => writeNotified(join(dir, "state"), { "https://x.example/feed.xml": "ab".repeat(32) })).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(await readdir(dir)).toEqual(["state"]);
  });
});
