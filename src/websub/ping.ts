import { setTimeout as sleep } from "node:timers/promises";

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

/**
 * What the hub answered for one feed. `left`: the run's time ran out before
 * the hub took the ping (or before it was sent), so it is not known to have.
 */
export type PingResult = { url: string; ok: true; tries: number } | { url: string; ok: false; tries: number; reason: string; left?: true };

/** What a caller hears of a run of pings while it goes on, and how it stops one. */
export interface PingHooks {
  /** Called with each feed's result as soon as it is known: what the hub took can be recorded at once. */
  onResult?: (result: PingResult) => void;
  /** Aborted when the run's time is up: no ping starts after, and those under way are cut off, as `left`. */
  signal?: AbortSignal;
}

/** Sensible defaults for a public hub. */
export const PING_DEFAULTS: PingOptions = { retries: 3, retryDelayMs: 2000, timeoutMs: 15_000, concurrency: 4 };

/**
 * Tells a WebSub hub that each feed changed (`hub.mode=publish`,
 * `hub.url=<feed>`, form-encoded, one request a feed: the form every
 * public hub accepts). A 2xx is success; a 5xx, a 429 or a request that
 * fails or times out is tried again with exponential backoff; any other
 * answer is final. Never throws: every feed gets its result.
 */
export async function pingHub(hub: string, urls: readonly string[], options: PingOptions = PING_DEFAULTS, hooks: PingHooks = {}): Promise<PingResult[]> {
  const results: PingResult[] = new Array(urls.length);
  let next = 0;
  const worker = async () => {
    while (next < urls.length) {
      const index = next++;
      const url = urls[index] as string;
      const result = hooks.signal?.aborted ? timeUp(url, 0) : await pingOne(hub, url, options, hooks.signal);
      results[index] = result;
      hooks.onResult?.(result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, urls.length) }, worker));
  return results;
}

function timeUp(url: string, tries: number): PingResult {
  return { url, ok: false, tries, reason: "the time ran out first", left: true };
}

async function pingOne(hub: string, url: string, options: PingOptions, stop: AbortSignal | undefined): Promise<PingResult> {
  let reason = "";
  for (let attempt = 1; attempt <= options.retries + 1; attempt++) {
    if (attempt > 1) {
      try {
        await sleep(options.retryDelayMs * 2 ** (attempt - 2), undefined, stop ? { signal: stop } : {});
      } catch {
        // Only the time running out ends the wait early.
        return timeUp(url, attempt - 1);
      }
    }
    try {
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const response = await fetch(hub, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": "Presswork (WebSub publisher)" },
        body: new URLSearchParams({ "hub.mode": "publish", "hub.url": url }).toString(),
        signal: stop ? AbortSignal.any([timeout, stop]) : timeout,
        redirect: "follow",
      });
      await response.body?.cancel();
      if (response.ok) return { url, ok: true, tries: attempt };
      reason = `${response.status} ${response.statusText}`.trim();
      if (response.status < 500 && response.status !== 429) return { url, ok: false, tries: attempt, reason };
    } catch (error) {
      if (stop?.aborted) return timeUp(url, attempt);
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      reason = (error as Error).name === "TimeoutError" ? `no answer within ${options.timeoutMs / 1000} s` : `${(error as Error).message}${cause ? ` (${cause})` : ""}`;
    }
  }
  return { url, ok: false, tries: options.retries + 1, reason };
}
