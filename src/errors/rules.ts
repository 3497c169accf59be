import type { VFile } from "vfile";

/**
 * Every rule a message on an editor's file names (the last column of
 * `presswork check`, the title of a GitHub annotation), with the stage that
 * reports it. Rule ids are stable: editors and scripts filter on them.
 */
export const RULES = {
  binary: { source: "content", summary: "an article file holds binary data, not UTF-8 text" },
  encoding: { source: "content", summary: "an article, a note, the config or a template holds bytes that are not UTF-8" },
  "control-character": { source: "content", summary: "an invisible control character was removed" },
  "dangling-link": { source: "content", summary: "a symbolic link in articles/ points at a folder or at nothing" },
  unreadable: { source: "content", summary: "articles/ or a folder in it cannot be listed" },
  "no-index": { source: "content", summary: "a folder under articles/ has no index.md" },
  "article-name": { source: "content", summary: "a Markdown file named so that it is not read as meant (.markdown, .MD, Index.md)" },
  empty: { source: "content", summary: "an article file is empty" },
  "front-matter-missing": { source: "content", summary: "an article has no front matter" },
  "front-matter-unclosed": { source: "content", summary: "the front matter is never closed" },
  "note-front-matter": { source: "content", summary: "an editor's note opens with a front matter block, which the issue leaves out" },
  "summary-markdown": { source: "content", summary: "Markdown in the plain-text summary, which shows its signs as written" },
  "front-matter-published": { source: "content", summary: "Jekyll's 'published' key; 'published: false' would not hold the article back" },
  "front-matter-updated": { source: "content", summary: "'updated' is before 'date', or later than the clock" },
  slug: { source: "content", summary: "no URL slug can be made from the file name" },
  "missing-asset": { source: "content", summary: "the front matter names an image that is not there, or not in the article's folder" },
  "tag-empty": { source: "content", summary: "a tag has no letters or digits to make its page's address from" },
  "tag-spelling": { source: "content", summary: "two spellings of one tag" },
  "tag-comma": { source: "content", summary: "a tag with a comma, which is one topic where a list makes several" },
  "author-page": { source: "content", summary: "an author not in the config whose name makes no page address of its own" },
  placeholder: { source: "content", summary: "text left from `presswork new` in an article that is no draft" },
  "key-points-twice": { source: "content", summary: "key points in the front matter and in a Quick Reads section of the body; the section is left out" },
  "empty-body": { source: "content", summary: "an article with no paragraph of text and no summary: nothing shows under its title" },
  "date-far-ahead": { source: "content", summary: "an article dated more than a year ahead, more likely a typo than a schedule" },
  "feed-item-size": { source: "feeds", summary: "an article's body is too large for a feed item; feeds carry its summary" },
  "broken-link": { source: "markdown", summary: "a link to another article or a file that does not exist" },
  "broken-anchor": { source: "markdown", summary: "a link to a part of an article that has no heading of that id" },
  "site-link": { source: "markdown", summary: "a link or picture that names a place on the site by its address where the build makes no file" },
  "image-alt": { source: "markdown", summary: "an image without alt text" },
  "heading-order": { source: "markdown", summary: "a level-1 heading in an article's body" },
  "table-cells": { source: "markdown", summary: "a table row with more cells than its header, whose extra cells GFM leaves out" },
  "foreign-code": { source: "markdown", summary: "template code or a shortcode of another tool (Jekyll, Hugo, WordPress) in an article's text, which reaches readers as it stands" },
  "html-dropped": { source: "markdown", summary: "raw HTML in an article that its allow-list leaves out (a frame, a video, inline SVG, a script)" },
  yaml: { source: "yaml", summary: "YAML that does not parse (front matter, config, record)" },
  shape: { source: "yaml", summary: "a YAML block that is not a mapping of keys to values" },
  "unknown-key": { source: "yaml", summary: "a key the schema does not know; it is ignored" },
  "config-missing": { source: "config", summary: "no presswork.config.yaml" },
  "config-defaultAuthor": { source: "config", summary: "'defaultAuthor' is not a key under 'authors'" },
  "config-unsubscribe-url": { source: "config", summary: "the unsubscribe URL is not the /unsubscribe of the subscribe service" },
  "config-unsubscribe-https": { source: "config", summary: "the unsubscribe URL is http://, for which mail clients offer no one-click unsubscribe" },
  "record-order": { source: "issues", summary: "the record of sent issues is out of order" },
  template: { source: "site", summary: "a Liquid template does not parse or render" },
  "templates-missing": { source: "site", summary: "templates/site/, templates/email/ or (for serve) templates/service/ is not there" },
  mjml: { source: "issues", summary: "the email's MJML is invalid" },
  "newsletter-subject": { source: "issues", summary: "the subject template renders empty or with a line break" },
  "email-size": { source: "issues", summary: "an issue is close to or over Gmail's clipping size" },
  "note-name": { source: "issues", summary: "a file in newsletter/notes/ not named for an issue's number, which no issue shows" },
  "newsletter-missed": { source: "issues", summary: "an article dated before the last issue, which went out without it: no issue will carry it" },
  "issue-picture-gone": { source: "issues", summary: "a sent issue's email shows a picture from the site that the site no longer has" },
  "issue-link-gone": { source: "issues", summary: "a sent issue links to an article's page that is gone, and no article lists the address in its aliases" },
  "email-image-format": { source: "issues", summary: "a picture of the next issue in a format some big mail clients do not show (SVG, WebP, AVIF)" },
  "service-mail": { source: "service", summary: "a mail template of `presswork serve` is missing or broken" },
  "output-path": { source: "output", summary: "two outputs want one file, or a path cannot be written" },
  ledger: { source: "state", summary: "a line of a ledger is not a ledger event" },
  "state-unreadable": { source: "state", summary: "the record of sent issues cannot be read" },
  "state-moved": { source: "state", summary: "the state branch was moved elsewhere" },
  "state-order": { source: "state", summary: "the state's issues are not numbered 1, 2, 3…" },
} as const satisfies Record<string, { source: string; summary: string }>;

