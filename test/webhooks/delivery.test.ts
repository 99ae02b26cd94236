/**
 * Webhook endpoints and deliveries against a real receiver on 127.0.0.1: events from
 * connection changes, Standard Webhooks signatures checked independently, retries with
 * backoff, timeouts, redirects, and no secret anywhere a delivery leaves a trace.
 * The dispatcher's background loop is off; each test drives passes with `runOnce`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectFieldError, expectProblem } from '../http/fixtures.js';
import { type EngineName, type TestServer, githubIntegration, startTestServer } from '../support/harness.js';
import { postgresAvailable } from '../support/postgres.js';
import { pruneFinishedDeliveries } from '../../src/webhooks/delivery-claims.js';
import { type Receiver, startReceiver, verifyStandardWebhook } from './support/receiver.js';

const ACCESS_CANARY = 'gho_webhook_canary_access_4f1e9a';
const REFRESH_CANARY = 'ghr_webhook_canary_refresh_77c0d2';
const PAT_CANARY = 'pat_webhook_canary_token_0b3d55';
const ALL_EVENTS = ['connection.created', 'connection.updated', 'connection.deleted', 'connection.test_failed', 'connection.refresh_failed', 'connection.recovered', 'credentials.rotated'];

const pgUp = await postgresAvailable();
const engines: EngineName[] = pgUp ? ['sqlite', 'postgres'] : ['sqlite'];

describe.each(engines)('webhooks on %s', (engine) => {
  let s: TestServer;
  let rx: Receiver;
  const secrets: string[] = [];
  const tenantKeys: string[] = [];
  /** Everything a delivery could leave behind, checked for secrets at the end. */
  const seen: string[] = [];

  const later = (ms: number) => new Date(Date.now() + ms);

  async function endpoint(path: string, body: Record<string, unknown> = {}, key = s.adminKey) {
    const res = await s.request('POST', '/v1/webhooks', { key, body: { url: rx.url(path), events: ALL_EVENTS, ...body } });
    expect(res.status, res.text).toBe(201);
    secrets.push(res.body.secret);
    return res.body as { id: string; secret: string; version: number };
  }

  async function deliveries(id: string, key = s.adminKey) {
    const res = await s.request('GET', `/v1/webhooks/${id}/deliveries?limit=200`, { key });
    expect(res.status, res.text).toBe(200);
    seen.push(res.text);
    return res.body.data as any[];
  }

  async function integration(key: string) {
    const res = await s.request('POST', '/v1/integrations', { body: githubIntegration(key) });
    expect(res.status, res.text).toBe(201);
  }

  async function connection(integrationKey: string, id: string) {
    const res = await s.request('POST', `/v1/integrations/${integrationKey}/connections`, {
      body: { id, metadata: { plan: 'pro' }, credentials: { type: 'oauth2', accessToken: ACCESS_CANARY, refreshToken: REFRESH_CANARY } },
    });
    expect(res.status, res.text).toBe(201);
    return res.body;
  }

  beforeAll(async () => {
    rx = await startReceiver();
    s = await startTestServer({
      engine,
      config: { allowPrivateNetworks: true, webhookDispatcher: false, webhookTimeoutMs: 400, webhookMaxAttempts: 4, webhookRetryBaseMs: 1000, testTimeoutMs: 2000 },
    });
  });
  afterEach(async () => {
    // Each test starts without endpoints, so only its own receive its events.
    for (const key of [s.adminKey, ...tenantKeys]) {
      const list = await s.request('GET', '/v1/webhooks?limit=200', { key });
      for (const e of list.body.data) expect((await s.request('DELETE', `/v1/webhooks/${e.id}`, { key })).status).toBe(200);
    }
  });
  afterAll(async () => {
    // The receiver's bodies, every listing, the audit trail and the logs: no secret at all.
    const audit = await s.request('GET', '/v1/audit-events?limit=200');
    await s?.close();
    await rx?.close();
    const everything = [...seen, ...rx.received.map((r) => r.body + JSON.stringify(r.headers)), ...s.logs, audit.text].join('\n');
    expect(rx.received.length).toBeGreaterThan(5);
    for (const canary of [ACCESS_CANARY, REFRESH_CANARY, PAT_CANARY, ...secrets, ...secrets.map((x) => x.slice(6))]) {
      expect(everything).not.toContain(canary);
    }
  });

  it('shows the whsec_ signing secret once, stores it encrypted, and never returns it again', async () => {
    const created = await endpoint('/once', { description: 'once' });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const got = await s.request('GET', `/v1/webhooks/${created.id}`);
    const list = await s.request('GET', '/v1/webhooks?limit=200');
    const updated = await s.request('PATCH', `/v1/webhooks/${created.id}`, { body: { description: 'again' }, headers: { 'if-match': '"1"' } });
    for (const res of [got, list, updated]) {
      expect(res.status, res.text).toBe(200);
      expect(res.text).not.toContain(created.secret);
      expect(res.text).not.toContain(created.secret.slice(6));
      seen.push(res.text);
    }
    expect(got.body).toMatchObject({ id: created.id, url: rx.url('/once'), events: ALL_EVENTS, enabled: true, version: 1 });
    expect(got.body).not.toHaveProperty('secret');
    // In the database only as a ciphertext bound to the endpoint.
    const db = s.lk.services.store.db;
    const stored = await db.selectFrom('secrets').selectAll().where('owner_uid', '=', created.id).execute();
    expect(stored.map((r) => [r.field, r.owner_kind])).toEqual([['signingSecret', 'webhook']]);
    expect(stored[0]!.ciphertext).toMatch(/^lk1\./);
    for (const table of ['webhook_endpoints', 'webhook_deliveries', 'audit_events', 'idempotency_keys', 'secrets'] as const) {
      const rows = await db.selectFrom(table).selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(created.secret.slice(6));
    }
    const event = (await s.request('GET', `/v1/audit-events?action=webhooks.endpoint.create&resourceId=${created.id}`)).body.data[0];
    expect(event.changes).toEqual({ fields: ['url', 'events', 'description', 'enabled'], secretsChanged: ['signingSecret'] });
  });

  it('delivers connection.created signed per Standard Webhooks, verified independently, without credentials', async () => {
    const hook = await endpoint('/created', { events: ['connection.created'] });
    await integration('gh-created');
    const conn = await connection('gh-created', 'user-1');
    const pass = await s.lk.webhooks.runOnce();
    expect(pass).toMatchObject({ claimed: 1, succeeded: 1, failed: 0 });
    const [req] = rx.at('/created');
    expect(req).toBeDefined();
    expect(req!.method).toBe('POST');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['user-agent']).toMatch(/^Latchkey-Webhooks\//);
    expect(verifyStandardWebhook(hook.secret, req!.headers, req!.body)).toBe(true);
    expect(verifyStandardWebhook(hook.secret, req!.headers, req!.body.replace('user-1', 'user-2'))).toBe(false);
    const payload = JSON.parse(req!.body);
    expect(payload).toEqual({
      type: 'connection.created',
      timestamp: conn.createdAt,
      data: { tenantId: 'default', integration: 'gh-created', connectionId: 'user-1', connectionUid: conn.uid, provider: 'github', status: 'active', statusReason: null },
    });
    const [delivery] = await deliveries(hook.id);
    expect(delivery).toMatchObject({ id: req!.headers['webhook-id'], eventType: 'connection.created', status: 'succeeded', attemptCount: 1, nextAttemptAt: null, lastStatusCode: 200, lastError: null });
    expect(delivery.attempts).toEqual([expect.objectContaining({ number: 1, statusCode: 200, error: null })]);
    expect(delivery.payload).toEqual(payload);
    // Delivered once: later passes send nothing more.
    await s.lk.webhooks.runOnce(later(24 * 3600_000));
    expect(rx.at('/created')).toHaveLength(1);
  });

  it('sends connection.updated (names of what changed) and connection.deleted, only to subscribed, enabled endpoints', async () => {
    const all = await endpoint('/lifecycle', { events: ['connection.updated', 'connection.deleted'] });
    const createdOnly = await endpoint('/created-only', { events: ['connection.created'] });
    const disabled = await endpoint('/disabled', { events: ['connection.updated', 'connection.deleted'], enabled: false });
    await integration('gh-life');
    await connection('gh-life', 'user-1');
    await s.lk.webhooks.runOnce();
    const patched = await s.request('PATCH', '/v1/integrations/gh-life/connections/user-1', { body: { metadata: { plan: 'team' }, credentials: { accessToken: `${ACCESS_CANARY}-2` } } });
    expect(patched.status, patched.text).toBe(200);
    expect((await s.request('DELETE', '/v1/integrations/gh-life/connections/user-1')).status).toBe(200);
    await s.lk.webhooks.runOnce();
    const bodies = rx.at('/lifecycle').map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => b.type)).toEqual(['connection.updated', 'connection.deleted']);
    expect(bodies[0].data.changed).toEqual(['metadata', 'credentials.accessToken']);
    expect(bodies[1].data).toMatchObject({ integration: 'gh-life', connectionId: 'user-1', status: 'active' });
    for (const r of rx.at('/lifecycle')) expect(verifyStandardWebhook(all.secret, r.headers, r.body)).toBe(true);
    expect(rx.at('/created-only')).toHaveLength(1); // the create only
    expect(rx.at('/disabled')).toHaveLength(0);
    expect(await deliveries(disabled.id)).toEqual([]);
    expect((await deliveries(createdOnly.id)).map((d) => d.eventType)).toEqual(['connection.created']);
  });

  it('sends connection.deleted for each connection of a cascaded integration delete', async () => {
    await endpoint('/cascade', { events: ['connection.deleted'] });
    await integration('gh-cascade');
    await connection('gh-cascade', 'a');
    await connection('gh-cascade', 'b');
    expect((await s.request('DELETE', '/v1/integrations/gh-cascade?cascade=true')).status).toBe(200);
    await s.lk.webhooks.runOnce();
    expect(rx.at('/cascade').map((r) => JSON.parse(r.body).data.connectionId).sort()).toEqual(['a', 'b']);
  });

  it('sends connection.test_failed when a live test fails, with its error code', async () => {
    await endpoint('/tests', { events: ['connection.test_failed'] });
    rx.script('/api/', 401);
    const created = await s.request('POST', '/v1/integrations', {
      body: { key: 'http-api', provider: 'http', displayName: 'Local API', authMethod: 'pat', config: { baseUrl: rx.url('/api') } },
    });
    expect(created.status, created.text).toBe(201);
    const conn = await s.request('POST', '/v1/integrations/http-api/connections', { body: { id: 'svc', credentials: { type: 'pat', token: PAT_CANARY } } });
    expect(conn.status, conn.text).toBe(201);
    const test = await s.request('POST', '/v1/integrations/http-api/connections/svc/test');
    expect(test.status, test.text).toBe(200);
    expect(test.body.ok).toBe(false);
    await s.lk.webhooks.runOnce();
    const [req] = rx.at('/tests');
    expect(JSON.parse(req!.body)).toMatchObject({
      type: 'connection.test_failed',
      data: { integration: 'http-api', connectionId: 'svc', status: 'error', errorCode: 'auth_failed', statusReason: 'connection test failed: auth_failed' },
    });
    // The credential did reach the API under test (proof the canary was live), never the receiver's hook path.
    expect(rx.at('/api/')[0]!.headers.authorization).toBe(`Bearer ${PAT_CANARY}`);
    rx.received.splice(rx.received.indexOf(rx.at('/api/')[0]!), 1);
  });

  it('sends connection.recovered when a passing test or new credentials lift a test-failed error', async () => {
    await endpoint('/recovered', { events: ['connection.recovered'] });
    // The connection from the previous test is in error (auth_failed); the API now accepts it.
    const passed = await s.request('POST', '/v1/integrations/http-api/connections/svc/test');
    expect(passed.body.ok, passed.text).toBe(true);
    const again = await s.request('POST', '/v1/integrations/http-api/connections/svc/test');
    expect(again.body.ok).toBe(true); // already active: no second event
    rx.script('/api/', 401);
    expect((await s.request('POST', '/v1/integrations/http-api/connections/svc/test')).body.ok).toBe(false);
    const replaced = await s.request('PATCH', '/v1/integrations/http-api/connections/svc', { body: { credentials: { token: `${PAT_CANARY}-2` } } });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body.status).toBe('active');
    await s.lk.webhooks.runOnce();
    const bodies = rx.at('/recovered').map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => [b.type, b.data.connectionId, b.data.status, b.data.statusReason])).toEqual([
      ['connection.recovered', 'svc', 'active', null],
      ['connection.recovered', 'svc', 'active', null],
    ]);
    for (const r of rx.at('/api/')) rx.received.splice(rx.received.indexOf(r), 1);
  });

  it('retries with backoff until the receiver answers 2xx, then stops (500, 500, 200 → 3 attempts)', async () => {
    const hook = await endpoint('/flaky', { events: ['connection.created'] });
    rx.script('/flaky', 500, 500, 200);
    await integration('gh-flaky');
    await connection('gh-flaky', 'user-1');
    await s.lk.webhooks.runOnce();
    let [d] = await deliveries(hook.id);
    expect(d).toMatchObject({ status: 'pending', attemptCount: 1, lastStatusCode: 500 });
    // Backoff: the retry is not due yet, so an immediate pass sends nothing.
    const retryAt = Date.parse(d.nextAttemptAt);
    expect(retryAt - Date.parse(d.attempts[0].at)).toBeGreaterThanOrEqual(500);
    expect(retryAt - Date.parse(d.attempts[0].at)).toBeLessThanOrEqual(1000);
    await s.lk.webhooks.runOnce();
    expect(rx.at('/flaky')).toHaveLength(1);
    await s.lk.webhooks.runOnce(new Date(retryAt + 1));
    [d] = await deliveries(hook.id);
    expect(d).toMatchObject({ status: 'pending', attemptCount: 2, lastStatusCode: 500 });
    // The second wait is about twice the first (1–2 s with a 1 s base).
    expect(Date.parse(d.nextAttemptAt) - Date.parse(d.attempts[1].at)).toBeGreaterThanOrEqual(1000);
    await s.lk.webhooks.runOnce(new Date(Date.parse(d.nextAttemptAt) + 1));
    await s.lk.webhooks.runOnce(later(7 * 24 * 3600_000));
    [d] = await deliveries(hook.id);
    expect(d).toMatchObject({ status: 'succeeded', attemptCount: 3, lastStatusCode: 200, nextAttemptAt: null });
    expect(d.attempts.map((a: any) => a.statusCode)).toEqual([500, 500, 200]);
    const requests = rx.at('/flaky');
    expect(requests).toHaveLength(3);
    // The same webhook-id on every attempt (receivers deduplicate on it), each freshly signed.
    expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([d.id]));
    for (const r of requests) expect(verifyStandardWebhook(hook.secret, r.headers, r.body)).toBe(true);
  });

  it('gives up after the attempt limit and marks the delivery failed', async () => {
    const hook = await endpoint('/down', { events: ['connection.created'] });
    rx.script('/down', 503, 503, 503, 503, 503, 503);
    await integration('gh-down');
    await connection('gh-down', 'user-1');
    for (let i = 0; i < 6; i++) await s.lk.webhooks.runOnce(later(i * 24 * 3600_000));
    const [d] = await deliveries(hook.id);
    expect(d).toMatchObject({ status: 'failed', attemptCount: 4, lastStatusCode: 503, nextAttemptAt: null });
    expect(d.completedAt).not.toBeNull();
    expect(rx.at('/down')).toHaveLength(4);
    expect((await s.request('GET', `/v1/webhooks/${hook.id}/deliveries?status=failed`)).body.data).toHaveLength(1);
    expect((await s.request('GET', `/v1/webhooks/${hook.id}/deliveries?status=pending`)).body.data).toHaveLength(0);
  });

  it('times out a receiver that never answers, and retries later', async () => {
    const hook = await endpoint('/hang', { events: ['connection.created'] });
    rx.script('/hang', 'hang');
    await integration('gh-hang');
    await connection('gh-hang', 'user-1');
    const started = Date.now();
    const pass = await s.lk.webhooks.runOnce();
    const took = Date.now() - started;
    expect(pass).toMatchObject({ claimed: 1, failed: 1 });
    expect(took).toBeGreaterThanOrEqual(350);
    expect(took).toBeLessThan(10_000); // bounded by the timeout, not by the receiver
    const [d] = await deliveries(hook.id);
    expect(d).toMatchObject({ status: 'pending', attemptCount: 1, lastStatusCode: null });
    expect(d.lastError).toMatch(/^timeout: /);
    expect(d.attempts[0].durationMs).toBeGreaterThanOrEqual(350);
    await s.lk.webhooks.runOnce(later(24 * 3600_000));
    expect((await deliveries(hook.id))[0]).toMatchObject({ status: 'succeeded', attemptCount: 2 });
  });

  it('never follows a redirect: a 3xx is a failed attempt and its target is never called', async () => {
    const hook = await endpoint('/moved', { events: ['connection.created'] });
    rx.script('/moved', { status: 307, headers: { location: rx.url('/elsewhere') } });
    await integration('gh-moved');
    await connection('gh-moved', 'user-1');
    await s.lk.webhooks.runOnce();
    const [d] = await deliveries(hook.id);
    expect(d).toMatchObject({ status: 'pending', lastStatusCode: 307 });
    expect(d.lastError).toMatch(/^redirect_not_followed/);
    expect(rx.at('/elsewhere')).toHaveLength(0);
  });

  it('keeps each tenant\'s events, endpoints and deliveries to itself', async () => {
    const other = await s.newTenant('Webhook tenant B');
    tenantKeys.push(other.adminKey);
    const mine = await endpoint('/tenant-a', { events: ['connection.created'] });
    const theirs = await endpoint('/tenant-b', { events: ['connection.created'] }, other.adminKey);
    const b = await s.request('POST', '/v1/integrations', { key: other.adminKey, body: githubIntegration('gh-b') });
    expect(b.status).toBe(201);
    const bc = await s.request('POST', '/v1/integrations/gh-b/connections', { key: other.adminKey, body: { id: 'b-user', credentials: { type: 'oauth2', accessToken: ACCESS_CANARY } } });
    expect(bc.status).toBe(201);
    await s.lk.webhooks.runOnce();
    expect(rx.at('/tenant-a')).toHaveLength(0);
    expect(JSON.parse(rx.at('/tenant-b')[0]!.body).data).toMatchObject({ tenantId: other.tenantId, connectionId: 'b-user' });
    for (const [method, path] of [['GET', `/v1/webhooks/${mine.id}`], ['GET', `/v1/webhooks/${mine.id}/deliveries`], ['DELETE', `/v1/webhooks/${mine.id}`]] as const) {
      expectProblem(await s.request(method, path, { key: other.adminKey }), 404, 'not_found');
    }
    const theirList = await s.request('GET', '/v1/webhooks?limit=200', { key: other.adminKey });
    expect(theirList.body.data.map((e: any) => e.id)).toEqual([theirs.id]);
  });

  it('refuses callers without platform.webhook.manage, and keys bound to a workspace', async () => {
    for (const role of ['viewer', 'runtime']) {
      const key = await s.newKey(role);
      expectProblem(await s.request('GET', '/v1/webhooks', { key }), 403, 'forbidden');
      expectProblem(await s.request('POST', '/v1/webhooks', { key, body: { url: rx.url('/x'), events: ['connection.created'] } }), 403, 'forbidden');
    }
    const operator = await s.newKey('operator');
    expect((await s.request('GET', '/v1/webhooks', { key: operator })).status).toBe(200);
    const scoped = await s.newKey('admin', { workspaceId: 'ws-1' });
    const res = await s.request('POST', '/v1/webhooks', { key: scoped, body: { url: rx.url('/x'), events: ['connection.created'] } });
    expectProblem(res, 403, 'forbidden');
    expect(res.body.detail).toMatch(/whole tenant/);
  });

  it('prunes finished deliveries after the retention period, never pending ones', async () => {
    const hook = await endpoint('/prune', { events: ['connection.created'] });
    rx.script('/prune', 200, 500);
    await integration('gh-prune');
    await connection('gh-prune', 'done');
    await connection('gh-prune', 'retrying');
    await s.lk.webhooks.runOnce();
    const before = await deliveries(hook.id);
    expect(before.map((d) => d.status).sort()).toEqual(['pending', 'succeeded']);
    const db = s.lk.services.store.db;
    expect(await pruneFinishedDeliveries(db, new Date(Date.now() - 60_000))).toBe(0);
    expect(await pruneFinishedDeliveries(db, new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(1);
    expect((await deliveries(hook.id)).map((d) => d.status)).toEqual(['pending']);
  });

  it('validates input: URL form, events, lengths, If-Match', async () => {
    const post = (body: unknown) => s.request('POST', '/v1/webhooks', { body });
    expectFieldError(await post({ url: 'ftp://example.com/x', events: ['connection.created'] }), 'url');
    expectFieldError(await post({ url: 'https://user:pw@example.com/x', events: ['connection.created'] }), 'url');
    expectFieldError(await post({ url: 'not a url', events: ['connection.created'] }), 'url');
    expectFieldError(await post({ url: 'https://example.com/x', events: [] }), 'events');
    expectFieldError(await post({ url: 'https://example.com/x', events: ['connection.exploded'] }), 'events');
    expectFieldError(await post({ url: 'https://example.com/x', events: ['connection.created', 'connection.created'] }), 'events');
    expectFieldError(await post({ url: 'https://example.com/x', events: ['connection.created'], secret: 'whsec_mine' }), 'secret');
    const hook = await endpoint('/validate');
    const stale = await s.request('PATCH', `/v1/webhooks/${hook.id}`, { body: { enabled: false }, headers: { 'if-match': '"7"' } });
    expectProblem(stale, 412, 'precondition_failed');
    const gone = await s.request('DELETE', `/v1/webhooks/${hook.id}`, { headers: { 'if-match': '"1"' } });
    expect(gone.status, gone.text).toBe(200);
    expect(await s.lk.services.store.db.selectFrom('secrets').select('field').where('owner_uid', '=', hook.id).execute()).toEqual([]);
    expectProblem(await s.request('GET', `/v1/webhooks/${hook.id}`), 404, 'not_found');
  });
});

