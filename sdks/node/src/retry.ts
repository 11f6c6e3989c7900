// When to try a request again, how long to wait first, and how often `wait()` polls: the one
// retry policy of both SDKs, whose numbers come from sdks/retry-policy.json.

import { RETRY_POLICY } from "./generated/retryPolicy.js";

const RETRY_STATUSES: ReadonlySet<number> = new Set(RETRY_POLICY.retryStatuses);

/** 408, 429, 500, 502, 503 and 504 may succeed when tried again; other statuses (501 Not
 * Implemented, a 505, any 4xx) will not. */
export function isRetryableStatus(status: number): boolean {
  return RETRY_STATUSES.has(status);
}

/** A Retry-After longer than this is not waited for: the call fails with the response's error
 * rather than hang, or come back sooner than the server asked. */
export const MAX_RETRY_AFTER_MS: number = RETRY_POLICY.maxRetryAfterMs;

/** Before retry `attempt` (0-based), "equal jitter": between half and all of
 * min(8 s, 0.5 s * 2^attempt), so clients that failed together do not come back together. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RETRY_POLICY.capMs, RETRY_POLICY.baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Milliseconds to wait from a Retry-After header: delay-seconds or an HTTP date (a date in
 * the past means now). Undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) {
    return undefined;
  }
  const text = header.trim();
  if (/^\d+$/.test(text)) {
    return Number(text) * 1000;
  }
  // An HTTP date names its weekday and month ("Wed, 21 Oct 2015 07:28:00 GMT"); without the
  // letters Date.parse would take "-1" for the year -1.
  const at = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** How long `wait()` sleeps after its read number `poll` (0-based; the first read is at
 * once): 1 s, then 1.5 times longer each time up to 10 s, and never past the deadline,
 * `remainingMs` away. */
export function pollDelayMs(poll: number, remainingMs: number): number {
  const interval = Math.min(
    RETRY_POLICY.waitMaxIntervalMs,
    RETRY_POLICY.waitFirstIntervalMs * RETRY_POLICY.waitMultiplier ** poll,
  );
  return Math.max(0, Math.min(interval, remainingMs));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
