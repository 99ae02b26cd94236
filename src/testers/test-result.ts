/**
 * Stable error codes of a connection test. Clients switch on these; messages are for humans.
 * `unexpected_error` covers failures no other code describes (a driver bug, an unknown server
 * error), `not_supported` a provider that declares no test.
 */
export const TEST_ERROR_CODES = [
  'auth_failed',
  'host_unreachable',
  'dns_failed',
  'timeout',
  'tls_failed',
  'host_key_mismatch',
  'unexpected_status',
  'invalid_response',
  'destination_refused',
  'misconfigured',
  'database_not_found',
  'permission_denied',
  'not_supported',
  'unexpected_error',
] as const;
export type TestErrorCode = (typeof TEST_ERROR_CODES)[number];

/** The outcome of one connection test (SPEC section 7). Never carries a secret. */
export interface TestResult {
  ok: boolean;
  latencyMs: number;
  /** ISO-8601 time the test finished. */
  checkedAt: string;
  details: Record<string, unknown>;
  error: { code: TestErrorCode; message: string } | null;
}

/**
 * Thrown inside a tester to end the test with a given code; the dispatcher turns it into a
 * failed {@link TestResult}, keeping `details` (e.g. the presented host-key fingerprint).
 *
 * @example
 * ```ts
 * throw new TestFailure('database_not_found', 'database "sales" does not exist');
 * ```
 */
export class TestFailure extends Error {
  override readonly name = 'TestFailure';
  constructor(
    readonly code: TestErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Milliseconds since `startedAt` (a `performance.now()` reading), rounded to 0.1 ms. */
export function elapsedSince(startedAt: number): number {
  return Math.round((performance.now() - startedAt) * 10) / 10;
}

/**
 * A passed result.
 * @example
 * ```ts
 * const started = performance.now();
 * // … connect …
 * return passed(started, { serverVersion: '16.4' });
 * ```
 */
export function passed(startedAt: number, details: Record<string, unknown> = {}): TestResult {
  return { ok: true, latencyMs: elapsedSince(startedAt), checkedAt: new Date().toISOString(), details, error: null };
}

/**
 * A failed result.
 * @example
 * ```ts
 * return failed(started, 'auth_failed', 'password authentication failed');
 * ```
 */
export function failed(startedAt: number, code: TestErrorCode, message: string, details: Record<string, unknown> = {}): TestResult {
  return { ok: false, latencyMs: elapsedSince(startedAt), checkedAt: new Date().toISOString(), details, error: { code, message } };
}
