/** Where the record of sent issues lives, relative to the project root. */
export const RECORD_FILE = "newsletter/sent.json";
/** Folder of the email templates, relative to the project root. */
export const EMAIL_TEMPLATES = "templates/email";
/** Gmail clips HTML larger than this, hiding the footer and its unsubscribe link. */
export const CLIP_BYTES = 102 * 1024;
/** Past this, `check` warns that the issue is close to being clipped. */
export const WARN_BYTES = 90 * 1024;
/** Width of the email's content column in CSS pixels: 600 less the cards' 24 px side padding. */
export const EMAIL_COLUMN = 552;
