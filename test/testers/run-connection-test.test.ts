import { describe, expect, it } from 'vitest';
import { DestinationRefusedError } from '../../src/net/destination-refused-error.js';
import { OutboundGuard } from '../../src/net/outbound-guard.js';
import type { ConnectionTester } from '../../src/testers/connection-tester.js';
import { runConnectionTest } from '../../src/testers/run-connection-test.js';
import { collectSecrets, createScrubber } from '../../src/testers/secret-scrubber.js';
import { passed, TEST_ERROR_CODES, TestFailure } from '../../src/testers/test-result.js';
import { customProvider, expectNoSecrets, target } from './support/targets.js';

const SECRET = 'top-Secret/Value+with spaces&more';
const provider = customProvider({ key: 'fake', authMethods: ['api_key'], baseUrl: 'https://example.invalid', test: { kind: 'http', path: '/' } });
const fakeTarget = target(provider, 'api_key', { type: 'api_key', fields: { apiKey: SECRET } });
const guard = new OutboundGuard();
const using = (tester: ConnectionTester['test']) => new Map([['http', { kind: 'http' as const, test: tester }]]);

describe('runConnectionTest', () => {
  it('a tester that ignores the abort signal still cannot hold the caller past the timeout', async () => {
    const started = Date.now();
    const result = await runConnectionTest(fakeTarget, { guard, timeoutMs: 150, testers: using(() => new Promise(() => undefined)) });
    expect(result).toMatchObject({ ok: false, error: { code: 'timeout', message: 'no answer within 150 ms' }, details: { timeoutMs: 150 } });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.latencyMs).toBeGreaterThanOrEqual(140);
  });

  it('aborts the tester signal on timeout so it can close its sockets', async () => {
    let aborted = false;
    await runConnectionTest(fakeTarget, {
      guard,
      timeoutMs: 50,
      testers: using(
        (_t, { signal }) =>
          new Promise((_resolve, reject) => {
            signal.addEventListener('abort', () => {
              aborted = true;
              reject(new Error('socket closed'));
            });
          }),
      ),
    });
    expect(aborted).toBe(true);
  });

  it('the caller can cancel', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const result = await runConnectionTest(fakeTarget, { guard, timeoutMs: 5000, signal: controller.signal, testers: using(() => new Promise(() => undefined)) });
    expect(result.error).toEqual({ code: 'timeout', message: 'the test was cancelled' });
  });

  it('maps thrown errors to codes and scrubs them', async () => {
    const cases: Array<[unknown, string]> = [
      [new TestFailure('auth_failed', `rejected ${SECRET}`), 'auth_failed'],
      [new DestinationRefusedError('metadata.internal', '169.254.169.254', 'metadata'), 'destination_refused'],
      [Object.assign(new Error(`connect ECONNREFUSED (key ${encodeURIComponent(SECRET)})`), { code: 'ECONNREFUSED' }), 'host_unreachable'],
      [Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' }), 'dns_failed'],
      [Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'tls_failed'],
      [new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], 'all failed'), 'host_unreachable'],
      [new Error(`driver bug near ${Buffer.from(SECRET).toString('base64')}`), 'unexpected_error'],
      ['a string', 'unexpected_error'],
    ];
    for (const [thrown, code] of cases) {
      const result = await runConnectionTest(fakeTarget, { guard, timeoutMs: 1000, testers: using(() => Promise.reject(thrown)) });
      expect(result.error?.code, String(thrown)).toBe(code);
      expect(TEST_ERROR_CODES).toContain(result.error?.code);
      expectNoSecrets(result, [SECRET]);
    }
  });

  it('scrubs every string of a result, at any depth and in keys, before truncating', async () => {
    const result = await runConnectionTest(fakeTarget, {
      guard,
      timeoutMs: 1000,
      testers: using(async () => ({
        ...passed(performance.now(), {
          echo: SECRET,
          nested: { list: [`x ${JSON.stringify(SECRET)}`, new URLSearchParams({ k: SECRET }).toString()] },
          [SECRET]: 'as a key',
        }),
        ok: false,
        error: { code: 'unexpected_status', message: `${'a'.repeat(495)}${SECRET}` },
      })),
    });
    expectNoSecrets(result, [SECRET]);
    expect(JSON.stringify(result)).not.toContain(SECRET.slice(0, 10));
    expect(result.error?.message.length).toBeLessThanOrEqual(500);
  });

  it('a provider without a test → not_supported', async () => {
    const none = customProvider({ key: 'quiet', authMethods: ['api_key'], test: { kind: 'none', reason: 'the API has no read-only endpoint' } });
    const result = await runConnectionTest(target(none, 'api_key', { type: 'api_key', fields: { apiKey: SECRET } }), { guard });
    expect(result.error).toEqual({ code: 'not_supported', message: 'Test connections cannot be tested: the API has no read-only endpoint' });
  });
});

describe('secret scrubber', () => {
  it('collects credential values and the Basic pair, not token metadata', () => {
    expect(collectSecrets({ type: 'oauth2', fields: { accessToken: 'at', refreshToken: 'rt', tokenType: 'Bearer', scopes: ['a'], expiresAt: '2030-01-01' } })).toEqual(['at', 'rt']);
    expect(collectSecrets({ type: 'basic', fields: { username: 'ann', password: 'pw1' } })).toEqual(['ann', 'pw1', 'ann:pw1']);
  });

  it('redacts raw, base64, base64url, URL- and form-encoded and JSON-escaped spellings, and PEM lines', () => {
    const pem = `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----`;
    const secret = 'a"b/c+d é?';
    const scrub = createScrubber([secret, pem]);
    const b64 = Buffer.from(secret).toString('base64');
    const text = [secret, b64, Buffer.from(secret).toString('base64url'), encodeURIComponent(secret), new URLSearchParams({ q: secret }).toString().slice(2), JSON.stringify(secret).slice(1, -1), 'line b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW quoted'].join(' | ');
    const scrubbed = scrub(text);
    expect(scrubbed).not.toMatch(/a"b|YSJi|a%22b|b3BlbnNzaC1rZXkt/);
    expect(scrubbed.split('[redacted]').length - 1).toBe(7);
  });
});
