import { VFile } from "vfile";
import { type TemplateSources } from "../templates/liquid.js";
import { EMAIL_TEMPLATES } from "./limits.js";
import { contentError } from "../errors/error.js";
import { fileError } from "../errors/rules.js";

/** MJML's entry point, as this project calls it. */
export type Mjml = (
  input: string,
  options: { validationLevel: "strict"; keepComments?: boolean; minify?: boolean; minifyOptions?: { minifyCss?: boolean; minifySvg?: boolean }; fonts?: Record<string, string> },
) => Promise<{ html: string }>;
/**
 * Whitespace collapsed (a third off the HTML: more of an issue fits under
 * Gmail's clipping, and each message is lighter to send); not the CSS or
 * SVG minifiers, whose import costs half a second for a few hundred bytes.
 */
const MINIFY = { minify: true, minifyOptions: { minifyCss: false, minifySvg: false } };
let mjmlModule: Promise<Mjml> | undefined;
/** MJML takes over half a second to import: loaded on first use only, or ahead of it by a worker that will need it. */
export function loadMjml(): Promise<Mjml> {
  mjmlModule ??= import("mjml").then((m) => (m.default ?? m) as unknown as Mjml);
  return mjmlModule;
}

/** MJML in this thread, strict, whitespace collapsed; an error names the issue template. */
export async function mjmlToHtml(source: string): Promise<string> {
  try {
    // No fonts: MJML would otherwise link Google Fonts for any of its known font names in a font stack, and every open would call Google.
    return (await (await loadMjml())(source, { validationLevel: "strict", ...MINIFY, fonts: {} })).html;
  } catch (error) {
    const first = (error as { errors?: Array<{ line: number; message: string; tagName: string }> }).errors?.[0];
    const file = new VFile({ path: `${EMAIL_TEMPLATES}/issue.mjml.liquid` });
    fileError(file, "mjml", `MJML: ${first ? `<${first.tagName}> ${first.message} (line ${first.line} of the rendered MJML)` : (error as Error).message}`, { place: { line: 1, column: 1 } });
    throw contentError(file);
  }
}

/**
 * Validates each MJML template file on its own, so an error names the
 * template and its line: Liquid tags are blanked out (keeping line breaks),
 * and a partial is wrapped in <mjml><mj-body> on its first line. Partials
 * hold mj-section or mj-wrapper elements.
 */
export async function validateEmailTemplates(templates: TemplateSources): Promise<VFile[]> {
  const files: VFile[] = [];
  for (const [name, text] of Object.entries(templates)) {
    if (!name.endsWith(".mjml.liquid")) continue;
    const skeleton = text.replace(/\{%[\s\S]*?%\}/g, (tag) => tag.replace(/[^\n]/g, " ")).replace(/\{\{[\s\S]*?\}\}/g, (tag) => `x${tag.slice(1).replace(/[^\n]/g, "")}`);
    const whole = /^\s*<mjml[\s>]/.test(skeleton);
    const source = whole ? skeleton : `<mjml><mj-body>${skeleton}</mj-body></mjml>`;
    const file = new VFile({ path: `${EMAIL_TEMPLATES}/${name}`, value: text });
    // MJML closes what is left open where it sees fit, and strict validation does not mind: an unclosed
    // <mj-text> swallows the rest of the issue as raw HTML. Tags must balance, file by file.
    for (const problem of unbalancedTags(skeleton)) fileError(file, "mjml", problem.reason, { place: { line: problem.line, column: problem.column } });
    if (file.messages.length > 0) {
      files.push(file);
      continue;
    }
    try {
      await (await loadMjml())(source, { validationLevel: "strict" });
    } catch (error) {
      const errors = (error as { errors?: Array<{ line: number; message: string; tagName: string }> }).errors ?? [];
      if (errors.length === 0) throw error;
      // An attribute given by a template value (align="{{ site.start }}") reads as the placeholder x here: its real value is checked when the email is compiled (an issue by build and send, a service mail when serve starts).
      for (const e of errors.filter((e) => !/ has invalid value: x for type /.test(e.message))) fileError(file, "mjml", `MJML: <${e.tagName}> ${e.message}`, { place: { line: e.line, column: 1 } });
    }
    files.push(file);
  }
  return files;
}

/**
 * MJML tags (`mjml`, `mj-*`) left open or closed out of order, with the
 * place of the tag at fault. Comments are skipped; self-closed tags are
 * whole. HTML inside an ending tag such as mj-text is not MJML's to check.
 */
export function unbalancedTags(source: string): Array<{ line: number; column: number; reason: string }> {
  const text = source.replace(/<!--[\s\S]*?-->/g, (comment) => comment.replace(/[^\n]/g, " "));
  const problems: Array<{ line: number; column: number; reason: string }> = [];
  const placeOf = (offset: number) => {
    const before = text.slice(0, offset);
    return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
  };
  const open: Array<{ name: string; offset: number }> = [];
  for (const match of text.matchAll(/<(\/?)(mjml|mj-[\w-]+)\b[^>]*?(\/?)>/g)) {
    const [, closing, name = "", selfClosing] = match;
    if (selfClosing) continue;
    if (!closing) {
      open.push({ name, offset: match.index });
      continue;
    }
    const at = open.map((o) => o.name).lastIndexOf(name);
    if (at < 0) {
      problems.push({ ...placeOf(match.index), reason: `MJML: </${name}> closes a tag that is not open: remove it, or open <${name}> before it` });
      continue;
    }
    for (const unclosed of open.splice(at).slice(1)) problems.push({ ...placeOf(unclosed.offset), reason: `MJML: <${unclosed.name}> is never closed: add </${unclosed.name}> before </${name}>` });
  }
  for (const unclosed of open) problems.push({ ...placeOf(unclosed.offset), reason: `MJML: <${unclosed.name}> is never closed: add </${unclosed.name}> at its end` });
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}
