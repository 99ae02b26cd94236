import { TestFailure, type TestErrorCode } from './test-result.js';

const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'ECONNRESET', 'EPIPE', 'EADDRNOTAVAIL', 'ECONNABORTED']);
const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA']);
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_)|CERT|SELF_SIGNED|HOSTNAME_MISMATCH|UNABLE_TO_(GET|VERIFY)/;

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
}

/** Whether a socket/TLS error is a TLS handshake or certificate failure. */
export function isTlsError(error: unknown): boolean {
  const e = error as ErrorLike | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && TLS_CODE.test(e.code)) return true;
  return typeof e.message === 'string' && /SSL routines|TLS|does not support SSL|certificate/i.test(e.message) && e.code !== 'destination_refused';
}

/**
 * Maps a Node network error (socket, DNS, TLS, or the guard's refusal) to a test failure, or
 * returns null when the error is not a network error. Node 20's happy-eyeballs connect reports
 * an `AggregateError`; its first classifiable member decides.
 *
 * @example
 * ```ts
 * classifyNetworkError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
 * // TestFailure { code: 'host_unreachable', … }
 * ```
 */
export function classifyNetworkError(error: unknown): TestFailure | null {
  const e = error as ErrorLike | null;
  if (!e || typeof e !== 'object') return null;
  const message = typeof e.message === 'string' ? e.message : String(error);
  const code = typeof e.code === 'string' ? e.code : undefined;
  const fail = (c: TestErrorCode, summary: string) => new TestFailure(c, `${summary}: ${message}`);
  if (code === 'destination_refused') return new TestFailure('destination_refused', message);
  if (code && UNREACHABLE.has(code)) return fail('host_unreachable', 'the host could not be reached');
  if (code && DNS.has(code)) return fail('dns_failed', 'the host name could not be resolved');
  if (code === 'ETIMEDOUT') return fail('timeout', 'the connection timed out');
  if (isTlsError(error)) return fail('tls_failed', 'the TLS handshake failed');
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const classified = classifyNetworkError(inner);
      if (classified) return classified;
    }
  }
  return null;
}
