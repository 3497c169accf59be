import { existsSync, readdirSync, readFileSync, statSync, type Dirent, type Stats } from "node:fs";
import { join, posix, sep } from "node:path";
import { VFile } from "vfile";
import { digest } from "../cache/key.js";
import { replayMessages, type StoredMessage } from "../validate/messages.js";
import { fileError, fileWarning, type RuleId } from "../errors/rules.js";
import { reportInvalidUtf8 } from "../files/utf8.js";

/** One article file: its decoded text, a digest of it and the VFile that collects its messages. */
export interface SourceFile {
  /** Path relative to the project root, with forward slashes. */
  path: string;
  /** Decoded text: BOM removed, line endings normalised to LF. Read on first use when the file was known unchanged, or after `release`. */
  readonly text: string;
  /** A digest of the text: stands for it in cache keys. */
  digest: string;
  file: VFile;
  /** Lets go of the text: a run that has no more use for it calls this, so it never holds every article's text at once. The next use reads the file again. */
  release(): void;
}

/** What an earlier run read of a source: its digest and the messages decoding it gave. */
export interface Recalled {
  digest: string;
  messages: StoredMessage[];
}

/** What earlier runs read, by file identity: a source whose file is unchanged need not be read again. */
export interface SourceMemory {
  recall(path: string, stat: Stats): Recalled | undefined;
  remember(path: string, stat: Stats, source: SourceFile): void;
}

/** Everything under `articles/`: the Markdown sources and the other files (assets) with their sizes. */
export interface ContentTree {
  sources: SourceFile[];
  assets: Map<string, number>;
  /** Messages about the folder itself: links to nothing, folders that hold no article. */
  layout: VFile[];
}

/** Folder that holds the articles, relative to the project root. */
export const ARTICLES_DIR = "articles";

/**
 * Reads every article and lists every asset under `articles/`, in path
 * order. With a memory, an article whose file is unchanged since it was
 * last read is not read again: its text is read if and when something asks
 * for it. Synchronous reads: faster for thousands of small files.
 * `listed` hears how many articles there are before any is read.
 */
export function readContent(root: string, memory?: SourceMemory, listed?: (articles: number) => void): ContentTree {
  const base = join(root, ARTICLES_DIR);
  const layout: VFile[] = [];
  // No articles folder: no articles. One that cannot be listed, in part or whole, fails the run rather than build a site without them.
  // Entries lie under `base`: their paths are cut, not resolved (path.relative per file is a tenth of a rebuild).
  const relative = (dir: string) => `${ARTICLES_DIR}${dir.slice(base.length).split(sep).join("/")}`;
  const entries: Dirent[] = [];
  const unlisted = new Set<string>();
  if (existsSync(base)) {
    listTree(base, entries, (dir, error) => {
      const path = relative(dir);
      unlisted.add(path);
      const file = new VFile({ path: error.code === "ENOTDIR" ? path : `${path}/` });
      fileError(file, "unreadable", `cannot be listed (${error.code ?? error.message}), so the articles in it would be left out: ${error.code === "ENOTDIR" ? `${ARTICLES_DIR}/ must be a folder` : "make it readable"}`, { place: { line: 1, column: 1 } });
      layout.push(file);
    });
  }
  const pathOf = (entry: Dirent) => `${relative(entry.parentPath)}/${entry.name}`;
  // Every path starts with articles/, so a name (of the file or a folder on its way) starts with a dot where "/." is.
  const visible = (path: string) => !path.includes("/.");
  const files = entries.filter((entry) => entry.isFile()).map(pathOf).filter(visible);
  for (const path of entries.filter((e) => e.isSymbolicLink()).map(pathOf).filter(visible).sort()) {
    const target = statSync(join(root, path), { throwIfNoEntry: false });
    if (target?.isFile()) files.push(path);
    else layout.push(warning(path, target ? "is a link to a folder, which is not followed: move the folder here instead" : "is a link to a file that does not exist, and is ignored: remove the link or restore its target", "dangling-link"));
  }
  files.sort();
  layout.push(...misnamedArticles(files));
  layout.push(...foldersWithoutArticles(entries.filter((e) => e.isDirectory()).map(pathOf).filter((dir) => visible(dir) && !unlisted.has(dir)), files));
  listed?.(files.filter(isArticle).length);
  const sources: SourceFile[] = [];
  const assets = new Map<string, number>();
  for (const path of files) {
    if (path.endsWith(".md")) {
      if (!isArticle(path)) continue;
      const stat = memory && statSync(join(root, path));
      const known = stat && memory?.recall(path, stat);
      if (known) {
        const file = new VFile({ path });
        replayMessages(file, known.messages);
        sources.push(sourceFile(root, path, known.digest, file));
      } else {
        const { text, file } = decodeSource(path, readFileSync(join(root, path)));
        const source = sourceFile(root, path, digest(text), file, text);
        if (stat) memory?.remember(path, stat, source);
        sources.push(source);
      }
    } else {
      assets.set(path, statSync(join(root, path)).size);
    }
  }
  return { sources, assets, layout };
}

