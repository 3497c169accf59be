/** Bump when a change to the pipeline changes rendered HTML, so cached renders are not reused. */
export const PIPELINE_VERSION = 6;
