import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_CONTRACTS } from '../../src/contracts/index.js';
import { expectProblem } from '../http/fixtures.js';
import { BOOTSTRAP_KEY, type TestServer, startTestServer } from '../support/harness.js';
import { type Sample, parsePrometheusText, valueOf } from './prometheus-text.js';

const SECRET_CANARY = 'canary-metrics-secret-5e0c1d9a';
const CONNECTION_ID = 'acct-canary-4471b2';
const GOOD_KEY = 'canary-good-upstream-key-a9f2';

/** An upstream API that accepts only GOOD_KEY. */
function startUpstream(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const ok = req.headers.authorization === `Bearer ${GOOD_KEY}`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ ok }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

const REQUESTS = 'latchkey_http_requests_total';
const DURATION_COUNT = 'latchkey_http_request_duration_seconds_count';

describe('/metrics', () => {
  let s: TestServer;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;

  const scrape = async (key: string | null = BOOTSTRAP_KEY): Promise<{ text: string; samples: Sample[] }> => {
    const res = await s.request('GET', '/metrics', { key });
    expect(res.status, res.text).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/);
    return { text: res.text, samples: parsePrometheusText(res.text) };
  };

  beforeAll(async () => {
    upstream = await startUpstream();
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.close();
    upstream?.server.close();
  });

  it('counts requests by contract key and status class, and connection tests by outcome', async () => {
    const before = (await scrape()).samples;
    const created = await s.request('POST', '/v1/integrations', {
      body: { key: 'api-local', provider: 'http', displayName: 'Local API', authMethod: 'api_key', config: { baseUrl: upstream.url, testPath: '/me' }, networkAllowList: ['127.0.0.1'] },
    });
    expect(created.status, created.text).toBe(201);
    for (const [id, apiKey] of [[CONNECTION_ID, GOOD_KEY], ['acct-bad', SECRET_CANARY]] as const) {
      const res = await s.request('POST', '/v1/integrations/api-local/connections', { body: { id, metadata: { note: 'm' }, credentials: { type: 'api_key', apiKey } } });
      expect(res.status, res.text).toBe(201);
    }
    for (let i = 0; i < 3; i++) expect((await s.request('GET', `/v1/integrations/api-local/connections/${CONNECTION_ID}`)).status).toBe(200);
    expect((await s.request('GET', '/v1/integrations/api-local/connections/missing-one')).status).toBe(404);
    expect((await s.request('GET', `/v1/no-such-route/${CONNECTION_ID}`)).status).toBe(404);
    expect((await s.request('HEAD', '/healthz', { key: null })).status).toBe(200);
    expect((await s.request('POST', `/v1/integrations/api-local/connections/${CONNECTION_ID}/test`)).body).toMatchObject({ ok: true });
    expect((await s.request('POST', '/v1/integrations/api-local/connections/acct-bad/test')).body).toMatchObject({ ok: false, error: { code: 'auth_failed' } });
    expect((await s.request('GET', '/v1/integrations', { key: 'not-a-valid-key-but-long-enough-0123456789' })).status).toBe(401);

    const { samples: after, text } = await scrape();
    const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta(REQUESTS, { operation: 'integrations.integration.create', status_class: '2xx' })).toBe(1);
    expect(delta(REQUESTS, { operation: 'integrations.connection.create', status_class: '2xx' })).toBe(2);
    expect(delta(REQUESTS, { operation: 'integrations.connection.get', status_class: '2xx' })).toBe(3);
    expect(delta(REQUESTS, { operation: 'integrations.connection.get', status_class: '4xx' })).toBe(1);
    expect(delta(REQUESTS, { operation: 'integrations.connection.test', status_class: '2xx' })).toBe(2);
    expect(delta(REQUESTS, { operation: 'integrations.integration.list', status_class: '4xx' })).toBe(1);
    expect(delta(REQUESTS, { operation: 'unknown', status_class: '4xx' })).toBe(1);
    expect(delta(REQUESTS, { operation: 'system.health', status_class: '2xx' })).toBe(1);
    // The scrape before this one is counted once it has been answered.
    expect(delta(REQUESTS, { operation: 'system.metrics', status_class: '2xx' })).toBe(1);
    expect(delta(DURATION_COUNT, { operation: 'integrations.connection.get', status_class: '2xx' })).toBe(3);
    expect(valueOf(after, 'latchkey_http_request_duration_seconds_bucket', { operation: 'integrations.connection.get', status_class: '2xx', le: '+Inf' })).toBe(
      valueOf(after, DURATION_COUNT, { operation: 'integrations.connection.get', status_class: '2xx' }),
    );
    expect(delta('latchkey_connection_tests_total', { outcome: 'ok' })).toBe(1);
    expect(delta('latchkey_connection_tests_total', { outcome: 'auth_failed' })).toBe(1);
    // The keyring reports its uses: two stored API keys encrypted, and decrypted again for the tests.
    expect(delta('latchkey_key_operations_total', { operation: 'encrypt', kind: 'connection' })).toBeGreaterThanOrEqual(2);
    expect(delta('latchkey_key_operations_total', { operation: 'decrypt', kind: 'connection' })).toBeGreaterThanOrEqual(2);
    // Process metrics and build info are there.
    expect(valueOf(after, 'process_resident_memory_bytes')).toBeGreaterThan(1e6);
    expect(after.some((x) => x.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
    expect(valueOf(after, 'latchkey_build_info', { engine: 'sqlite' })).toBe(1);
    expect(text).toContain('# TYPE latchkey_http_request_duration_seconds histogram');
  });

  it('counts what other parts report through Services.metrics', async () => {
    const { metrics } = s.lk.services;
    const before = (await scrape()).samples;
    metrics.refresh('success');
    metrics.refresh('invalid_grant');
    metrics.refresh('invalid_grant');
    metrics.webhookDelivery('succeeded');
    metrics.webhookDelivery('retry_scheduled');
    metrics.keyUse('encrypt', 'connection');
    metrics.keyUse('decrypt', 'integration');
    metrics.keyUse('decrypt', 'integration');
    const after = (await scrape()).samples;
    const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('latchkey_token_refresh_total', { outcome: 'success' })).toBe(1);
    expect(delta('latchkey_token_refresh_total', { outcome: 'invalid_grant' })).toBe(2);
    expect(delta('latchkey_token_refresh_total', { outcome: 'transient_error' })).toBe(0);
    expect(after.some((x) => x.name === 'latchkey_token_refresh_total' && x.labels.outcome === 'transient_error')).toBe(true);
    expect(delta('latchkey_webhook_deliveries_total', { outcome: 'succeeded' })).toBe(1);
    expect(delta('latchkey_webhook_deliveries_total', { outcome: 'retry_scheduled' })).toBe(1);
    expect(delta('latchkey_webhook_deliveries_total', { outcome: 'failed' })).toBe(0);
    expect(delta('latchkey_key_operations_total', { operation: 'encrypt', kind: 'connection' })).toBe(1);
    expect(delta('latchkey_key_operations_total', { operation: 'decrypt', kind: 'integration' })).toBe(2);
  });

  it('never carries a secret, a record id, a tenant or key id, or a raw path in a label', async () => {
    const tenant = await s.newTenant('Metrics tenant');
    const keys = await s.request('GET', '/v1/api-keys?limit=50');
    const { text, samples } = await scrape();
    const ids = [CONNECTION_ID, 'acct-bad', 'missing-one', 'no-such-route', 'api-local', tenant.tenantId, ...keys.body.data.map((k: { id: string }) => k.id)];
    for (const forbidden of [SECRET_CANARY, GOOD_KEY, BOOTSTRAP_KEY, tenant.adminKey, ...ids]) expect(text).not.toContain(forbidden);
    const operations = new Set([...ALL_CONTRACTS.map((c) => c.meta.key), 'unknown', 'other']);
    for (const sample of samples) {
      for (const [name, value] of Object.entries(sample.labels)) {
        expect(value, `${sample.name} ${name}`).not.toMatch(/\/v1\//);
        if (name === 'operation' && sample.name.startsWith('latchkey_http_')) {
          // A contract key, a system or other declared operation key, or a route pattern (never a URL with ids).
          expect(operations.has(value) || /^[a-z]+(\.[A-Za-z]+)+$/.test(value) || /^route:[A-Z]+ \/[^?]*$/.test(value), value).toBe(true);
        }
        if (name === 'status_class') expect(value).toMatch(/^[1-5]xx$/);
      }
    }
  });

  it('needs an operator admin key: 401 without or with a bad key, 403 for other roles and tenants', async () => {
    expectProblem(await s.request('GET', '/metrics', { key: null }), 401, 'unauthenticated');
    const bad = await s.request('GET', '/metrics', { key: 'lk_this-is-not-a-key-0123456789abcdefghijklmnop' });
    expectProblem(bad, 401, 'unauthenticated');
    expect(bad.headers['www-authenticate']).toContain('Bearer');
    for (const role of ['viewer', 'operator', 'runtime']) {
      const res = await s.request('GET', '/metrics', { key: await s.newKey(role) });
      expectProblem(res, 403, 'forbidden');
      expect(res.text).not.toContain('latchkey_http_requests_total');
    }
    // An admin of a customer tenant sees only its tenant elsewhere; metrics count every tenant.
    const other = await s.newTenant('Customer');
    expectProblem(await s.request('GET', '/metrics', { key: other.adminKey }), 403, 'forbidden');
    const viaHeader = await s.request('GET', '/metrics', { key: null, headers: { 'x-api-key': BOOTSTRAP_KEY } });
    expect(viaHeader.status).toBe(200);
  });

  it('serves without a key when LATCHKEY_METRICS_PUBLIC=true, with its own registry', async () => {
    const pub = await startTestServer({ config: { metricsPublic: true } });
    try {
      const res = await pub.request('GET', '/metrics', { key: null });
      expect(res.status, res.text).toBe(200);
      const samples = parsePrometheusText(res.text);
      // Another instance in the same process: none of the first server's traffic shows here.
      expect(valueOf(samples, REQUESTS, { operation: 'integrations.connection.get', status_class: '2xx' })).toBe(0);
      expect(valueOf(samples, 'latchkey_connection_tests_total', { outcome: 'ok' })).toBe(0);
    } finally {
      await pub.close();
    }
  });
});
