import type { Element, Root } from "hast";
import type { LanguageFn } from "highlight.js";
import hljs from "highlight.js/lib/core";
import { common } from "lowlight";
import rehypeHighlight, { type Options } from "rehype-highlight";
import type { VFile } from "vfile";

/** A highlighter as rehype-highlight makes one: it changes the code blocks of the tree it is given. */
type Highlighter = (tree: Root, file: VFile) => void;

/**
 * rehype-highlight with lowlight's common languages, registering only those
 * the trees so far named. Registering all 37 runs every grammar's
 * definition: 11 ms, a fifth of rendering the one article a rebuild changed.
 * When each language a tree names is one of them by its own name (`python`,
 * not the alias `py`), the highlighter has those languages and those their
 * grammars embed (Bash in a shell session, Python in a Python prompt), with
 * the languages of the trees before: it is made again, with more, when a
 * tree names a new one (at most 37 times in a process that renders many).
 * A tree that names any other, or whose language's grammar embeds one that
 * is not common by its own name (HTML's embeds Handlebars), gets the
 * highlighter of all 37, and so does every tree after it. Either way the
 * HTML is the same, as is the warning for a language neither knows: a
 * language the tree does not name changes nothing.
 */
export function highlighter(options: Omit<Options, "languages">): Highlighter {
  const plainText = options.plainText ?? [];
  const registered: Record<string, LanguageFn> = {};
  let some: Highlighter | undefined;
  let all: Highlighter | undefined;
  return (tree, file) => {
    const grammars = all ? undefined : withEmbedded(namedLanguages(tree, plainText));
    if (!grammars) {
      all ??= rehypeHighlight(options);
      all(tree, file);
      return;
    }
    if (!some || Object.keys(grammars).some((name) => !Object.hasOwn(registered, name))) some = rehypeHighlight({ ...options, languages: Object.assign(registered, grammars) });
    some(tree, file);
  };
}

/** The languages the code blocks under `parent` name, read from their classes as rehype-highlight reads them, but those it leaves as plain text. */
function namedLanguages(parent: Root | Element, plainText: readonly string[], into = new Set<string>()): Set<string> {
  for (const child of parent.children) {
    if (child.type !== "element") continue;
    if (child.tagName === "code" && parent.type === "element" && parent.tagName === "pre") {
      const name = languageOf(child);
      if (name !== undefined && !plainText.includes(name)) into.add(name);
    }
    namedLanguages(child, plainText, into);
  }
  return into;
}

/** The language a `code` element names with a `language-` or `lang-` class; undefined for none, or for a block marked `no-highlight`. */
function languageOf(code: Element): string | undefined {
  const classes = code.properties.className;
  if (!Array.isArray(classes)) return undefined;
  let name: string | undefined;
  for (const value of classes.map(String)) {
    if (value === "no-highlight" || value === "nohighlight") return undefined;
    if (name === undefined && value.startsWith("lang-")) name = value.slice("lang-".length);
    if (name === undefined && value.startsWith("language-")) name = value.slice("language-".length);
  }
  return name;
}

/**
 * The grammars of `names` and of every language they embed, by name; undefined
 * when one of those is not a common language by that name (an alias, or a
 * language only some other set has).
 */
function withEmbedded(names: Iterable<string>): Record<string, LanguageFn> | undefined {
  const grammars: Record<string, LanguageFn> = {};
  const queue = [...names];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (Object.hasOwn(grammars, name)) continue;
    const grammar = Object.hasOwn(common, name) ? common[name] : undefined;
    if (!grammar) return undefined;
    grammars[name] = grammar;
    queue.push(...embeddedIn(name, grammar));
  }
  return grammars;
}

/** A name no language has: a mode embeds whichever language is registered. */
const ANY = "*";

/** A highlight.js of its own, whose grammars are only read for the languages they embed. */
const reader = hljs.newInstance();
const embedded = new Map<string, string[]>();

/** The languages the grammar of `name` embeds: every sub-language any of its modes names. */
function embeddedIn(name: string, grammar: LanguageFn): string[] {
  let found = embedded.get(name);
  if (!found) {
    const names = new Set<string>();
    const seen = new Set<object>();
    const walk = (value: unknown): void => {
      if (typeof value !== "object" || value === null || seen.has(value) || value instanceof RegExp) return;
      seen.add(value);
      if ("subLanguage" in value) {
        const subs = [value.subLanguage].flat();
        // An empty list: any language registered, which is not the same among fewer.
        if (subs.length === 0) names.add(ANY);
        for (const sub of subs) if (typeof sub === "string") names.add(sub);
      }
      for (const part of Object.values(value)) walk(part);
    };
    walk(grammar(reader));
    found = [...names];
    embedded.set(name, found);
  }
  return found;
}
