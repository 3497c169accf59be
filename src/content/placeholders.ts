/** What `presswork new` writes for the editor to replace: an article that still holds any of it is not ready. */
export const PLACEHOLDERS = {
  summary: "One or two sentences for feeds, search results and the email.",
  points: ["The first thing a busy reader should know.", "The second.", "The third."],
  opening: "Start the story here.",
} as const;
