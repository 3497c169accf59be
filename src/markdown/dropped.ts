import type { Element, Root } from "hast";
import type { VFile } from "vfile";
import { sanitizeSchema } from "./sanitize.js";
import { fileWarning } from "../errors/rules.js";

/** Embeds a page cannot hold, by tag name: what the warning calls them. */
const EMBEDS: Record<string, string> = { iframe: "a frame", video: "a video", audio: "a sound", embed: "an embedded object", object: "an embedded object" };

const allowed = new Set(sanitizeSchema.tagNames ?? []);
const ancestors = sanitizeSchema.ancestors ?? {};
const stripped = new Set(sanitizeSchema.strip ?? []);
/** Elements named alone: what they hold goes with them, or is their own drawing or fallback. */
const WHOLE = new Set([...Object.keys(EMBEDS), "svg", "math", ...stripped]);

/**
 * Warns, at its place in the article, of each element of the article's
 * HTML that the sanitiser leaves out (a tag the allow-list does not take,
 * or one outside the element it must be in), so that nothing disappears
 * from an article without a word. What a frame, a video, an SVG or a script
 * holds is not named again; inside another tag left out (whose text stays),
 * each element is checked as well. Run on the tree the sanitiser is given.
 */
export function warnDropped(tree: Root, file: VFile): void {
  const walk = (parent: Root | Element, stack: readonly string[]) => {
    for (const child of parent.children) {
      if (child.type !== "element") continue;
      const required = Object.hasOwn(ancestors, child.tagName) ? ancestors[child.tagName] : undefined;
      if (!allowed.has(child.tagName) || (required && !required.some((name) => stack.includes(name)))) {
        fileWarning(file, "html-dropped", droppedReason(child), { place: child.position });
        if (WHOLE.has(child.tagName)) continue;
      }
      walk(child, [...stack, child.tagName]);
    }
  };
  walk(tree, []);
}

/** What the warning about a left-out element says: what is lost, and what to write instead. */
function droppedReason(node: Element): string {
  const tag = `<${node.tagName}>`;
  const embed = EMBEDS[node.tagName];
  if (embed) {
    const source = node.properties["src"] ?? node.properties["data"];
    return `${tag} is left out: an article cannot embed ${embed}, so readers would not see it. Link to it instead: [Watch it where it is hosted](${typeof source === "string" ? source : "https://…"})`;
  }
  if (node.tagName === "svg") return `${tag} is left out: an article cannot hold inline SVG. Save the drawing as a .svg file beside the article and show it as an image: ![What it shows](drawing.svg)`;
  if (node.tagName === "style") return `${tag} is left out with all it holds: an article takes no styles of its own; the site's stylesheet and the email's templates style it`;
  if (stripped.has(node.tagName)) return `${tag} is left out with all it holds: an article's HTML never runs scripts`;
  return `${tag} is left out (what it holds stays): an article's HTML allow-list does not take it. Meant as text? Write it as code: \`${tag}\``;
}