/**
 * Every entry under `dir` at any depth, into `into`: those readdirSync's
 * recursive option lists, depth first rather than breadth first (links
 * not followed), but for what hidden folders hold, which are not entered.
 * A folder that cannot be listed goes to `failed`. One folder at a time:
 * Node 22's recursive listing takes 40-70 ms for 5,000 article folders
 * where this takes 10-12 ms.
 */
function listTree(dir: string, into: Dirent[], failed: (dir: string, error: NodeJS.ErrnoException) => void): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    failed(dir, error as NodeJS.ErrnoException);
    return;
  }
  for (const entry of entries) {
    into.push(entry);
    if (entry.isDirectory() && !entry.name.startsWith(".")) listTree(join(dir, entry.name), into, failed);
  }
}

function warning(path: string, reason: string, ruleId: RuleId): VFile {
  const file = new VFile({ path });
  fileWarning(file, ruleId, reason, { place: { line: 1, column: 1 } });
  return file;
}

/**
 * Folders that hold no article: no index.md, not inside an article's
 * folder, and no Markdown file at any depth (a folder that groups articles,
 * like articles/2026/, is fine). Usually an index.md misnamed or forgotten.
 */
function foldersWithoutArticles(folders: readonly string[], files: readonly string[]): VFile[] {
  const articleFolders = new Set(files.filter((f) => f.endsWith("/index.md")).map((f) => f.slice(0, -"/index.md".length)));
  const withMarkdown = new Set<string>();
  for (const file of files.filter((f) => f.endsWith(".md"))) for (let dir = posix.dirname(file); dir !== ARTICLES_DIR && dir !== "."; dir = posix.dirname(dir)) withMarkdown.add(dir);
  const insideArticle = (dir: string) => {
    for (let up = dir; up !== ARTICLES_DIR && up !== "."; up = posix.dirname(up)) if (articleFolders.has(up)) return true;
    return false;
  };
  return folders
    .filter((dir) => !withMarkdown.has(dir) && !insideArticle(dir))
    .sort()
    .map((dir) => warning(`${dir}/`, "holds no index.md, so it is no article: name the article's file index.md, or its files are published only when an article links to them", "no-index"));
}

/** Other names editors give Markdown files (Jekyll reads these), compared without case. */
const MARKDOWN_NAME = /\.(?:md|markdown|mdown|mkdn|mkd|mdwn)$/i;

/**
 * Markdown files whose names keep them from being read as meant: another
 * extension than `.md` (`.markdown`, `.MD`), which is no article at all,
 * and an `Index.md`, which is an article of its own named "index" rather
 * than its folder's.
 */
