/** Keys other site generators use (Jekyll, Hugo) for what a key of ours holds, by our key. */
const SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  summary: ["description", "excerpt", "abstract"],
  tags: ["categories", "category", "keywords", "topics"],
  updated: ["lastmod", "last_modified_at", "modified", "last_modified"],
  image: ["cover", "thumbnail", "featured_image", "hero"],
  aliases: ["redirect_from"],
  authors: ["author"],
  date: ["pubdate", "publishdate", "pubdatetime", "published_at", "publish_date", "created", "created_at"],
};

/** The keys other generators use for what `key` holds, in lower case. */
export function synonymsOf(key: string): readonly string[] {
  return Object.hasOwn(SYNONYMS, key) ? (SYNONYMS[key] ?? []) : [];
}

/**
 * Returns the candidate `word` likely means: the one another generator's
 * key stands for (`description` for `summary`), or the closest by edit
 * distance when it is close enough to be a typo.
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const synonym = candidates.find((candidate) => Object.hasOwn(SYNONYMS, candidate) && SYNONYMS[candidate]?.includes(lower));
  return synonym ?? closest(word, candidates);
}

/** The candidate closest to `word` by edit distance, ignoring case, when it is close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
