import { describe, expect, it } from 'vitest';
import { refreshLeaseMs } from '../../src/oauth/token-service.js';

describe('refreshLeaseMs', () => {
  it('covers every attempt timing out and every backoff at its longest, plus slack', () => {
    // 3 × 10 s + (200 + 400) ms of backoff + 5 s of slack.
    expect(refreshLeaseMs({ timeoutMs: 10_000 })).toBe(35_600);
    expect(refreshLeaseMs({ timeoutMs: 10_000, retry: { attempts: 1, baseDelayMs: 200 } })).toBe(30_000);
    expect(refreshLeaseMs({ timeoutMs: 20_000, retry: { attempts: 4, baseDelayMs: 100 } })).toBe(4 * 20_000 + 700 + 5_000);
  });

  it('never goes below what was asked for, nor below what a live holder needs', () => {
    expect(refreshLeaseMs({ timeoutMs: 1_000, leaseMs: 60_000 })).toBe(60_000);
    expect(refreshLeaseMs({ timeoutMs: 1_000, leaseMs: 100 })).toBe(3_000 + 600 + 5_000);
  });
});
