// Email benchmark: compile a 10-article digest of summaries and one of full
// text (median of repeated runs each) and personalise 100,000 copies,
// streaming them (each copy is made and dropped).
import { cp, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { articleText } from "./generate.js";

const REPO = join(import.meta.dirname, "..");
const WORK = join(REPO, "bench/.work/email");
const { assemble } = await import("../lib/pipeline/build.js");
const { compileIssue } = await import("../lib/issues/render.js");
const { personaliser } = await import("../lib/issues/tokens.js");
const { unsubscribeLink } = await import("../lib/issues/unsubscribe-url.js");

/** A project with the sample config, templates and ten fresh articles, nothing sent yet. */
async function project() {
  await rm(WORK, { recursive: true, force: true });
  await mkdir(join(WORK, "articles"), { recursive: true });
  await cp(join(REPO, "templates"), join(WORK, "templates"), { recursive: true });
  await cp(join(REPO, "presswork.config.yaml"), join(WORK, "presswork.config.yaml"));
  let seed = 7;
  const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  for (let i = 0; i < 10; i++) await writeFile(join(WORK, "articles", `story-${i}.md`), articleText(i, 10, rand, false).text.replace(/\[the related story\]\([^)]*\)/, "the related story"));
  return WORK;
}

const root = await project();
const result = await assemble({ root, now: new Date("2026-11-29T12:00:00Z"), cacheDir: false });
const next = result.newsletter?.next;
if (!next) throw new Error(`no issue planned: ${result.files.flatMap((f) => f.messages.map(String)).join("\n")}`);
const { config } = result;
/** The median of 15 compiles of the issue with `content` set as given, and the HTML it makes. */
async function compile(content) {
  const newsletter = { ...config.newsletter, content };
  const times = [];
  let issue;
  for (let i = 0; i < 15; i++) {
    const started = performance.now();
    issue = await compileIssue(next.plan, config, newsletter, result.newsletter.templates);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], kb: Buffer.byteLength(issue.html) / 1024, shortened: issue.shortened };
}
const summary = await compile("summary");
const full = await compile("full");

const copies = 100_000;
const before = process.memoryUsage().rss;
const started = performance.now();
let bytes = 0;
const html = personaliser(next.html, "html");
const text = personaliser(next.text, "text");
for (let i = 0; i < copies; i++) {
  const values = { unsubscribe_url: unsubscribeLink("https://signal-noise.example/unsubscribe?list={list}&token={token}", "weekly", `t${i}`), name: `Reader ${i}`, greeting: `Hi Reader${i},` };
  // byteLength flattens each copy into one string, as writing it out would.
  bytes += Buffer.byteLength(html(values)) + Buffer.byteLength(text(values));
}
const seconds = (performance.now() - started) / 1000;
const peak = process.resourceUsage().maxRSS / 1024;
console.log(`email: 10-article digest of summaries ${summary.kb.toFixed(1)} KB, compile median ${summary.median.toFixed(1)} ms (of 15)`);
console.log(`email: 10-article digest in full ${full.kb.toFixed(1)} KB${full.shortened === "no" ? "" : ` (shortened: ${full.shortened})`}, compile median ${full.median.toFixed(1)} ms (of 15)`);
console.log(`email: ${copies.toLocaleString("en")} personalised copies (HTML + text, ${(bytes / 1e9).toFixed(2)} GB made and dropped) in ${seconds.toFixed(2)} s; RSS before ${(before / 1048576).toFixed(0)} MB, peak ${peak.toFixed(0)} MB`);

