import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/harness.js';

const GOOD_KEY = 'canary-good-api-key-7d1c0f';
const BAD_KEY = 'canary-bad-api-key-93be11';

/** An API that accepts only GOOD_KEY, and echoes whatever it was sent when it refuses. */
function startUpstream(): Promise<{ server: Server; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    if (req.url?.startsWith('/hang')) return; // never answers
    if (req.headers.authorization === `Bearer ${GOOD_KEY}`) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
    } else {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `bad credentials: ${req.headers.authorization}` }));
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits })),
  );
}

describe('connection tests through the API', () => {
  let s: TestServer;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  const responses: string[] = [];
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await s.request(method, path, body === undefined ? {} : { body });
    responses.push(res.text, JSON.stringify(res.headers));
    return res;
  };

  beforeAll(async () => {
    upstream = await startUpstream();
    s = await startTestServer({ config: { testTimeoutMs: 400 } });
    const integration = (key: string, testPath: string, networkAllowList: string[]) =>
      call('POST', '/v1/integrations', {
        key,
        provider: 'http',
        displayName: key,
        authMethod: 'api_key',
        config: { baseUrl: upstream.url, testPath },
        networkAllowList,
      });
    expect((await integration('api-local', '/me', ['127.0.0.1'])).status).toBe(201);
    expect((await integration('api-guarded', '/me', [])).status).toBe(201);
    expect((await integration('api-hang', '/hang', ['127.0.0.1'])).status).toBe(201);
    for (const key of ['api-local', 'api-guarded', 'api-hang']) {
      const res = await call('POST', `/v1/integrations/${key}/connections`, { id: 'acct-1', credentials: { type: 'api_key', apiKey: GOOD_KEY } });
      expect(res.status, res.text).toBe(201);
    }
  });
  afterAll(async () => {
    await s?.close();
    upstream?.server.close();
  });

  it('tests a stored connection and records its health as a new version', async () => {
    const res = await call('POST', '/v1/integrations/api-local/connections/acct-1/test');
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ ok: true, error: null });
    const conn = await call('GET', '/v1/integrations/api-local/connections/acct-1');
    expect(conn.body.health).toMatchObject({ ok: true, errorCode: null, checkedAt: res.body.checkedAt });
    expect(conn.body.version).toBe(2);
  });

  it('refuses loopback without the operator flag or an allow-list entry, and says so', async () => {
    const before = upstream.hits();
    const res = await call('POST', '/v1/integrations/api-guarded/connections/acct-1/test');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: false, error: { code: 'destination_refused' } });
    expect(upstream.hits()).toBe(before);
    const conn = await call('GET', '/v1/integrations/api-guarded/connections/acct-1');
    expect(conn.body.health).toMatchObject({ ok: false, errorCode: 'destination_refused' });
  });

  it('tests unsaved credentials, alone or carried forward over a stored connection', async () => {
    const bad = await call('POST', '/v1/credentials/test', { integration: 'api-local', credentials: { type: 'api_key', apiKey: BAD_KEY } });
    expect(bad.status, bad.text).toBe(200);
    expect(bad.body).toMatchObject({ ok: false, error: { code: 'auth_failed' } });
    const carried = await call('POST', '/v1/credentials/test', { integration: 'api-local', connectionId: 'acct-1', credentials: {} });
    expect(carried.body, carried.text).toMatchObject({ ok: true });
    const replaced = await call('POST', '/v1/credentials/test', { integration: 'api-local', connectionId: 'acct-1', credentials: { apiKey: BAD_KEY } });
    // Unsaved credentials never touch the stored connection's status.
    expect((await call('GET', '/v1/integrations/api-local/connections/acct-1')).body.status).toBe('active');
    expect(replaced.body).toMatchObject({ ok: false, error: { code: 'auth_failed' } });
    const noType = await call('POST', '/v1/credentials/test', { integration: 'api-local', credentials: { apiKey: GOOD_KEY } });
    expect(noType.status).toBe(422);
    // Nothing was stored by any of these.
    const stored = await s.lk.services.secrets.read(s.lk.services.store.db, 'default', 'connection', (await call('GET', '/v1/integrations/api-local/connections/acct-1')).body.uid);
    expect(stored).toEqual({ apiKey: GOOD_KEY });
  });

  it('PATCH ?verify=true saves nothing when the merged credentials fail, and saves when they pass', async () => {
    const before = await call('GET', '/v1/integrations/api-local/connections/acct-1');
    const refused = await call('PATCH', '/v1/integrations/api-local/connections/acct-1?verify=true', { metadata: { note: 'x' }, credentials: { apiKey: BAD_KEY } });
    expect(refused.status, refused.text).toBe(422);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ code: 'validation_failed', reason: 'verification_failed', testResult: { ok: false, error: { code: 'auth_failed' } } });
    const after = await call('GET', '/v1/integrations/api-local/connections/acct-1');
    expect(after.body).toEqual(before.body);
    const uid = before.body.uid;
    expect(await s.lk.services.secrets.read(s.lk.services.store.db, 'default', 'connection', uid)).toEqual({ apiKey: GOOD_KEY });

    const saved = await call('PATCH', '/v1/integrations/api-local/connections/acct-1?verify=true', { metadata: { note: 'verified' }, credentials: { apiKey: GOOD_KEY } });
    expect(saved.status, saved.text).toBe(200);
    expect(saved.body.metadata).toEqual({ note: 'verified' });
    expect(saved.body.health).toMatchObject({ ok: true });
    expect(saved.body.version).toBe(before.body.version + 1);
  });

  it('a test that is refused marks the connection error; a passing one clears it', async () => {
    await call('POST', '/v1/integrations/api-guarded/connections', { id: 'acct-bad', credentials: { type: 'api_key', apiKey: BAD_KEY } });
    const allow = await call('PATCH', '/v1/integrations/api-guarded', { networkAllowList: ['127.0.0.1'] });
    expect(allow.status, allow.text).toBe(200);
    const failed = await call('POST', '/v1/integrations/api-guarded/connections/acct-bad/test');
    expect(failed.body).toMatchObject({ ok: false, error: { code: 'auth_failed' } });
    const broken = await call('GET', '/v1/integrations/api-guarded/connections/acct-bad');
    expect(broken.body).toMatchObject({ status: 'error', statusReason: 'connection test failed: auth_failed' });
    // Replacing the credentials clears the error; a passing test keeps it clear.
    const fixed = await call('PATCH', '/v1/integrations/api-guarded/connections/acct-bad', { credentials: { apiKey: GOOD_KEY } });
    expect(fixed.body).toMatchObject({ status: 'active', statusReason: null });
    const passed = await call('POST', '/v1/integrations/api-guarded/connections/acct-bad/test');
    expect(passed.body.ok).toBe(true);
    expect((await call('GET', '/v1/integrations/api-guarded/connections/acct-bad')).body.status).toBe('active');
    // Metadata and wide ranges can never be allow-listed.
    const wide = await call('PATCH', '/v1/integrations/api-guarded', { networkAllowList: ['0.0.0.0/0'] });
    expect(wide.status).toBe(422);
    await call('PATCH', '/v1/integrations/api-guarded', { networkAllowList: [] });
  });

  it('times out a hanging upstream without holding up other requests', async () => {
    const started = Date.now();
    const pending = call('POST', '/v1/integrations/api-hang/connections/acct-1/test');
    const meanwhile = await call('GET', '/v1/integrations/api-local');
    expect(meanwhile.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(300);
    const res = await pending;
    expect(res.body).toMatchObject({ ok: false, error: { code: 'timeout' } });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('tests a PostgreSQL connection against the machine\'s server', async () => {
    const created = await call('POST', '/v1/integrations', { key: 'pg-local', provider: 'postgresql', displayName: 'PG', authMethod: 'basic', networkAllowList: ['127.0.0.1'] });
    expect(created.status, created.text).toBe(201);
    const conn = await call('POST', '/v1/integrations/pg-local/connections', {
      id: 'warehouse',
      config: { host: '127.0.0.1', port: 5432, database: 'test', sslMode: 'disable' },
      credentials: { type: 'basic', username: 'postgres', password: 'unused-with-trust-auth' },
    });
    expect(conn.status, conn.text).toBe(201);
    const res = await call('POST', '/v1/integrations/pg-local/connections/warehouse/test');
    expect(res.body, res.text).toMatchObject({ ok: true, error: null });
    expect(String(res.body.details.serverVersion)).toMatch(/^\d+/);
  });

  it('stored secrets never follow a connection to a new host (no exfiltration by retargeting)', async () => {
    const elsewhere = { host: '127.0.0.2', port: 5433 };
    const probe = await call('POST', '/v1/credentials/test', { integration: 'pg-local', connectionId: 'warehouse', config: elsewhere, credentials: {} });
    expect(probe.status, probe.text).toBe(422);
    expect(probe.body.reason, probe.text).toBe('credentials_required_for_new_target');
    const verify = await call('PATCH', '/v1/integrations/pg-local/connections/warehouse?verify=true', { config: elsewhere });
    expect(verify.status).toBe(422);
    const before = await call('GET', '/v1/integrations/pg-local/connections/warehouse');
    const moved = await call('PATCH', '/v1/integrations/pg-local/connections/warehouse', { config: elsewhere });
    expect(moved.status).toBe(422);
    expect((await call('GET', '/v1/integrations/pg-local/connections/warehouse')).body).toEqual(before.body);
    // Moving with a username only: the stored password is dropped, not carried to the new host.
    const withUser = await call('PATCH', '/v1/integrations/pg-local/connections/warehouse', { config: elsewhere, credentials: { username: 'postgres' } });
    expect(withUser.status, withUser.text).toBe(200);
    expect(withUser.body.credentials.hasSecrets).toEqual({ username: true, password: false });
    const stored = await s.lk.services.secrets.read(s.lk.services.store.db, 'default', 'connection', withUser.body.uid);
    expect(stored).toEqual({ username: 'postgres' });
  });

  it('another tenant\'s integration or connection is not found, and a viewer is forbidden', async () => {
    const other = await s.newTenant('Tenant B');
    const body = { integration: 'api-local', connectionId: 'acct-1', credentials: {} };
    const foreign = await s.request('POST', '/v1/credentials/test', { key: other.adminKey, body });
    expect(foreign.status, foreign.text).toBe(404);
    expect((await s.request('POST', '/v1/integrations/api-local/connections/acct-1/test', { key: other.adminKey })).status).toBe(404);
    const viewer = await s.newKey('viewer');
    expect((await s.request('POST', '/v1/credentials/test', { key: viewer, body })).status).toBe(403);
    responses.push(foreign.text);
  });

  it('never returns, logs or audits the credentials it tested with', async () => {
    const audit = await s.request('GET', '/v1/audit-events?limit=200');
    const haystack = [...responses, ...s.logs, audit.text].join('\n');
    for (const secret of [GOOD_KEY, BAD_KEY, 'unused-with-trust-auth']) expect(haystack).not.toContain(secret);
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['integrations.connection.test', 'integrations.credentials.test']));
  });
});
