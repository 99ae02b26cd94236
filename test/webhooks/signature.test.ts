import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, retryDelayMs } from '../../src/webhooks/retry-schedule.js';
import { newSigningSecret, signingKeyOf } from '../../src/webhooks/signing-secret.js';
import { assertNoSecretFields } from '../../src/webhooks/webhook-events.js';
import { signatureOf, webhookHeaders } from '../../src/webhooks/webhook-signature.js';
import { verifyStandardWebhook } from './support/receiver.js';

describe('Standard Webhooks signing', () => {
  it('matches the published test vector of the Standard Webhooks reference libraries', () => {
    // From the standard-webhooks reference implementations' test suites.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    expect(signatureOf(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('signs id.timestamp.body with the base64-decoded secret, as computed independently from the spec', () => {
    const secret = newSigningSecret();
    const body = JSON.stringify({ type: 'connection.created', timestamp: '2025-01-01T00:00:00.000Z', data: { integration: 'gh', emoji: 'é✓' } });
    const at = new Date('2025-01-01T00:00:05.000Z');
    const headers = webhookHeaders(secret, 'msg_1', at, body);
    expect(headers['webhook-id']).toBe('msg_1');
    expect(headers['webhook-timestamp']).toBe('1735689605');
    const key = Buffer.from(secret.slice(6), 'base64');
    const mine = createHmac('sha256', key).update(`msg_1.1735689605.${body}`).digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${mine}`);
    // A receiver's check, with its clock at the signing time.
    expect(verifyStandardWebhook(secret, headers, body, Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(verifyStandardWebhook(secret, headers, `${body} `, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(verifyStandardWebhook(newSigningSecret(), headers, body, Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('makes whsec_ secrets of 32 random bytes, never the same twice', () => {
    const a = newSigningSecret();
    const b = newSigningSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(signingKeyOf(a)).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(() => signingKeyOf('not-a-secret')).toThrow();
    expect(() => signingKeyOf('whsec_c2hvcnQ=')).toThrow(/too short/);
  });
});

describe('retry schedule', () => {
  it('doubles the wait per attempt, with jitter in the upper half of each step, up to the cap', () => {
    const policy = { maxAttempts: 10, baseDelayMs: 1000, maxDelayMs: 10_000 };
    expect(retryDelayMs(1, policy, () => 0)).toBe(500);
    expect(retryDelayMs(1, policy, () => 1)).toBe(1000);
    expect(retryDelayMs(3, policy, () => 0)).toBe(2000);
    expect(retryDelayMs(3, policy, () => 1)).toBe(4000);
    expect(retryDelayMs(9, policy, () => 1)).toBe(10_000);
    const samples = new Set(Array.from({ length: 50 }, () => retryDelayMs(2, policy)));
    expect(samples.size).toBeGreaterThan(10);
    for (const v of samples) expect(v).toBeGreaterThanOrEqual(1000);
    expect(retryDelayMs(1, DEFAULT_RETRY_POLICY, () => 1)).toBe(DEFAULT_RETRY_POLICY.baseDelayMs);
  });
});

describe('event data guard', () => {
  it('refuses data with a field named like a secret, at any depth', () => {
    expect(() => assertNoSecretFields({ integration: 'gh', connectionId: 'u1', status: 'active' })).not.toThrow();
    for (const bad of [{ accessToken: 'x' }, { nested: { client_secret: 'x' } }, { list: [{ password: 'x' }] }, { credentials: {} }]) {
      expect(() => assertNoSecretFields(bad)).toThrow(/must not contain/);
    }
  });
});
