import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, githubIntegration, startTestServer } from '../support/harness.js';

describe('key grants, auth method changes and If-Match lists', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s?.close());

  it('a key cannot mint a key holding more than it holds (reveal stays an explicit grant)', async () => {
    const manager = await s.newKey('viewer', { policies: ['platform.access.manage'] });
    const escalate = await s.request('POST', '/v1/api-keys', { key: manager, body: { name: 'x', role: 'admin' } });
    expect(escalate.status, escalate.text).toBe(403);
    expect(escalate.body.detail).toContain('platform.integration.manage');
    const extra = await s.request('POST', '/v1/api-keys', { key: manager, body: { name: 'y', role: 'viewer', policies: ['platform.connection.use'] } });
    expect(extra.status).toBe(403);
    const same = await s.request('POST', '/v1/api-keys', { key: manager, body: { name: 'z', role: 'viewer' } });
    expect(same.status, same.text).toBe(201);
    const reveal = await s.request('POST', '/v1/api-keys', { body: { name: 'revealer', role: 'runtime', policies: ['platform.credential.reveal'] } });
    expect(reveal.status, reveal.text).toBe(201);
    expect(reveal.body.apiKey.policies).toEqual(['platform.credential.reveal']);
  });

  it('a stored role this version does not know grants nothing (deny by default, no fallback role)', async () => {
    // Changed before first use (the authenticator caches principals briefly).
    const other = await s.newKey('viewer', { name: 'unknown-role-2' });
    await s.lk.services.store.db.updateTable('api_keys').set({ role: 'superuser' }).where('name', '=', 'unknown-role-2').execute();
    const res = await s.request('GET', '/v1/integrations', { key: other });
    expect(res.status, res.text).toBe(401);
  });

  it('PUT without authMethod keeps the stored one; a change that strands connections is a 409', async () => {
    const body = { key: 'gh-pat', provider: 'github', displayName: 'GH', authMethod: 'pat' };
    expect((await s.request('POST', '/v1/integrations', { body })).status).toBe(201);
    const put = await s.request('PUT', '/v1/integrations/gh-pat', { body: { provider: 'github', displayName: 'GH 2' } });
    expect(put.status, put.text).toBe(200);
    expect(put.body.authMethod).toBe('pat');
    const conn = await s.request('POST', '/v1/integrations/gh-pat/connections', { body: { id: 'u1', credentials: { type: 'pat', token: 'ghp_x' } } });
    expect(conn.status, conn.text).toBe(201);
    const before = await s.request('GET', '/v1/integrations/gh-pat');
    const change = await s.request('PATCH', '/v1/integrations/gh-pat', {
      body: { authMethod: 'oauth2', config: { clientId: 'Iv1.x' }, secrets: { clientSecret: 'cs' } },
    });
    expect(change.status, change.text).toBe(409);
    expect(change.body.reason).toBe('connections_incompatible');
    expect((await s.request('GET', '/v1/integrations/gh-pat')).body).toEqual(before.body);
    expect((await s.request('DELETE', '/v1/integrations/gh-pat/connections/u1')).status).toBe(200);
    const after = await s.request('PATCH', '/v1/integrations/gh-pat', { body: { authMethod: 'oauth2', config: { clientId: 'Iv1.x' }, secrets: { clientSecret: 'cs' } } });
    expect(after.status, after.text).toBe(200);
    expect(after.body.authMethod).toBe('oauth2');
  });

  it('switching the generic http provider\'s auth method drops config keys that no longer apply', async () => {
    const created = await s.request('POST', '/v1/integrations', {
      body: { key: 'api-generic', provider: 'http', displayName: 'API', authMethod: 'api_key', config: { baseUrl: 'https://api.example.com' } },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.config.authHeader).toBeDefined();
    const switched = await s.request('PATCH', '/v1/integrations/api-generic', { body: { authMethod: 'basic' } });
    expect(switched.status, switched.text).toBe(200);
    expect(switched.body.config.authHeader).toBeUndefined();
    expect(switched.body.config.baseUrl).toBe('https://api.example.com');
  });

  it('If-Match accepts a list of ETags and matches the current one', async () => {
    const created = await s.request('POST', '/v1/integrations', { body: githubIntegration('gh-list') });
    const ok = await s.request('PATCH', '/v1/integrations/gh-list', { body: { displayName: 'x' }, headers: { 'if-match': '"7", "1"' } });
    expect(ok.status, ok.text).toBe(200);
    const stale = await s.request('PATCH', '/v1/integrations/gh-list', { body: { displayName: 'y' }, headers: { 'if-match': '"1", W/"0"' } });
    expect(stale.status).toBe(412);
    expect(created.status).toBe(201);
  });
});
