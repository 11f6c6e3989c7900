// When to try a request again, and how long to wait first.

/** 408 Request Timeout, 429 Too Many Requests and every 5xx may succeed when tried again. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

const BASE_MS = 500;
const CAP_MS = 8_000;
/** A Retry-After longer than this is not waited for: the call fails with the response's error
 * rather than hang, or come back sooner than the server asked. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Exponential backoff with jitter: 0.5 s, 1 s, 2 s ... up to 8 s, each between half and all
 * of that, so clients that failed together do not come back together. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** attempt);
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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
