import { fieldLine, frontMatterBlock, type ArticleMeta } from "./article.js";
import { PLACEHOLDERS } from "./placeholders.js";
import { KEY_POINT_HEADINGS } from "../markdown/key-points.js";
import { fileError, fileWarning, type RuleId } from "../errors/rules.js";

/**
 * What a review needs of a rendered body's text: kept with it in the render
 * cache's index, so a review reads neither the article nor the text of its
 * excerpt and key points again. Each field is absent in the common case (a
 * first paragraph of the writer's own, no Quick Reads), as the index every
 * rebuild reads whole holds them for every body.
 */
export interface TextFacts {
  /** The body's first paragraph when it is not the writer's: there is none, or it is the placeholder from `presswork new`. */
  opening?: "none" | "placeholder";
  /** Whether the body opens with a Quick Reads section. */
  quickReads?: true;
  /** The points of that section still left as placeholders from `presswork new`, when there are any. */
  placeholderPoints?: string[];
}

/** What a review needs of a rendered body. */
export interface BodyFacts extends TextFacts {
  /** Bytes of the feed's HTML. */
  feedBytes?: number;
}

/** The facts a review needs of a body's text, taken when it is rendered. */
export function textFacts(body: { excerpt: string; keyPoints?: string[] }): TextFacts {
  const facts: TextFacts = {};
  if (body.excerpt === "") facts.opening = "none";
  else if (body.excerpt === PLACEHOLDERS.opening) facts.opening = "placeholder";
  if (body.keyPoints) {
    facts.quickReads = true;
    const left = placeholderPoints(body.keyPoints);
    if (left.length > 0) facts.placeholderPoints = left;
  }
  return facts;
}

function placeholderPoints(points: readonly string[]): string[] {
  return points.filter((p) => (PLACEHOLDERS.points as readonly string[]).includes(p));
}

/** The feed settings a review checks bodies against. */
export interface FeedLimits {
  fullContent: boolean;
  /** Bytes of HTML past which a feed item carries the summary instead of the body. */
  itemMax: number;
}

/**
 * Checks what can only be judged with the build's clock and the rendered
 * body, and is judged the same way by `check` and `build`: placeholder
 * text left from `presswork new` in an article that is no draft, key
 * points given twice, an `updated` time later than the clock, and a body
 * too large for a feed item. Messages go on each article's file.
 */
export function reviewArticles(articles: ReadonlyArray<{ meta: ArticleMeta; body: BodyFacts }>, now: Date, feeds: FeedLimits): void {
  for (const { meta, body } of articles) {
    const { source } = meta;
    const error = (reason: string, line: number, ruleId: RuleId) => {
      fileError(source.file, ruleId, reason, { place: { line, column: 1 } });
    };
    if (!meta.draft) {
      if (meta.summary === PLACEHOLDERS.summary) error("'summary' is still the placeholder from presswork new: write one or two sentences of your own", fieldLine(source, "summary"), "placeholder");
      const left = meta.keyPoints ? placeholderPoints(meta.keyPoints) : (body.placeholderPoints ?? []);
      if (left.length > 0) error(`the Quick Reads still hold the placeholders from presswork new (${left.map((p) => `"${p}"`).join(", ")}): write the article's key points`, lineOf(source.text, left[0] ?? ""), "placeholder");
      if (body.opening === "placeholder") error(`the body still opens with "${PLACEHOLDERS.opening}" from presswork new: write the story`, lineOf(source.text, PLACEHOLDERS.opening), "placeholder");
      // The summary is made from the first paragraph: without one, the home page, the feeds and the email show nothing under the title.
      if (body.opening === "none" && meta.summary === undefined) {
        fileWarning(source.file, "empty-body", "the article has no paragraph of text and no summary: the home page, the feeds and the email show nothing under its title. Write the story, or a summary: in the front matter", { place: { line: bodyLine(source.text), column: 1 } });
      }
    }
    if (!meta.draft && meta.published.getTime() > now.getTime() + YEAR_MS) {
      fileWarning(source.file, "date-far-ahead", `'date' is ${meta.published.toISOString().slice(0, 10)}, more than a year ahead: the article waits until then. Check the year`, { place: { line: fieldLine(source, "date"), column: 1 } });
    }
    if (meta.keyPoints && body.quickReads) {
      const line = quickReadsLine(source.text) ?? fieldLine(source, "keyPoints");
      fileWarning(source.file, "key-points-twice", "the body opens with a Quick Reads section and the front matter has keyPoints too: only the front matter's are shown, and the section is left out. Keep one of them", { place: { line, column: 1 } });
    }
    if (meta.published.getTime() <= now.getTime() && meta.updated.getTime() > now.getTime()) {
      error(`'updated' is ${meta.updated.toISOString()}, later than the build's clock (${now.toISOString()}): write when the article last changed, not a time to come`, fieldLine(source, "updated"), "front-matter-updated");
    }
    if (feeds.fullContent && (body.feedBytes ?? 0) > feeds.itemMax) {
      fileWarning(source.file, "feed-item-size", `the body is ${megabytes(body.feedBytes ?? 0)} of HTML, more than a feed item carries (${megabytes(feeds.itemMax)}): feeds show its summary and a link to the article instead`, { place: { line: bodyLine(source.text), column: 1 } });
    }
  }
}

/** The line of the heading that opens a body's Quick Reads section (an ATX heading, as `## Quick Reads`). */
function quickReadsLine(text: string): number | undefined {
  const index = text.split("\n").findIndex((line) => {
    const label = /^#{1,6}[ \t]+(.*?)[ \t#]*$/.exec(line)?.[1]?.trim().toLowerCase().replace(/[:.!]+$/, "");
    return label !== undefined && KEY_POINT_HEADINGS.includes(label);
  });
  return index >= 0 ? index + 1 : undefined;
}

/** A year, past which a date ahead is more likely a typo (2062 for 2026) than a schedule. */
const YEAR_MS = 366 * 86_400_000;

/** The first line after the front matter. */
function bodyLine(text: string): number {
  const block = frontMatterBlock(text);
  return block ? text.slice(0, block.end).split("\n").length + 1 : 1;
}

function lineOf(text: string, needle: string): number {
  const index = text.split("\n").findIndex((line) => line.includes(needle));
  return index >= 0 ? index + 1 : 1;
}

function megabytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.round(bytes / 1024)} KB`;
}
