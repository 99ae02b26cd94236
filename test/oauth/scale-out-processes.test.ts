import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/harness.js';
import { type OAuthServer, browse, startOAuthServer } from '../support/oauth-server.js';
import { freshPostgresSchema, postgresAvailable } from '../support/postgres.js';
import { type ServedProcess, serveProcess } from '../support/serve-process.js';
import { APP_RETURN, oauthIntegration } from './support.js';

const pgUp = await postgresAvailable();
if (!pgUp) console.warn('\n!!! scale-out-processes.test.ts: PostgreSQL is not reachable, the three-process suite is SKIPPED (CI=true makes this an error)\n');

const ADMIN_KEY = 'scale-out-processes-admin-key-0123456789abcdef';
/** Token requests time out after 2 s, so a refresh lease lasts its 30 s floor (3 × 2 s + 0.6 s + 5 s is less). */
const OAUTH_TIMEOUT_MS = 2_000;
const LEASE_MS = Math.max(30_000, 3 * OAUTH_TIMEOUT_MS + 600 + 5_000);

/**
 * Three `latchkey serve` processes (separate operating-system processes, as deployed) on
 * one PostgreSQL schema, started at the same moment on an empty database, behind no load
 * balancer: each request goes to whichever instance the test picks.
 */
describe.skipIf(!pgUp)('three latchkey processes on one PostgreSQL database', () => {
  let schema: { url: string; drop: () => Promise<void> };
  let as: OAuthServer;
  let instances: ServedProcess[] = [];

  const api = async (i: number, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${instances[i]!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
  };
  const refreshes = () => as.tokenRequests.filter((r) => r.grantType === 'refresh_token').length;

  beforeAll(async () => {
    schema = await freshPostgresSchema();
    const ports = [await freePort(), await freePort(), await freePort()];
    // Connect links and the OAuth redirect URI name the first instance.
    as = await startOAuthServer({ redirectUri: `http://127.0.0.1:${ports[0]}/oauth/callback`, accessTokenTtl: 60 });
    const env = {
      LATCHKEY_DATABASE_URL: schema.url,
      LATCHKEY_ROOT_KEY: randomBytes(32).toString('base64'),
      LATCHKEY_BOOTSTRAP_KEY: ADMIN_KEY,
      LATCHKEY_ALLOW_PRIVATE_NETWORKS: 'true',
      LATCHKEY_REFRESH_SWEEP_MS: '0',
      LATCHKEY_RATE_LIMIT: '0',
      LATCHKEY_OAUTH_TIMEOUT_MS: String(OAUTH_TIMEOUT_MS),
    };
    // All at once, on an empty schema: migrations, the first tenant and its data key race.
    instances = await Promise.all(ports.map((port) => serveProcess({ ...env, LATCHKEY_PUBLIC_URL: `http://127.0.0.1:${port}` }, { port })));
    const created = await api(1, 'POST', '/v1/integrations', oauthIntegration(as));
    expect(created.status, created.text).toBe(201);
  }, 120_000);

  afterAll(async () => {
    for (const p of instances) if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await Promise.all(instances.map((p) => p.exited));
    await as?.close();
    await schema?.drop();
  });

  async function connect(id: string) {
    const session = await api(0, 'POST', '/v1/connect/sessions', { integration: 'acme', connectionId: id, redirectUrl: APP_RETURN });
    expect(session.status, session.text).toBe(201);
    const landed = await browse(session.body.connectUrl, APP_RETURN);
    expect(landed.searchParams.get('status')).toBe('success');
  }

  it('starting together on an empty database made one tenant and one data key, and every instance answers', async () => {
    for (const i of [0, 1, 2]) expect((await api(i, 'GET', '/readyz')).status).toBe(200);
    const tenants = await api(2, 'GET', '/v1/tenants');
    expect(tenants.status, tenants.text).toBe(200);
    expect(tenants.body.data).toHaveLength(1);
    const keys = await api(0, 'GET', '/v1/keys');
    expect(keys.status, keys.text).toBe(200);
    expect(keys.body.versions).toHaveLength(1);
    const chain = await api(1, 'POST', '/v1/audit-events/verify', {});
    expect(chain.body, chain.text).toMatchObject({ ok: true });
  });

  it('150 concurrent mints of a due token across the three processes cause exactly one token request', async () => {
    await connect('shared');
    const before = refreshes();
    as.tokenDelayMs = 300;
    let results;
    try {
      results = await Promise.all(Array.from({ length: 150 }, (_, n) => api(n % 3, 'POST', '/v1/integrations/acme/connections/shared/token')));
    } finally {
      as.tokenDelayMs = 0;
    }
    expect(results.map((r) => r.status)).toEqual(Array(150).fill(200));
    expect(refreshes() - before).toBe(1);
    expect(new Set(results.map((r) => r.body.accessToken)).size).toBe(1);
  });

  it('a process killed mid-refresh holds its lease until it runs out; then another instance refreshes', async () => {
    await connect('crash');
    const before = as.tokenRequests.length;
    as.tokenDelayMs = 1_500;
    const doomed = api(2, 'POST', '/v1/integrations/acme/connections/crash/token').catch((error: unknown) => error);
    // Kill it while its token request is at the provider (the lease is taken first). The
    // server logs a request as it arrives; its grant type is known only once it is answered.
    while (as.tokenRequests.length === before) await new Promise((r) => setTimeout(r, 10));
    instances[2]!.child.kill('SIGKILL');
    await instances[2]!.exited;
    expect(await doomed).toBeInstanceOf(Error);
    as.tokenDelayMs = 0;

    const started = Date.now();
    const taken = await api(0, 'POST', '/v1/integrations/acme/connections/crash/token');
    const waited = Date.now() - started;
    expect(taken.status, taken.text).toBe(200);
    // Not before the dead holder's lease ran out (it was taken just before the request
    // reached the provider), and not much after.
    expect(waited).toBeGreaterThan(LEASE_MS - 2_500);
    expect(waited).toBeLessThan(LEASE_MS + 5_000);
    // The dead one's token request (never answered to anyone), then the survivor's refresh.
    expect(as.tokenRequests.length - before).toBe(2);
    expect(as.tokenRequests.at(-1)!.grantType).toBe('refresh_token');
    const conn = await api(1, 'GET', '/v1/integrations/acme/connections/crash');
    expect(conn.body).toMatchObject({ status: 'active', statusReason: null });
  }, 60_000);
});
