import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { createGuardedSocket } from '../net/guarded-socket.js';
import type { ConnectionTester } from './connection-tester.js';
import { classifyNetworkError } from './network-errors.js';
import { configHost, configPort, configString, credentialString, onAbort } from './target-config.js';
import { passed, TestFailure } from './test-result.js';

/** TLS options for pg from the catalog's `sslMode` (disable | require | verify-full). */
function tlsOptions(sslMode: string, caCertificate: string | undefined): false | ConnectionOptions {
  switch (sslMode) {
    case 'disable':
      return false;
    case 'require':
      // libpq semantics: encrypted, but the certificate is not checked.
      return { rejectUnauthorized: false };
    case 'verify-full':
      return caCertificate ? { rejectUnauthorized: true, ca: caCertificate } : { rejectUnauthorized: true };
    default:
      throw new TestFailure('misconfigured', `sslMode must be disable, require or verify-full, not ${sslMode}`);
  }
}

/** Maps a pg / socket error to a test failure (SQLSTATE codes first, then the driver's texts). */
export function classifyPostgresError(error: unknown, sslMode: string): TestFailure {
  if (error instanceof TestFailure) return error;
  const e = error as { code?: unknown; message?: unknown; severity?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const sqlState = typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && e.severity !== undefined ? e.code : undefined;
  if (sqlState) {
    if (sqlState === '28P01' || sqlState === '28000') return new TestFailure('auth_failed', `the server refused the credentials: ${message}`, { sqlState });
    if (sqlState === '3D000') return new TestFailure('database_not_found', message, { sqlState });
    if (sqlState === '42501') return new TestFailure('permission_denied', message, { sqlState });
    return new TestFailure('unexpected_error', `the server answered with error ${sqlState}: ${message}`, { sqlState });
  }
  if (/does not support SSL/i.test(message)) return new TestFailure('tls_failed', `the server does not accept TLS connections, but sslMode is ${sslMode}`);
  if (/password must be a string|no password/i.test(message)) return new TestFailure('auth_failed', 'the server asks for a password and the credentials have none');
  if (/timeout expired|connection timeout|Query read timeout/i.test(message)) return new TestFailure('timeout', `no answer in time: ${message}`);
  const network = classifyNetworkError(error);
  if (network) return network;
  if (/terminated unexpectedly|error establishing an SSL connection/i.test(message)) {
    return new TestFailure('invalid_response', `the server closed the connection during the handshake (is it PostgreSQL?): ${message}`);
  }
  return new TestFailure('unexpected_error', message);
}

/**
 * Connects to PostgreSQL with the `pg` driver through the outbound guard, runs `SELECT 1`
 * and `SHOW server_version`, and reports the version and the round-trip latency.
 *
 * @example
 * ```ts
 * await postgresqlTester.test(target, { timeoutMs: 10_000, guard, signal });
 * // { ok: true, details: { serverVersion: '15.8', tls: true }, … }
 * ```
 */
export const postgresqlTester: ConnectionTester = {
  kind: 'postgresql',
  async test(target, { timeoutMs, guard, signal }) {
    const host = configHost(target);
    const port = configPort(target, 'port', 5432);
    const database = configString(target, 'database', true);
    const sslMode = configString(target, 'sslMode') ?? 'require';
    const ssl = tlsOptions(sslMode, configString(target, 'caCertificate'));
    const user = credentialString(target, 'username');
    if (!user) throw new TestFailure('misconfigured', 'the credentials have no username');
    guard.preflight(host);

    let socket: Socket | undefined;
    const client = new pg.Client({
      host,
      port,
      database,
      user,
      password: credentialString(target, 'password'),
      ssl,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      application_name: 'latchkey-connection-test',
      stream: () => (socket = createGuardedSocket(guard)),
    });
    // Errors after connect are emitted on the client; unhandled, they would crash the process.
    client.on('error', () => undefined);
    const release = onAbort(signal, () => socket?.destroy());
    const started = performance.now();
    try {
      await client.connect();
      await client.query('SELECT 1');
      const version = await client.query<{ server_version: string }>('SHOW server_version');
      const result = passed(started, { serverVersion: version.rows[0]?.server_version, tls: ssl !== false });
      // A polite Terminate keeps the server log clean, but a silent server must not hold us.
      await Promise.race([client.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      return result;
    } catch (error) {
      throw classifyPostgresError(error, sslMode);
    } finally {
      release();
      socket?.destroy();
    }
  },
};
