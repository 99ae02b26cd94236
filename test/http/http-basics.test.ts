import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestResponse, type TestServer, startTestServer } from '../support/harness.js';
import { createKey, dbSnapshot, expectProblem } from './fixtures.js';

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('request ids, headers, authentication and system routes', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s?.close());

  const expectUnauthenticated = (res: TestResponse) => {
    expectProblem(res, 401, 'unauthenticated');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="latchkey"');
  };

  describe('X-Request-Id', () => {
    it('echoes a valid id on success, on errors, in the problem and in the audit event', async () => {
      const ok = await s.request('POST', '/v1/api-keys', { body: { name: 'rid', role: 'viewer' }, headers: { 'x-request-id': 'req-abc.123_X' } });
      expect(ok.headers['x-request-id']).toBe('req-abc.123_X');
      const events = await s.request('GET', '/v1/audit-events?action=access.apiKey.create&limit=1');
      expect(events.body.data[0].requestId).toBe('req-abc.123_X');
      const err = await s.request('GET', '/v1/integrations/nope', { headers: { 'x-request-id': 'req-err-1' } });
      expectProblem(err, 404, 'not_found');
      expect(err.body.requestId).toBe('req-err-1');
    });

    it("binds the request id to the request's log lines (the child logger is built on first use)", async () => {
      await s.request('GET', '/v1/integrations', { headers: { 'x-request-id': 'req-log-bound-1' } });
      const line = s.logs.map((l) => JSON.parse(l)).find((l) => l.reqId === 'req-log-bound-1' && l.msg === 'request');
      expect(line).toMatchObject({ method: 'GET', path: '/v1/integrations', status: 200, service: 'latchkey' });
    });

    it('generates one when absent or unusable', async () => {
      const ids = new Set<string>();
      for (const given of [undefined, 'has space', 'x'.repeat(129), '<script>', 'a\u00e9', '']) {
        const res = await s.request('GET', '/healthz', { key: null, ...(given !== undefined ? { headers: { 'x-request-id': given } } : {}) });
        const id = String(res.headers['x-request-id']);
        expect(id).toMatch(UUID);
        ids.add(id);
      }
      expect(ids.size).toBe(6);
      const unauth = await s.request('GET', '/v1/integrations', { key: null });
      expect(unauth.body.requestId).toMatch(UUID);
      expect(unauth.body.requestId).toBe(unauth.headers['x-request-id']);
    });
  });

  it('security headers are on every API response, success or error', async () => {
    const responses = [
      await s.request('GET', '/v1/integrations'),
      await s.request('GET', '/v1/integrations', { key: null }),
      await s.request('GET', '/v1/no-such-route'),
      await s.request('POST', '/v1/integrations', { raw: '{bad' }),
      await s.request('POST', '/v1/integrations', { raw: '{}', headers: { 'content-type': 'text/plain' } }),
      await s.request('POST', '/v1/integrations', { raw: JSON.stringify({ d: 'x'.repeat(1100 * 1024) }) }),
      await s.request('GET', '/healthz', { key: null }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 401, 404, 400, 415, 413, 200]);
    for (const res of responses) for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers[name], `${name} on ${res.status}`).toBe(value);
  });

  describe('authentication', () => {
    it('no key, a wrong key, a malformed header → 401 with WWW-Authenticate', async () => {
      expectUnauthenticated(await s.request('GET', '/v1/integrations', { key: null }));
      expectUnauthenticated(await s.request('GET', '/v1/integrations', { key: 'lk_this-key-does-not-exist-0123456789abcdef' }));
      expectUnauthenticated(await s.request('GET', '/v1/integrations', { key: 'short' }));
      expectUnauthenticated(await s.request('GET', '/v1/integrations', { key: null, headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }));
      expectUnauthenticated(await s.request('GET', '/v1/integrations', { key: null, headers: { authorization: 'Bearer' } }));
      expectUnauthenticated(await s.request('GET', '/v1/integrations', { key: null, headers: { 'x-api-key': `${s.adminKey}x` } }));
      // Writes are refused before anything is read or stored.
      const before = await dbSnapshot(s);
      expectUnauthenticated(await s.request('POST', '/v1/api-keys', { key: null, body: { name: 'x', role: 'admin' } }));
      // The key is checked before the body is read: no 400/413/415 hints for anonymous callers.
      expectUnauthenticated(await s.request('POST', '/v1/api-keys', { key: null, raw: '{bad json' }));
      expectUnauthenticated(await s.request('POST', '/v1/api-keys', { key: 'lk_wrong-key-0123456789abcdef0123456789', raw: 'x'.repeat(1100 * 1024) }));
      expectUnauthenticated(await s.request('POST', '/v1/api-keys', { key: null, raw: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }));
      expect(await dbSnapshot(s)).toEqual(before);
    });

    it('accepts Authorization: Bearer and X-API-Key', async () => {
      expect((await s.request('GET', '/v1/integrations', { key: null, headers: { 'x-api-key': s.adminKey } })).status).toBe(200);
      expect((await s.request('GET', '/v1/integrations', { key: null, headers: { authorization: `bearer ${s.adminKey}` } })).status).toBe(200);
    });

    it('a revoked key is refused at once', async () => {
      const k = await createKey(s, s.adminKey, { role: 'viewer' });
      expect((await s.request('GET', '/v1/integrations', { key: k.key })).status).toBe(200);
      const revoked = await s.request('DELETE', `/v1/api-keys/${k.id}`);
      expect(revoked.status, revoked.text).toBe(200);
      expect(revoked.body.revokedAt).not.toBeNull();
      expectUnauthenticated(await s.request('GET', '/v1/integrations', { key: k.key }));
      const list = await s.request('GET', '/v1/api-keys?limit=200');
      expect(list.body.data.map((r: any) => r.id)).not.toContain(k.id);
      const all = await s.request('GET', '/v1/api-keys?limit=200&includeRevoked=true');
      expect(all.body.data.map((r: any) => r.id)).toContain(k.id);
    });

    it('an expired key is refused, also when it was cached while valid', async () => {
      const soon = await createKey(s, s.adminKey, { role: 'viewer', expiresAt: new Date(Date.now() + 700).toISOString() });
      expect((await s.request('GET', '/v1/integrations', { key: soon.key })).status).toBe(200);
      await sleep(800);
      expectUnauthenticated(await s.request('GET', '/v1/integrations', { key: soon.key }));
      // Expired in the database before it was ever used.
      const past = await createKey(s, s.adminKey, { role: 'viewer', expiresAt: new Date(Date.now() + 60_000).toISOString() });
      await s.lk.services.store.db.updateTable('api_keys').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', past.id).execute();
      expectUnauthenticated(await s.request('GET', '/v1/integrations', { key: past.key }));
    });

    it('a key cannot revoke itself (409) and stays usable', async () => {
      const admin = await createKey(s, s.adminKey, { role: 'admin' });
      const res = await s.request('DELETE', `/v1/api-keys/${admin.id}`, { key: admin.key });
      expectProblem(res, 409, 'conflict');
      expect(res.body.reason).toBe('self_revoke');
      expect((await s.request('GET', '/v1/api-keys', { key: admin.key })).status).toBe(200);
    });

    it('an admin of a non-platform tenant cannot reach the tenant routes', async () => {
      const t = await s.newTenant('Auth tenant');
      expectProblem(await s.request('GET', '/v1/tenants', { key: t.adminKey }), 403, 'forbidden');
      expect((await s.request('GET', '/v1/tenants')).status).toBe(200);
    });
  });

  describe('system routes', () => {
    it('/healthz and /readyz answer without a key', async () => {
      const health = await s.request('GET', '/healthz', { key: null });
      expect(health.status).toBe(200);
      expect(health.body).toEqual({ status: 'ok' });
      const ready = await s.request('GET', '/readyz', { key: null });
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({ status: 'ready' });
    });

    it('an unknown route or method → 404 problem+json, with or without a key', async () => {
      for (const [method, path] of [
        ['GET', '/nope'],
        ['GET', '/v1/nope'],
        ['POST', '/v1/providers'],
        ['GET', '/v1/integrations/a/b/c/d/e'],
        ['DELETE', '/v1/tenants'],
      ] as const) {
        for (const key of [null, s.adminKey]) {
          const res = await s.request(method, path, { key });
          expectProblem(res, 404, 'not_found');
          expect(res.body.instance).toBe(path);
        }
      }
      // The query string stays out of the problem.
      const res = await s.request('GET', '/v1/nope?token=sekrit-in-query');
      expect(res.text).not.toContain('sekrit-in-query');
    });
  });
});
