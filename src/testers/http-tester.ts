import type { ConnectionTester } from './connection-tester.js';
import { injectCredentials } from './credential-injection.js';
import { bodySnippet, sendGuardedRequest } from './http-exchange.js';
import { readJsonField } from './json-field.js';
import { testRequestUrl } from './provider-url.js';
import { passed, TestFailure } from './test-result.js';

const USER_AGENT = 'latchkey-connection-test';

/** A URL for messages: origin and path only, so a query-string credential is never shown. */
function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/**
 * Runs the provider's declared HTTP test request (method, path, expected status, optional
 * JSON field) with the credentials injected. 401/403 mean the credentials were refused;
 * any other unexpected status, including a redirect, is `unexpected_status`.
 *
 * @example
 * ```ts
 * const result = await httpTester.test(target, { timeoutMs: 10_000, guard, signal });
 * // { ok: true, details: { status: 200, method: 'GET', url: 'https://api.github.com/user', … } }
 * ```
 */
export const httpTester: ConnectionTester = {
  kind: 'http',
  async test(target, { timeoutMs, guard, signal }) {
    const declared = target.provider.test;
    if (declared.kind !== 'http') throw new TestFailure('misconfigured', `provider ${target.provider.key} does not declare an HTTP test`);
    const url = testRequestUrl(target, declared.path);
    const shownUrl = displayUrl(url);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
    injectCredentials(target, url, headers, declared.method);

    const started = performance.now();
    const res = await sendGuardedRequest({ method: declared.method, url, headers, guard, signal, timeoutMs });
    const details: Record<string, unknown> = { method: declared.method, url: shownUrl, status: res.status };
    const where = `${declared.method} ${shownUrl}`;

    if (res.status !== declared.expectStatus) {
      const snippet = bodySnippet(res.body);
      const suffix = snippet ? `: ${snippet}` : '';
      if (res.status === 401 || res.status === 403) {
        throw new TestFailure('auth_failed', `${where} answered ${res.status}; the credentials were refused${suffix}`, details);
      }
      const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
      if (location) details.location = location;
      const redirect = res.status >= 300 && res.status < 400 ? ` (redirect to ${location ?? 'nowhere'} not followed)` : '';
      throw new TestFailure('unexpected_status', `${where} answered ${res.status}, expected ${declared.expectStatus}${redirect}${suffix}`, details);
    }

    if (declared.jsonField !== undefined) {
      if (res.truncated) throw new TestFailure('invalid_response', `${where} answered with a body too large to check`, details);
      let json: unknown;
      try {
        json = JSON.parse(res.body.toString('utf8'));
      } catch {
        throw new TestFailure('invalid_response', `${where} did not answer with JSON`, details);
      }
      const value = readJsonField(json, declared.jsonField);
      // null counts as absent: APIs answer `"login": null` for anonymous or broken sessions.
      if (value === undefined || value === null) {
        throw new TestFailure('invalid_response', `${where} answered without the expected field "${declared.jsonField}"`, details);
      }
      details.jsonField = declared.jsonField;
    }
    return passed(started, details);
  },
};
