// Generates a project of N articles shaped like the samples: front matter with a
// pinned id, Quick Reads, headings, internal and external links, a table, a
// blockquote, a code block, and an image next to every tenth article. Short
// articles are about 230 words (1.7 KB); real-size ones about 800 words
// (5-8 KB), as a news article is: more sections, a longer table and code
// block, lists and emphasis.
import { cp, mkdir, rm, writeFile, copyFile } from "node:fs/promises";
import { join } from "node:path";

const REPO = join(import.meta.dirname, "..");
const WORDS = "chip network cable fibre kernel driver wafer node packet router model phone battery repair policy budget research qubit server latency bandwidth silicon foundry compiler release patch vendor standard protocol spectrum satellite".split(" ");
const TAGS = ["Chips", "Networks", "Open Source", "Policy", "Hardware", "AI", "Research", "Programming", "Business", "Quantum", "Infrastructure", "R&D"];
const AUTHORS = ["ada", "tomas", "mei"];

/** A small deterministic generator, so every run writes the same project. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const MORE_WORDS = "the a of to and in that for on with as by from at which their its this has have was were is are will would could said says according engineers operators researchers regulators customers towns cities companies country market year month week quarter decade percent million billion cost price speed capacity demand supply design test trial result report study figure number share growth decline change plan deal contract licence rule review vote".split(" ");

function sentence(rand, words = 14) {
  const out = Array.from({ length: words }, () => WORDS[Math.floor(rand() * WORDS.length)]);
  out[0] = out[0].charAt(0).toUpperCase() + out[0].slice(1);
  return `${out.join(" ")}.`;
}

/** The Markdown of article `i` of `n`. */
export function articleText(i, n, rand, withImage, imageEvery = 10) {
  const day = new Date(Date.UTC(2026, 10, 28) - i * 3_600_000 * 7);
  const date = day.toISOString().slice(0, 19) + "Z";
  const slug = `story-${i}`;
  const other = (i + 1) % n;
  const tags = [TAGS[i % TAGS.length], TAGS[(i * 7 + 3) % TAGS.length]];
  const front = [
    `title: "Story ${i}: ${sentence(rand, 6).slice(0, -1)}"`,
    `date: ${date}`,
    `id: tag:signal-noise.example,${date.slice(0, 10)}:${slug}`,
    `authors: [${AUTHORS[i % 3]}]`,
    `tags: [${[...new Set(tags)].map((t) => JSON.stringify(t)).join(", ")}]`,
    `summary: ${JSON.stringify(sentence(rand, 24))}`,
    ...(withImage ? ["image:", "  src: photo.png", `  alt: ${JSON.stringify(sentence(rand, 8))}`] : []),
  ];
  const link = withImage ? `../story-${other}${other % imageEvery === 0 ? "/index.md" : ".md"}` : `story-${other}${other % imageEvery === 0 ? "/index.md" : ".md"}`;
  const body = [
    "## Quick Reads",
    "",
    ...Array.from({ length: 3 + (i % 3) }, () => `- ${sentence(rand, 12)}`),
    "",
    `${sentence(rand)} ${sentence(rand)} See [the related story](${link}) and [the source](https://example.org/source/${i}).`,
    "",
    "## What happened",
    "",
    `${sentence(rand, 20)} ${sentence(rand, 18)} ${sentence(rand, 16)}`,
    "",
    "| Metric | Before | After |",
    "| --- | --- | --- |",
    `| Throughput | ${i % 97} | ${(i % 97) + 12} |`,
    `| Latency | ${i % 31} ms | ${i % 17} ms |`,
    "",
    `> ${sentence(rand, 16)}`,
    "",
    "```python",
    `def measure_${i}(samples):`,
    "    return sum(samples) / len(samples)",
    "```",
    "",
    "## What comes next",
    "",
    `${sentence(rand, 22)} ${sentence(rand, 14)} ${sentence(rand, 19)} ${sentence(rand, 12)}`,
    "",
  ];
  return { slug, text: `---\n${front.join("\n")}\n---\n\n${body.join("\n")}` };
}

/** Prose of `words` words in sentences of 12 to 24, mostly common words, a few emphasised. */
function prose(rand, words) {
  const out = [];
  let left = words;
  while (left > 0) {
    const length = Math.min(left, 12 + Math.floor(rand() * 13));
    const parts = Array.from({ length }, () => {
      const list = rand() < 0.55 ? MORE_WORDS : WORDS;
      return list[Math.floor(rand() * list.length)];
    });
    if (length > 3 && rand() < 0.15) parts[1] = `*${parts[1]}*`;
    if (length > 3 && rand() < 0.08) parts[2] = `**${parts[2]}**`;
    parts[0] = parts[0].charAt(0).toUpperCase() + parts[0].slice(1);
    out.push(`${parts.join(" ")}.`);
    left -= length;
  }
  return out.join(" ");
}

