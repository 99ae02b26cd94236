import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineName, type TestServer, startTestServer } from '../support/harness.js';
import { postgresAvailable } from '../support/postgres.js';
import { type Upstream, bearer, connection, httpIntegration, proxyAudit, rawRequest, startUpstream } from './support.js';

const TOKEN = 'canary-access-token-31f0aa96e2';
// The proxy's one-statement load and its audit writes run on both engines when PostgreSQL is up.
const engines: EngineName[] = (await postgresAvailable()) ? ['sqlite', 'postgres'] : ['sqlite'];

describe.each(engines)('proxy: authentication, authorization, tenancy and disabled records (%s)', (engine) => {
  let s: TestServer;
  let up: Upstream;
  beforeAll(async () => {
    s = await startTestServer({ engine, listen: true, config: { allowPrivateNetworks: true } });
    up = await startUpstream();
    await httpIntegration(s, 'api', 'pat', up.url);
    await connection(s, 'api', 'c1', { type: 'pat', token: TOKEN });
    await connection(s, 'api', 'c2', { type: 'pat', token: TOKEN });
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
  });

  const proxy = (key: string | null, target = '/v1/proxy/api/c1/x', method = 'GET') => rawRequest(s.baseUrl!, method, target, { headers: key ? bearer(key) : {} });

  it('no key or an unknown key: 401 problem, nothing sent', async () => {
    const before = up.seen.length;
    for (const res of [await proxy(null), await proxy('not-a-real-key-0123456789abcdef0123')]) {
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="latchkey"');
    }
    expect(up.seen.length).toBe(before);
  });

  it('runtime keys (connection.use) may proxy; viewer and operator keys get 403, audited as denied, and nothing is sent', async () => {
    const runtime = await s.newKey('runtime');
    expect((await proxy(runtime)).status).toBe(200);
    const before = up.seen.length;
    for (const role of ['viewer', 'operator']) {
      const key = await s.newKey(role);
      const res = await proxy(key, '/v1/proxy/api/c2/x', 'POST');
      expect(res.status, role).toBe(403);
      expect(res.json).toMatchObject({ code: 'forbidden' });
      expect(res.json.detail).toContain('platform.connection.use');
    }
    expect(up.seen.length).toBe(before);
    const denied = (await proxyAudit(s, 'api/c2')).events.filter((e) => e.outcome === 'denied');
    expect(denied).toHaveLength(2);
    expect(denied.every((e) => e.status === 403)).toBe(true);
  });

  it('a key granted connection.use explicitly may proxy without the runtime role', async () => {
    const key = await s.newKey('viewer', { policies: ['platform.connection.use'] });
    expect((await proxy(key)).status).toBe(200);
  });

  it('another tenant\'s integration is 404, exactly like a missing one, and nothing is sent', async () => {
    const other = await s.newTenant('Proxy neighbour');
    const before = up.seen.length;
    const theirs = await proxy(other.adminKey);
    const missing = await proxy(s.adminKey, '/v1/proxy/no-such-integration/c1/x');
    const missingConnection = await proxy(s.adminKey, '/v1/proxy/api/no-such-connection/x');
    for (const res of [theirs, missing, missingConnection]) {
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ code: 'not_found' });
    }
    expect(up.seen.length).toBe(before);
  });

  it('a workspace-restricted key does not see another workspace\'s integration: 404', async () => {
    await httpIntegration(s, 'ws-a', 'pat', up.url, {}, { scope: 'workspace', workspaceId: 'ws-a' });
    await connection(s, 'ws-a', 'c1', { type: 'pat', token: TOKEN });
    const key = await s.newKey('runtime', { workspaceId: 'ws-b' });
    const before = up.seen.length;
    expect((await proxy(key, '/v1/proxy/ws-a/c1/x')).status).toBe(404);
    expect(up.seen.length).toBe(before);
    expect((await proxy(await s.newKey('runtime', { workspaceId: 'ws-a' }), '/v1/proxy/ws-a/c1/x')).status).toBe(200);
  });

  it('a disabled connection, then a disabled integration: 409 with the reason, nothing sent; enabling again restores it', async () => {
    const before = up.seen.length;
    expect((await s.request('PATCH', '/v1/integrations/api/connections/c2', { body: { enabled: false } })).status).toBe(200);
    const conn = await proxy(s.adminKey, '/v1/proxy/api/c2/x');
    expect(conn.status).toBe(409);
    expect(conn.json).toMatchObject({ code: 'conflict', reason: 'connection_disabled' });

    expect((await s.request('PATCH', '/v1/integrations/api', { body: { enabled: false } })).status).toBe(200);
    const integ = await proxy(s.adminKey, '/v1/proxy/api/c1/x');
    expect(integ.status).toBe(409);
    expect(integ.json).toMatchObject({ code: 'conflict', reason: 'integration_disabled' });
    expect(up.seen.length).toBe(before);

    expect((await s.request('PATCH', '/v1/integrations/api', { body: { enabled: true } })).status).toBe(200);
    expect((await proxy(s.adminKey, '/v1/proxy/api/c1/x')).status).toBe(200);
    const errors = (await proxyAudit(s)).events.filter((e) => e.outcome === 'error' && e.status === 409);
    expect(errors.length).toBeGreaterThanOrEqual(2);
  });

  it('a provider without an HTTP API (postgresql) is 409 proxy_unsupported', async () => {
    const created = await s.request('POST', '/v1/integrations', { body: { key: 'pg', provider: 'postgresql', displayName: 'PG', authMethod: 'basic' } });
    expect(created.status, created.text).toBe(201);
    await s.request('POST', '/v1/integrations/pg/connections', { body: { id: 'db', config: { host: '127.0.0.1', database: 'x' }, credentials: { type: 'basic', username: 'u', password: TOKEN } } });
    const res = await proxy(s.adminKey, '/v1/proxy/pg/db/x');
    expect(res.status, res.text).toBe(409);
    expect(res.json).toMatchObject({ code: 'conflict', reason: 'proxy_unsupported' });
    expect(res.text).not.toContain(TOKEN);
  });

  it('no credential value in any log line', () => {
    expect(s.logs.join('\n')).not.toContain(TOKEN);
  });
});
