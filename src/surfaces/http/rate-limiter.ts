/**
 * A token bucket per caller (API key id, or client address for failed sign-ins), in
 * memory. `take` answers how many seconds to wait when the bucket is empty.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Returns 0 when allowed, else the seconds until a token is available. */
  take(id: string): number {
    if (this.perSecond <= 0) return 0;
    const now = this.clock();
    const bucket = this.buckets.get(id) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (this.buckets.size > 100_000) this.buckets.clear();
    this.buckets.set(id, bucket);
    if (bucket.tokens < 1) return Math.ceil((1 - bucket.tokens) / this.perSecond);
    bucket.tokens -= 1;
    return 0;
  }
}
