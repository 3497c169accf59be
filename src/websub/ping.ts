/** How a ping goes out: retries and their pacing, and how long one request may take. */
export interface PingOptions {
  /** More tries after the first for a 5xx, a 429 or no answer. */
  retries: number;
  /** Wait before the first retry, doubled after each. */
  retryDelayMs: number;
  timeoutMs: number;
  /** Requests under way at once. */
  concurrency: number;
}

/** What the hub answered for one feed. */
export type PingResult = { url: string; ok: true; tries: number } | { url: string; ok: false; tries: number; reason: string };

/** Sensible defaults for a public hub. */
export const PING_DEFAULTS: PingOptions = { retries: 3, retryDelayMs: 2000, timeoutMs: 15_000, concurrency: 4 };

/**
 * Tells a WebSub hub that each feed changed (`hub.mode=publish`,
 * `hub.url=<feed>`, form-encoded, one request a feed: the form every
 * public hub accepts). A 2xx is success; a 5xx, a 429 or a request that
 * fails or times out is tried again with exponential backoff; any other
 * answer is final. Never throws: every feed gets its result.
 */
export async function pingHub(hub: string, urls: readonly string[], options: PingOptions = PING_DEFAULTS): Promise<PingResult[]> {
  const results: PingResult[] = new Array(urls.length);
  let next = 0;
  const worker = async () => {
    while (next < urls.length) {
      const index = next++;
      results[index] = await pingOne(hub, urls[index] as string, options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, urls.length) }, worker));
  return results;
}

async function pingOne(hub: string, url: string, options: PingOptions): Promise<PingResult> {
  let reason = "";
  for (let attempt = 1; attempt <= options.retries + 1; attempt++) {
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs * 2 ** (attempt - 2)));
    try {
      const response = await fetch(hub, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": "Presswork (WebSub publisher)" },
        body: new URLSearchParams({ "hub.mode": "publish", "hub.url": url }).toString(),
        signal: AbortSignal.timeout(options.timeoutMs),
        redirect: "follow",
      });
      await response.body?.cancel();
      if (response.ok) return { url, ok: true, tries: attempt };
      reason = `${response.status} ${response.statusText}`.trim();
      if (response.status < 500 && response.status !== 429) return { url, ok: false, tries: attempt, reason };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      reason = (error as Error).name === "TimeoutError" ? `no answer within ${options.timeoutMs / 1000} s` : `${(error as Error).message}${cause ? ` (${cause})` : ""}`;
    }
  }
  return { url, ok: false, tries: options.retries + 1, reason };
}
