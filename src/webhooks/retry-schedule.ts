/** How failed deliveries are retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included; after the last failure the delivery is `failed`. */
  maxAttempts: number;
  /** Wait before the second attempt; each later wait doubles, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 10, baseDelayMs: 30_000, maxDelayMs: 6 * 60 * 60_000 };

/**
 * The wait after failed attempt number `attempt` (1-based): exponential, capped, with
 * "equal jitter" (a random point in the upper half of the step), so receivers that come
 * back after an outage are not hit by every instance's retries at the same instant.
 *
 * @example
 * ```ts
 * retryDelayMs(1, DEFAULT_RETRY_POLICY); // 15 000 – 30 000
 * retryDelayMs(3, DEFAULT_RETRY_POLICY); // 60 000 – 120 000
 * ```
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}