/**
 * Families of rules named for a field: `front-matter-date`, `config-site`,
 * `record-issues` for a value the schema refuses, `duplicate-slug` for two
 * articles with one value.
 */
export const FIELD_RULES = {
  "front-matter": "a front matter field is missing or has a value the schema refuses",
  config: "a config key is missing or has a value the schema refuses",
  record: "the record of sent issues has a value the schema refuses",
  duplicate: "two articles share a value that must be unique (id, slug, an old address in aliases)",
} as const;

/** A rule id: one of RULES, or a field rule such as `front-matter-date`. */
export type RuleId = keyof typeof RULES | `${keyof typeof FIELD_RULES}-${string}`;

/** The id of the rule about `field` in a family of FIELD_RULES. */
export function fieldRule(family: keyof typeof FIELD_RULES, field: string): RuleId {
  return `${family}-${field}`;
}

type Place = { line: number; column: number } | { start: { line: number; column: number }; end: { line: number; column: number } };

/** How a problem is placed and who reports it. */
export interface ProblemOptions {
  place?: Place | undefined;
  /** The stage reporting it, when not the rule's own (a YAML rule reports for the block it read). */
  source?: string;
}

/** Records an error on `file`: the run fails, and every problem of the run is still reported. */
export function fileError(file: VFile, rule: RuleId, reason: string, options: ProblemOptions = {}): void {
  file.message(reason, { place: options.place, ruleId: rule, source: options.source ?? sourceOf(rule) }).fatal = true;
}

/** Records a warning on `file`: printed, and fatal only under `check --strict`. */
export function fileWarning(file: VFile, rule: RuleId, reason: string, options: ProblemOptions = {}): void {
  file.message(reason, { place: options.place, ruleId: rule, source: options.source ?? sourceOf(rule) });
}

function sourceOf(rule: RuleId): string {
  if (rule in RULES) return RULES[rule as keyof typeof RULES].source;
  const family = Object.keys(FIELD_RULES).find((name) => rule.startsWith(`${name}-`)) ?? "content";
  return family === "duplicate" ? "content" : family;
}
