import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, githubIntegration, startTestServer } from '../support/harness.js';

describe('integration and connection lifecycle (sqlite)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s?.close());

  it('creates, reads, updates with carry-forward, lists and deletes', async () => {
    const created = await s.request('POST', '/v1/integrations', { body: githubIntegration() });
    expect(created.status, created.text).toBe(201);
    expect(created.body.hasSecrets).toEqual({ clientSecret: true });
    expect(created.headers.etag).toBe('"1"');
    expect(created.text).not.toContain('gh-client-secret-value-1');

    const patched = await s.request('PATCH', '/v1/integrations/github-prod', { body: { displayName: 'GitHub' }, headers: { 'if-match': '"1"' } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.version).toBe(2);
    expect(patched.body.uid).toBe(created.body.uid);
    expect(patched.body.hasSecrets.clientSecret).toBe(true);

    const conn = await s.request('POST', '/v1/integrations/github-prod/connections', {
      body: { id: 'user-1', metadata: { team: 'a' }, credentials: { type: 'oauth2', accessToken: 'gho_access', refreshToken: 'ghr_refresh', expiresAt: '2030-01-01T00:00:00Z' } },
    });
    expect(conn.status, conn.text).toBe(201);
    expect(conn.body.credentials.hasSecrets).toEqual({ accessToken: true, refreshToken: true });
    expect(conn.body.status).toBe('active');

    const list = await s.request('GET', '/v1/connections?limit=1');
    expect(list.status, list.text).toBe(200);
    expect(list.body.data).toHaveLength(1);

    const blocked = await s.request('DELETE', '/v1/integrations/github-prod');
    expect(blocked.status).toBe(409);
    const deleted = await s.request('DELETE', '/v1/integrations/github-prod?cascade=true');
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.body.connectionsDeleted).toBe(1);

    const audit = await s.request('GET', '/v1/audit-events?limit=200');
    expect(audit.status, audit.text).toBe(200);
    expect(audit.body.data.map((e: any) => e.action)).toContain('integrations.integration.create');
    const verify = await s.request('POST', '/v1/audit-events/verify');
    expect(verify.body.ok, verify.text).toBe(true);
  });
});
