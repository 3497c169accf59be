import { VFile } from "vfile";
import { TemplateError } from "../templates/liquid.js";
import { EMAIL_TEMPLATES } from "./limits.js";

/** MJML's entry point, as this project calls it. */
export type Mjml = (
  input: string,
  options: { validationLevel: "strict"; keepComments?: boolean; minify?: boolean; minifyOptions?: { minifyCss?: boolean; minifySvg?: boolean } },
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
    return (await (await loadMjml())(source, { validationLevel: "strict", ...MINIFY })).html;
  } catch (error) {
    const first = (error as { errors?: Array<{ line: number; message: string; tagName: string }> }).errors?.[0];
    const file = new VFile({ path: `${EMAIL_TEMPLATES}/issue.mjml.liquid` });
    file.message(`MJML: ${first ? `<${first.tagName}> ${first.message} (line ${first.line} of the rendered MJML)` : (error as Error).message}`, {
      place: { line: 1, column: 1 },
      ruleId: "mjml",
      source: "issues",
    }).fatal = true;
    throw new TemplateError(file);
  }
}

