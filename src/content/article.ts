import { slug as githubSlug } from "github-slugger";
import { digest } from "../cache/key.js";
import type { EmailImage } from "../issues/images.js";
import type { PointsHtml, RenderedBody } from "../markdown/render.js";
import { escapeText } from "../xml/escape.js";
import { absoluteUrl, paths } from "./paths.js";
import type { SourceFile } from "./read.js";
import { fileError } from "../errors/rules.js";

/** A person credited on an article: a key from the config's `authors`, or a name written in the front matter. */
export interface Author {
  /** The author's page is authors/<key>/: the config's key, or the slug of a name written in the front matter. */
  key: string;
  name: string;
  email?: string;
  url?: string;
}

/** The authors' names as the site's pages and the email write them: "Ada Okafor, Mei Lin". */
export function authorNames(authors: readonly Author[]): string {
  return authors.map((a) => a.name).join(", ");
}

/** A tag as written by the editor, with the slug of its page. */
export interface Tag {
  name: string;
  slug: string;
}

/** An image that belongs to an article: its file under `articles/`, its size and its alt text. */
export interface ArticleImage {
  path: string;
  size: number;
  alt: string;
  caption?: string;
}

/** An article's identity and metadata, everything but its rendered body. */
export interface ArticleMeta {
  /** Permanent feed id: never derived from the title. */
  id: string;
  slug: string;
  title: string;
  subtitle?: string;
  published: Date;
  updated: Date;
  authors: Author[];
  tags: Tag[];
  summary?: string;
  keyPoints?: string[];
  image?: ArticleImage;
  canonical?: string;
  /** Site paths the article had before (its `aliases`), each of which gets a page that sends readers on to it. */
  aliases?: string[];
  draft: boolean;
  /** Whether `id` was written in the front matter, rather than derived. */
  pinnedId: boolean;
  source: SourceFile;
}

/** A published article: identity, metadata and its rendered body, with the URLs every output uses. */
export interface Article extends ArticleMeta {
  body: RenderedBody;
  /** Site path of the article page, e.g. "articles/my-story/". */
  path: string;
  /** Absolute URL of the article page. */
  url: string;
  /** Summary from the front matter, else the body's excerpt. */
  description: string;
  /** Quick Reads: from the front matter, else from the body's section; empty when neither has any. */
  points: string[];
  /** The same points as inline HTML for each serialisation: the body's keep their links; the front matter's are text. */
  pointsHtml: PointsHtml;
  /** Absolute URL of the article's image. */
  imageUrl?: string;
  /** How the email shows the article's image (a project with a newsletter). */
  emailImage?: EmailImage;
  /** How an email shows the local pictures in the body (in full text) and the Quick Reads, by the URL their email HTML loads each from (see emailBody). */
  emailBodyImages?: Record<string, EmailImage>;
}

/**
 * Joins an article's metadata and rendered body. What it shows of the body
 * (its description and Quick Reads) is read when first asked for: a build
 * makes every article, and a rebuild shows a few of them.
 */
export function toArticle(meta: ArticleMeta, body: RenderedBody, siteUrl: string, imageSitePath?: string): Article {
  const path = paths.article(meta.slug);
  const article = { ...meta, body, path, url: absoluteUrl(path, siteUrl) } as Article;
  Object.defineProperties(article, SHOWN);
  if (imageSitePath !== undefined) article.imageUrl = absoluteUrl(imageSitePath, siteUrl);
  return article;
}

/** An article's fields that follow from its metadata and what its body shows, as getters every article shares. */
const SHOWN: PropertyDescriptorMap & ThisType<Article> = {
  description: {
    get(this: Article) {
      return this.summary ?? this.body.excerpt;
    },
    enumerable: true,
  },
  points: {
    get(this: Article) {
      return this.keyPoints ?? this.body.keyPoints ?? [];
    },
    enumerable: true,
  },
  pointsHtml: {
    get(this: Article) {
      return (!this.keyPoints && this.body.keyPointsHtml) || textPoints(this.points);
    },
    enumerable: true,
  },
};

/** Points written as text, as HTML for every serialisation. */
function textPoints(points: readonly string[]): PointsHtml {
  const html = points.map(escapeText);
  return { web: html, feed: html, email: html };
}

/** The longest slug: a URL segment and a file name anywhere, with room for the rest of the path. */
export const SLUG_MAX = 80;

/**
 * Turns free text into a URL slug of ASCII letters, digits and hyphens (any
 * whitespace, tab or no-break space, parts words). A
 * slug longer than SLUG_MAX is cut at a hyphen and ends with a short hash of
 * the whole, so it stays readable and two long names that start alike keep
 * apart.
 */
export function slugify(value: string): string {
  return slugOf(value.normalize("NFKD").replace(/[\u0300-\u036f]/g, ""), /[^a-z0-9-]+/g);
}

