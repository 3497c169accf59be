/** The longest value a message repeats in full; longer ones are cut with an ellipsis. */
export const QUOTE_MAX = 60;

/** A value in double quotes for a message, shortened when long, so one line stays one line. */
export function quote(value: string, max = QUOTE_MAX): string {
  const text = value.length > max ? `${value.slice(0, max - 1)}…` : value;
  return JSON.stringify(text);
}

/** Joins items as prose: "a", "a and b", "a, b and c". */
export function listOf(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** "a" or "an" before a word, by its first letter's sound as spelt (good enough for field names). */
export function article(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}