describe('webhooks and the outbound guard', () => {
  let s: TestServer;
  let rx: Receiver;
  beforeAll(async () => {
    rx = await startReceiver();
    s = await startTestServer({ config: { webhookDispatcher: false, webhookTimeoutMs: 400 } });
  });
  afterAll(async () => {
    await s?.close();
    await rx?.close();
  });

  it('refuses loopback, private and metadata endpoints unless private networks are allowed', async () => {
    for (const url of [rx.url('/x'), 'http://localhost:9/x', 'http://10.0.0.8/x', 'http://[::1]:9/x', 'http://169.254.169.254/latest/meta-data']) {
      const res = await s.request('POST', '/v1/webhooks', { body: { url, events: ['connection.created'] } });
      expectFieldError(res, 'url');
      expect(res.body.errors[0].message).toMatch(/Refusing to connect/);
    }
  });

  it('re-checks the destination on every attempt: a stored URL the guard refuses is never connected to', async () => {
    // Registration checks what it can; the dispatcher checks again at send time (here: a
    // row pointing at loopback, as a host name resolving there would at connect time).
    const created = await s.request('POST', '/v1/webhooks', { body: { url: 'https://hooks.example.com/guarded', events: ['connection.created'] } });
    expect(created.status, created.text).toBe(201);
    await s.lk.services.store.db.updateTable('webhook_endpoints').set({ url: rx.url('/hook') }).where('uid', '=', created.body.id).execute();
    await s.request('POST', '/v1/integrations', { body: githubIntegration('gh-guard') });
    await s.request('POST', '/v1/integrations/gh-guard/connections', { body: { id: 'u', credentials: { type: 'oauth2', accessToken: 'x-token' } } });
    await s.lk.webhooks.runOnce();
    const [d] = (await s.request('GET', `/v1/webhooks/${created.body.id}/deliveries`)).body.data;
    expect(d).toMatchObject({ status: 'pending', attemptCount: 1, lastStatusCode: null });
    expect(d.lastError).toMatch(/^destination_refused: /);
    expect(rx.received).toHaveLength(0);
  });
});