/**
 * A topic's slug: slugify's for a name in Latin letters, and for one with
 * letters of another script (Наука, 日本語, Ελληνικά) its letters and digits
 * as they are (composed, NFC), lower-cased: й is no и, nor ї an і, so no
 * mark is dropped. Every publication can tag in its own language. The page's folder is named so, and its
 * address is percent-encoded wherever it is a URL.
 */
export function tagSlug(name: string): string {
  return /(?=\p{L})\P{Script=Latin}/u.test(name) ? slugOf(name.normalize("NFC"), /[^\p{L}\p{M}\p{N}-]+/gu).normalize("NFC") : slugify(name);
}

/** The slug of `value`, with what `drop` matches turned to hyphens. */
function slugOf(value: string, drop: RegExp): string {
  const spelled = value.replace(/\+/g, "-plus").replace(/#/g, "-sharp").replace(/&/g, "-and-").replace(/\s+/g, " ");
  const slug = githubSlug(spelled)
    .replace(drop, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-|-$/g, "");
  const chars = Array.from(slug);
  if (chars.length <= SLUG_MAX) return slug;
  const head = chars.slice(0, SLUG_MAX - 9).join("");
  const cut = head.lastIndexOf("-") > SLUG_MAX / 2 ? head.slice(0, head.lastIndexOf("-")) : head;
  return `${cut.replace(/-$/, "")}-${digest(slug).slice(0, 8)}`;
}

/** The 1-based line of a top-level front-matter key, or 1 when it is absent. */
export function fieldLine(source: SourceFile, key: string): number {
  const lines = source.text.split("\n", 200);
  const index = lines.findIndex((line) => line.startsWith(`${key}:`));
  return index >= 0 ? index + 1 : 1;
}

/**
 * The 1-based line of a top-level front-matter key's list item that holds
 * `text`: the key's own line for a list written on it, or when no line
 * under it holds the text.
 */
export function itemLine(source: SourceFile, key: string, text: string): number {
  const lines = source.text.split("\n", 200);
  const keyLine = fieldLine(source, key);
  let end = keyLine;
  while (end < lines.length && !/^\S/.test(lines[end] ?? "")) end++;
  const under = lines.slice(keyLine, end);
  // The item that is the text (quoted or not, with or without a slash at either end), else the first that holds it.
  const bare = (value: string) => value.trim().replace(/^-\s+/, "").replace(/^(["'])(.*)\1$/, "$2").replace(/^\/|\/$/g, "");
  const index = under.findIndex((line) => bare(line) === bare(text));
  const holding = index >= 0 ? index : under.findIndex((line) => line.includes(text));
  return holding >= 0 ? keyLine + 1 + holding : keyLine;
}

/** Splits `---` front matter from a source; reports a missing or unclosed block. */
export function splitFrontMatter(source: SourceFile): { yaml: string; bodyLine: number } | undefined {
  const { text, file } = source;
  // A file already refused whole (not text at all) says so once, not once more here.
  if (file.messages.some((m) => m.fatal && m.ruleId === "binary")) return undefined;
  if (text.trim() === "") {
    fileError(file, "empty", "the file is empty: an article starts with front matter (---, title:, date:, ---)", { place: { line: 1, column: 1 } });
    return undefined;
  }
  if (!/^---[ \t]*\n/.test(text)) {
    fileError(file, "front-matter-missing", "no front matter: start the file with a line ---, then title: and date:, then a line ---", { place: { line: 1, column: 1 } });
    return undefined;
  }
  const block = frontMatterBlock(text);
  if (!block) {
    // YAML's document end, which Jekyll takes as the close: the body's parser would not, and would publish the front matter.
    // Only as the end of the keys: after a blank line, a `...` is the body's.
    const lines = text.split("\n");
    const dots = lines.findIndex((line) => /^\.\.\.[ \t]*$/.test(line));
    if (dots > 0 && lines.slice(1, dots).every((line) => line.trim() !== "")) fileError(file, "front-matter-unclosed", "the front matter is closed with ...: close it with a line --- instead", { place: { line: dots + 1, column: 1 } });
    else fileError(file, "front-matter-unclosed", "the front matter opened on line 1 is never closed: add a line --- after it", { place: { line: 1, column: 1 } });
    return undefined;
  }
  return { yaml: block.yaml, bodyLine: 2 + block.yaml.split("\n").length };
}

/** The front matter after an opening line: its YAML and where its closing line ends; undefined when it never closes. */
export function frontMatterBlock(text: string): { yaml: string; end: number } | undefined {
  const start = text.indexOf("\n") + 1;
  const match = /^---[ \t]*$/m.exec(text.slice(start));
  return match ? { yaml: text.slice(start, start + match.index), end: start + match.index + match[0].length } : undefined;
}
