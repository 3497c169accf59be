import { defaultSchema, type Options as Schema } from "rehype-sanitize";

const attributes = defaultSchema.attributes ?? {};
const dataImage = /^(?!\s*data:)|^data:image\/(?:png|gif|jpeg|webp);base64,/i;

/**
 * The allow-list for article HTML: GitHub's schema, plus figures, marks,
 * abbreviations, responsive images and inline `data:` images of raster types.
 * Scripts, styles, frames, forms, event handlers and `javascript:` URLs never pass.
 */
export const sanitizeSchema: Schema = {
  ...defaultSchema,
  tagNames: [...(defaultSchema.tagNames ?? []), "figure", "figcaption", "mark", "abbr", "cite", "small", "time"],
  attributes: {
    ...attributes,
    img: [...(attributes["img"] ?? []).filter((a) => a !== "src"), ["src", dataImage], "srcSet", "sizes", "loading", "decoding"],
    source: [...(attributes["source"] ?? []), "type", "sizes", "media"],
    abbr: ["title"],
  },
  protocols: { ...defaultSchema.protocols, src: ["http", "https", "data"] },
  // A style element's rules would stay as text on the page, the feeds and the email: it goes whole, as a script does.
  strip: [...(defaultSchema.strip ?? []), "style"],
};
