// node bench/email-images.js [--articles N]: what the email's picture copies
// (a source wider than twice the 552 px slot is resized to 1104 px) cost a build.
// Times `presswork build`, each in a fresh process:
// - the samples, cold (no cache, no output);
// - N short articles, each with its own 2400 × 1350 JPEG: cold (the copies the
//   next issue links to made), again (copies kept in the output), and into a
//   new folder with the cache (copies read from the cache);
// - the same N articles with 1000 × 563 photos (under twice the slot: no copy),
//   cold, for the difference;
// - the N articles with 2400 × 1350 photos and a second 2400 × 1350 JPEG in
//   each body, in a full-text newsletter: cold and again (only the next
//   issue's body pictures get copies).
import { execFileSync } from "node:child_process";
import { cp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Jimp } from "jimp";
import { generate } from "./generate.js";
import { measure } from "./measure.js";

const REPO = join(import.meta.dirname, "..");
const WORK = join(REPO, "bench/.work");
const { values } = parseArgs({ options: { articles: { type: "string", default: "1000" } } });
const N = Number(values.articles);
const NOW = "2026-11-29T12:00:00Z";

execFileSync(process.execPath, [join(REPO, "scripts/compile.js")], { stdio: "inherit" });
const build = (cwd, out = "dist") => measure({ script: join(REPO, "bin/presswork.js"), args: ["build", "--now", NOW, "--out", out], cwd });
const fresh = (project) => Promise.all([".presswork-cache", "dist", "dist2"].map((name) => rm(join(project, name), { recursive: true, force: true })));
const line = (what, r) => console.log(`${what.padEnd(62)} ${r.seconds.toFixed(2)} s${r.cpu === undefined ? "" : ` (CPU ${r.cpu.toFixed(2)} s)`}, peak ${r.mb.toFixed(0)} MB`);

/** A photo-like JPEG (quality 85): smooth gradients with a little grain, so it compresses as a photograph does. */
async function photo(width, height) {
  const image = new Jimp({ width, height });
  const data = image.bitmap.data;
  let seed = 7;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      const grain = (seed >>> 29) - 4;
      data.set([(x * 255) / width + grain, (y * 255) / height + grain, 128 + ((x * y) % 64) + grain, 255], (y * width + x) * 4);
    }
  }
  return image.getBuffer("image/jpeg", { quality: 85 });
}

/** The same picture as other bytes: a comment segment naming `i` after the start marker, so each article's photo gets its own copy. */
function variant(jpeg, i) {
  const text = Buffer.from(`photo ${i}`);
  const segment = Buffer.alloc(4 + text.length);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(text.length + 2, 2);
  text.copy(segment, 4);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

console.log(`Node ${process.version}, ${N} articles`);
{
  // One copy made in this process: decoding the source, resizing it and encoding the copy.
  const { resizeImage } = await import("../lib/issues/images.js");
  const source = join(WORK, "one-photo.jpg");
  await mkdir(WORK, { recursive: true });
  await writeFile(source, await photo(2400, 1350));
  const times = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await resizeImage({ file: "x.jpg", source, mime: "image/jpeg", width: 1104, height: 621 });
    times.push((performance.now() - started) / 1000);
  }
  times.sort((a, b) => a - b);
  console.log(`one copy, 2400 × 1350 JPEG to 1104 × 621: median ${times[2].toFixed(2)} s of 5 (${times[0].toFixed(2)}–${times[4].toFixed(2)})`);
}
const samples = join(WORK, "samples");
await rm(samples, { recursive: true, force: true });
for (const name of ["articles", "templates", "newsletter", "presswork.config.yaml"]) await cp(join(REPO, name), join(samples, name), { recursive: true });
line("samples, cold", await build(samples));

const large = await photo(2400, 1350);
const small = await photo(1000, 563);
console.log(`photos: 2400 × 1350 JPEG ${(large.length / 1024).toFixed(0)} KB, 1000 × 563 ${(small.length / 1024).toFixed(0)} KB`);
for (const [label, png] of [["1000 × 563 photos (no copy)", small], ["2400 × 1350 photos", large]]) {
  const project = join(WORK, `email-images-${png === large ? "large" : "small"}-${N}`);
  await generate(project, N, "short", { imageEvery: 1, photo: (i) => variant(png, i), photoName: "photo.jpg" });
  await fresh(project);
  line(`${N} articles, ${label}, cold`, await build(project));
  if (png !== large) continue;
  const copies = (await readdir(join(project, "dist/articles"), { recursive: true })).filter((p) => /\.1104w-[0-9a-f]{12}\.jpg$/.test(p)).length;
  console.log(`  email copies written: ${copies}`);
  line(`${N} articles, ${label}, again (copies kept)`, await build(project));
  line(`${N} articles, ${label}, new folder (copies from cache)`, await build(project, "dist2"));
}

{
  const project = join(WORK, `email-images-body-${N}`);
  await generate(project, N, "short", { imageEvery: 1, photo: (i) => variant(large, i), photoName: "photo.jpg" });
  const config = join(project, "presswork.config.yaml");
  await writeFile(config, (await readFile(config, "utf8")).replace("content: summary", "content: full"));
  for (const slug of await readdir(join(project, "articles"))) {
    const index = join(project, "articles", slug, "index.md");
    await writeFile(join(project, "articles", slug, "body.jpg"), variant(large, `body ${slug}`));
    await writeFile(index, `${await readFile(index, "utf8")}\n![A second photo in the body.](body.jpg)\n`);
  }
  await fresh(project);
  line(`${N} articles, photo and body photo, full text, cold`, await build(project));
  const copies = (await readdir(join(project, "dist/articles"), { recursive: true })).filter((p) => /body\.1104w-[0-9a-f]{12}\.jpg$/.test(p)).length;
  console.log(`  body copies written: ${copies}`);
  line(`${N} articles, photo and body photo, full text, again`, await build(project));
}
