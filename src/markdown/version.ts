/** Bump when a change to the code changes rendered HTML, validated front matter or config, so nothing cached from before is reused. */
export const PIPELINE_VERSION = 10;
