import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboundGuard } from '../../src/net/outbound-guard.js';
import { runConnectionTest } from '../../src/testers/run-connection-test.js';
import type { TestResult } from '../../src/testers/test-result.js';
import { startPgClusterOrSkip } from './support/pg-cluster.js';
import { catalogProvider, expectNoSecrets, target } from './support/targets.js';

const USER = 'latchkey_app';
const PASSWORD = 'pg-Canary-Password-4711';
const cluster = await startPgClusterOrSkip();
const failures: TestResult[] = [];
const guard = new OutboundGuard({ allowList: ['127.0.0.1'] });
const provider = catalogProvider('postgresql');

const pgTarget = (connection: Record<string, unknown>, password: string = PASSWORD) =>
  target(provider, 'basic', { type: 'basic', fields: { username: USER, password } }, { connection: { host: '127.0.0.1', port: cluster?.port, database: 'app', sslMode: 'disable', ...connection } });
const run = async (t: ReturnType<typeof pgTarget>, timeoutMs = 5000, g = guard) => {
  const result = await runConnectionTest(t, { guard: g, timeoutMs });
  expectNoSecrets(result, [PASSWORD, t.credentials.fields.password as string]);
  if (!result.ok) failures.push(result);
  return result;
};

describe.skipIf(!cluster)('postgresql tester against a throw-away cluster (scram-sha-256)', () => {
  beforeAll(async () => {
    await cluster!.sql(`CREATE ROLE ${USER} LOGIN PASSWORD '${PASSWORD}'`);
    await cluster!.sql(`CREATE DATABASE app OWNER ${USER}`);
    await cluster!.sql('CREATE DATABASE locked');
    await cluster!.sql('REVOKE CONNECT ON DATABASE locked FROM PUBLIC');
  });
  afterAll(async () => {
    for (const result of failures) expectNoSecrets(result, [PASSWORD, cluster!.superPassword]);
    await cluster?.stop();
  });

  it('good password → ok with the server version', async () => {
    const result = await run(pgTarget({}));
    expect(result).toMatchObject({ ok: true, error: null, details: { tls: false } });
    expect(result.details.serverVersion).toMatch(/^\d+(\.\d+)?/);
    expect(result.latencyMs).toBeGreaterThan(0);
  });

  it('bad password → auth_failed (the user name in the server text is a credential and is redacted)', async () => {
    const result = await run(pgTarget({}, 'wrong-password'));
    expect(result.error?.code).toBe('auth_failed');
    expect(result.details.sqlState).toBe('28P01');
    expect(result.error?.message).toContain('password authentication failed for user "[redacted]"');
  });

  it('unknown database → database_not_found, and a password quoted back by the server is scrubbed', async () => {
    const result = await run(pgTarget({ database: 'nope' }));
    expect(result.error?.code).toBe('database_not_found');
    // The server repeats the database name; here it is the password itself.
    const echoed = await run(pgTarget({ database: PASSWORD }));
    expect(echoed.error).toEqual({ code: 'database_not_found', message: 'database "[redacted]" does not exist' });
  });

  it('no CONNECT privilege → permission_denied', async () => {
    expect((await run(pgTarget({ database: 'locked' }))).error?.code).toBe('permission_denied');
  });

  it('sslMode=require (the catalog default) against a server without TLS → tls_failed', async () => {
    expect((await run(pgTarget({ sslMode: 'require' }))).error?.code).toBe('tls_failed');
    expect((await run(pgTarget({ sslMode: undefined }))).error?.code).toBe('tls_failed');
  });

  it('closed port → host_unreachable', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    expect((await run(pgTarget({ port }))).error?.code).toBe('host_unreachable');
  });

  it('a server that accepts and never answers → timeout within the configured ms', async () => {
    const sockets: Socket[] = [];
    let closed = 0;
    const silent = createServer((s) => {
      sockets.push(s);
      s.on('close', () => closed++).on('error', () => undefined).resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const started = Date.now();
    const result = await run(pgTarget({ port: (silent.address() as AddressInfo).port }), 500);
    expect(result.error?.code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1500);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect([sockets.length, closed]).toEqual([1, 1]);
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('loopback without an allow-list → destination_refused, also by name', async () => {
    expect((await run(pgTarget({}), 5000, new OutboundGuard())).error?.code).toBe('destination_refused');
    expect((await run(pgTarget({ host: 'localhost' }), 5000, new OutboundGuard())).error?.code).toBe('destination_refused');
    expect((await run(pgTarget({ host: 'localhost' }), 5000, new OutboundGuard({ allowPrivateNetworks: true }))).ok).toBe(true);
  });

  it('an unknown sslMode or a missing host → misconfigured', async () => {
    expect((await run(pgTarget({ sslMode: 'prefer' }))).error?.code).toBe('misconfigured');
    expect((await run(pgTarget({ host: undefined }))).error?.code).toBe('misconfigured');
  });

  describe('with TLS on', () => {
    let ca = '';
    beforeAll(async () => {
      ca = await cluster!.enableTls();
    });

    it('require → ok over TLS without checking the certificate', async () => {
      expect(await run(pgTarget({ sslMode: 'require' }))).toMatchObject({ ok: true, details: { tls: true } });
    });

    it('verify-full with the CA → ok, by address and by name', async () => {
      expect((await run(pgTarget({ sslMode: 'verify-full', caCertificate: ca }))).ok).toBe(true);
      expect((await run(pgTarget({ sslMode: 'verify-full', caCertificate: ca, host: 'localhost' }), 5000, new OutboundGuard({ allowList: ['localhost'] }))).ok).toBe(true);
    });

    it('verify-full without a trusted CA → tls_failed', async () => {
      expect((await run(pgTarget({ sslMode: 'verify-full' }))).error?.code).toBe('tls_failed');
    });
  });
});