/**
 * The Markdown of real-size article `i` of `n`: about 800 words in five
 * sections (headings h2 and h3), links to another article and to the web,
 * a table of eight rows, a quote, a code block and a list.
 */
export function realArticleText(i, n, rand, withImage, imageEvery = 10) {
  const { slug, text } = articleText(i, n, rand, withImage, imageEvery);
  const front = text.slice(0, text.indexOf("\n---\n") + 5);
  const other = (i + 7) % n;
  const link = `${withImage ? "../" : ""}story-${other}${other % imageEvery === 0 ? "/index.md" : ".md"}`;
  const body = [
    "## Quick Reads",
    "",
    ...Array.from({ length: 3 + (i % 3) }, () => `- ${sentence(rand, 12)}`),
    "",
    `${prose(rand, 70)} See [the related story](${link}) and [the source](https://example.org/source/${i}).`,
    "",
    prose(rand, 80),
    "",
    "## What happened",
    "",
    `${prose(rand, 60)} The [regulator's filing](https://example.org/filings/${i}.pdf) gives the figures.`,
    "",
    "| Metric | Before | After | Change |",
    "| --- | ---: | ---: | ---: |",
    ...["Throughput", "Latency", "Error rate", "Uptime", "Cost per unit", "Energy", "Customers", "Sites"].map((name, k) => `| ${name} | ${(i * (k + 3)) % 97} | ${((i * (k + 5)) % 89) + 4} | ${((i + k) % 21) - 10} % |`),
    "",
    prose(rand, 90),
    "",
    "### The numbers behind it",
    "",
    prose(rand, 75),
    "",
    `> ${prose(rand, 40)}`,
    ">",
    `> ${sentence(rand, 10)}`,
    "",
    "## How it works",
    "",
    prose(rand, 70),
    "",
    "```python",
    `def measure_${i}(samples, window=${(i % 9) + 2}):`,
    '    """Rolling mean of the samples over a window."""',
    "    totals = []",
    "    for start in range(0, len(samples) - window + 1):",
    "        chunk = samples[start:start + window]",
    "        totals.append(sum(chunk) / window)",
    "    return totals",
    "```",
    "",
    prose(rand, 60),
    "",
    ...Array.from({ length: 4 }, () => `1. ${sentence(rand, 10)}`),
    "",
    "## What comes next",
    "",
    prose(rand, 90),
    "",
    `${prose(rand, 60)} Read more in [our earlier coverage](https://example.org/coverage/${i % 50}/).`,
    "",
  ];
  return { slug, text: `${front}\n${body.join("\n")}` };
}

/**
 * Writes a project of `n` articles into `dir` (replaced if it exists): short
 * ones, or real-size with `size` "real". An image goes with every
 * `imageEvery`-th article: bench/photo.png, or the bytes `photo(i)` gives,
 * as a file named `photoName`.
 */
export async function generate(dir, n, size = "short", { imageEvery = 10, photo, photoName = "photo.png" } = {}) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, "articles"), { recursive: true });
  await cp(join(REPO, "templates"), join(dir, "templates"), { recursive: true });
  await copyFile(join(REPO, "presswork.config.yaml"), join(dir, "presswork.config.yaml"));
  const rand = random(42);
  for (let i = 0; i < n; i++) {
    const withImage = i % imageEvery === 0;
    const { slug, text } = (size === "real" ? realArticleText : articleText)(i, n, rand, withImage, imageEvery);
    if (withImage) {
      await mkdir(join(dir, "articles", slug));
      await writeFile(join(dir, "articles", slug, "index.md"), text.replace("src: photo.png", `src: ${photoName}`));
      if (photo) await writeFile(join(dir, "articles", slug, photoName), photo(i));
      else await copyFile(join(REPO, "bench/photo.png"), join(dir, "articles", slug, "photo.png"));
    } else {
      await writeFile(join(dir, "articles", `${slug}.md`), text);
    }
  }
}

if (process.argv[1] === import.meta.filename) {
  const [dir = "bench/.work/project", n = "1000", size = "short"] = process.argv.slice(2);
  await generate(dir, Number(n), size);
  console.log(`Generated ${n} ${size} articles in ${dir}`);
}