function misnamedArticles(files: readonly string[]): VFile[] {
  const found: VFile[] = [];
  for (const path of files) {
    // A name.md or an index.md is well made (most are: they are told apart from the end of the path alone).
    const md = path.endsWith(".md");
    const misnamed = md ? !path.endsWith("/index.md") && path.slice(-"/index.md".length).toLowerCase() === "/index.md" : MARKDOWN_NAME.test(path);
    if (!misnamed || setAside(path)) continue;
    const name = posix.basename(path);
    const stem = name.replace(MARKDOWN_NAME, "");
    if (!md) found.push(warning(path, `is not read as an article: only files named .md are. Rename it ${stem.toLowerCase() === "index" ? "index" : stem}.md`, "article-name"));
    else found.push(warning(path, `is read as an article of its own at articles/index/, not as its folder's: rename it index.md`, "article-name"));
  }
  return found;
}

/**
 * Markdown files are articles, but for those whose name, or a folder's on
 * their way, starts with `_`: notes and partials beside them, and what
 * Jekyll keeps out of the site (`_drafts/`).
 */
function isArticle(path: string): boolean {
  return path.endsWith(".md") && !setAside(path);
}

/** Whether a file's name, or a folder's on its way under `articles/`, starts with `_`: the editor's own, never an article. */
export function setAside(path: string): boolean {
  // Every path starts with articles/: a name on it starts with _ where "/_" is.
  return path.includes("/_");
}

/**
 * Decodes an article's bytes as UTF-8. Bytes that are not UTF-8 are reported
 * with their line (the text keeps U+FFFD there), a BOM is dropped and CRLF
 * becomes LF so that lines and columns match what the editor sees.
 */
export function decodeSource(path: string, bytes: Uint8Array): { text: string; file: VFile } {
  const file = new VFile({ path });
  if (isUtf16(bytes)) {
    fileError(file, "binary", `is saved as UTF-16 (Notepad's "Unicode"), not UTF-8: save it again with the encoding UTF-8`, { place: { line: 1, column: 1 } });
    file.value = "";
    return { text: "", file };
  }
  if (isBinary(bytes)) {
    fileError(file, "binary", `is not a text file (it holds binary data, like an image or a document): an article is UTF-8 text. Rename the file if it is not an article`, { place: { line: 1, column: 1 } });
    file.value = "";
    return { text: "", file };
  }
  let text = new TextDecoder("utf-8").decode(bytes);
  if (text.includes("\uFFFD")) reportInvalidUtf8(bytes, file);
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  text = text.replace(/\r\n?/g, "\n");
  if (CONTROL.test(text)) text = dropControlCharacters(text, file);
  return { text, file };
}

/** A source whose text is `text` until released, and otherwise read from its file when asked for. */
function sourceFile(root: string, path: string, digest: string, file: VFile, text?: string): SourceFile {
  let kept = text;
  return {
    path,
    digest,
    file,
    get text() {
      // Its messages are on `file` already: decoding again only yields the text.
      kept ??= decodeSource(path, readFileSync(join(root, path))).text;
      return kept;
    },
    release() {
      kept = undefined;
    },
  };
}

/** UTF-16: its byte order mark, or text whose first character (a front matter's `-`) is ASCII with a zero byte. */
function isUtf16(bytes: Uint8Array): boolean {
  const [a = -1, b = -1] = bytes;
  const ascii = (byte: number) => byte >= 0x09 && byte <= 0x7e;
  return (a === 0xff && b === 0xfe) || (a === 0xfe && b === 0xff) || (ascii(a) && b === 0) || (a === 0 && ascii(b));
}

/** A NUL byte in the first 8 KB, as git decides: no text file holds one. */
function isBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 8192).includes(0);
}

/** C0 control characters other than tab and line feed, and DEL: invisible, and invalid in XML. */
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F]/;

function dropControlCharacters(text: string, file: VFile): string {
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    const at = line.search(CONTROL);
    if (at < 0) return;
    fileWarning(file, "control-character", `invisible control character U+${line.charCodeAt(at).toString(16).toUpperCase().padStart(4, "0")} removed`, { place: { line: index + 1, column: at + 1 } });
    lines[index] = line.replace(new RegExp(CONTROL.source, "g"), "");
  });
  return lines.join("\n");
}
