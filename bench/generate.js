// Generates a project of N articles shaped like the samples: front matter with a
// pinned id, Quick Reads, headings, internal and external links, a table, a
// blockquote, a code block, and an image next to every tenth article.
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

function sentence(rand, words = 14) {
  const out = Array.from({ length: words }, () => WORDS[Math.floor(rand() * WORDS.length)]);
  out[0] = out[0].charAt(0).toUpperCase() + out[0].slice(1);
  return `${out.join(" ")}.`;
}

/** The Markdown of article `i` of `n`. */
export function articleText(i, n, rand, withImage) {
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
  const link = withImage ? `../story-${other}${other % 10 === 0 ? "/index.md" : ".md"}` : `story-${other}${other % 10 === 0 ? "/index.md" : ".md"}`;
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

/** Writes a project of `n` articles into `dir` (replaced if it exists). */
export async function generate(dir, n) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, "articles"), { recursive: true });
  await cp(join(REPO, "templates"), join(dir, "templates"), { recursive: true });
  await copyFile(join(REPO, "presswork.config.yaml"), join(dir, "presswork.config.yaml"));
  const rand = random(42);
  for (let i = 0; i < n; i++) {
    const withImage = i % 10 === 0;
    const { slug, text } = articleText(i, n, rand, withImage);
    if (withImage) {
      await mkdir(join(dir, "articles", slug));
      await writeFile(join(dir, "articles", slug, "index.md"), text);
      await copyFile(join(REPO, "bench/photo.png"), join(dir, "articles", slug, "photo.png"));
    } else {
      await writeFile(join(dir, "articles", `${slug}.md`), text);
    }
  }
}

if (process.argv[1] === import.meta.filename) {
  const [dir = "bench/.work/project", n = "1000"] = process.argv.slice(2);
  await generate(dir, Number(n));
  console.log(`Generated ${n} articles in ${dir}`);
}
