import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_USER } from '../support/oauth-server.js';
import { type OAuthWorld, connectThroughBrowser, oauthIntegration, startOAuthWorld } from './support.js';

const grants = (w: OAuthWorld, type: string) => w.as.tokenRequests.filter((r) => r.grantType === type).length;
const storedSecrets = async (w: OAuthWorld, integration: string, id: string) => {
  const conn = await w.s.request('GET', `/v1/integrations/${integration}/connections/${id}`);
  return { conn: conn.body, secrets: await w.s.lk.services.secrets.read(w.s.lk.services.store.db, 'default', 'connection', conn.body.uid) };
};

describe('refresh of authorization-code connections (tokens live 60 s, margin 5 min: every mint is due)', () => {
  let w: OAuthWorld;
  beforeAll(async () => {
    w = await startOAuthWorld({ as: { accessTokenTtl: 60 } });
    expect((await w.s.request('POST', '/v1/integrations', { body: oauthIntegration(w.as) })).status).toBe(201);
  });
  afterAll(async () => w?.close());

  it('200 concurrent mints of a due token cause exactly one token request, and every caller gets the same new token', async () => {
    expect((await connectThroughBrowser(w, 'acme', 'burst')).searchParams.get('status')).toBe('success');
    const before = await storedSecrets(w, 'acme', 'burst');
    const refreshesBefore = grants(w, 'refresh_token');
    const results = await Promise.all(Array.from({ length: 200 }, () => w.s.request('POST', '/v1/integrations/acme/connections/burst/token')));
    expect(results.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(grants(w, 'refresh_token') - refreshesBefore).toBe(1);
    const tokens = new Set(results.map((r) => r.body.accessToken));
    expect(tokens.size).toBe(1);
    const [token] = [...tokens];
    expect(token).not.toBe(before.secrets.accessToken);
    expect(await w.as.isActive(token!)).toBe(true);
    const after = await storedSecrets(w, 'acme', 'burst');
    expect(after.secrets.accessToken).toBe(token);
    expect(after.conn.credentials.lastRefreshedAt).not.toBeNull();
    expect(after.conn.version).toBe(before.conn.version + 1);
    // Each refresh is audited once, without the token.
    const audit = await w.s.request('GET', '/v1/audit-events?action=oauth.token.refresh&limit=50');
    expect(audit.body.data.filter((e: { resource: { id: string } }) => e.resource.id === 'acme/burst')).toHaveLength(1);
    expect(audit.text).not.toContain(token);
  });

  it('a refresh that finds another one finished since it was judged due makes no token request, and counts as skipped', async () => {
    await connectThroughBrowser(w, 'acme', 'settled');
    const { lk } = w.s;
    const stale = await lk.services.store.db.selectFrom('connections').selectAll().where('id', '=', 'settled').executeTakeFirstOrThrow();
    const integration = await lk.services.store.db.selectFrom('integrations').selectAll().where('key', '=', 'acme').executeTakeFirstOrThrow();
    const judgedDue = new Date();
    // Another caller refreshes first…
    expect((await w.s.request('POST', '/v1/integrations/acme/connections/settled/token')).status).toBe(200);
    const skippedBefore = (await lk.services.metrics.render()).match(/latchkey_token_refresh_total\{outcome="skipped"\} (\d+)/)?.[1];
    const requests = w.as.tokenRequests.length;
    // …then a sweep that read the row before that refresh gets to it.
    const token = await lk.services.tokens.mint(integration, stale, { actor: { type: 'system', keyId: null, userId: null }, requestId: null }, { dueSince: judgedDue });
    expect(token.accessToken).toBeTruthy();
    expect(w.as.tokenRequests.length).toBe(requests);
    const skippedAfter = (await lk.services.metrics.render()).match(/latchkey_token_refresh_total\{outcome="skipped"\} (\d+)/)?.[1];
    expect(Number(skippedAfter)).toBe(Number(skippedBefore) + 1);
  });

  it('a forced refresh asks the provider even for a fresh token, and returns token state without the token', async () => {
    await connectThroughBrowser(w, 'acme', 'forced');
    const before = grants(w, 'refresh_token');
    const res = await w.s.request('POST', '/v1/integrations/acme/connections/forced/refresh');
    expect(res.status, res.text).toBe(200);
    expect(res.body.refreshed).toBe(true);
    expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now());
    expect(grants(w, 'refresh_token') - before).toBe(1);
    const { secrets } = await storedSecrets(w, 'acme', 'forced');
    expect(res.text).not.toContain(secrets.accessToken!);
  });

  it('transient failures (5xx) retry with backoff, keep the connection active and hand out the still-valid token, without retrying on every mint', async () => {
    await connectThroughBrowser(w, 'acme', 'flaky');
    const { secrets } = await storedSecrets(w, 'acme', 'flaky');
    const before = w.as.tokenRequests.length;
    w.as.failTokenEndpointWith = 503;
    try {
      const res = await w.s.request('POST', '/v1/integrations/acme/connections/flaky/token');
      expect(res.status, res.text).toBe(200);
      expect(res.body.accessToken).toBe(secrets.accessToken);
      expect(w.as.tokenRequests.length - before).toBe(3); // three attempts
      // While the refresh is backed off, mints hand out the still-valid token without
      // retrying the provider again (each used to make three more attempts).
      for (let i = 0; i < 3; i++) {
        const again = await w.s.request('POST', '/v1/integrations/acme/connections/flaky/token');
        expect(again.status, again.text).toBe(200);
        expect(again.body.accessToken).toBe(secrets.accessToken);
      }
      expect(w.as.tokenRequests.length - before).toBe(3);
    } finally {
      w.as.failTokenEndpointWith = null;
    }
    const conn = await w.s.request('GET', '/v1/integrations/acme/connections/flaky');
    expect(conn.body.status).toBe('active');
    expect(conn.body.statusReason).toBeNull();
  });

  it('a transient failure after the token has really expired is a 502 problem, and the connection still stays active', async () => {
    await connectThroughBrowser(w, 'acme', 'expired');
    await w.s.lk.services.store.db.updateTable('connections').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', 'expired').execute();
    w.as.failTokenEndpointWith = 502;
    try {
      const res = await w.s.request('POST', '/v1/integrations/acme/connections/expired/token');
      expect(res.status).toBe(502);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).toMatchObject({ code: 'upstream_failed', reason: 'token_endpoint_unavailable' });
    } finally {
      w.as.failTokenEndpointWith = null;
    }
    expect((await w.s.request('GET', '/v1/integrations/acme/connections/expired')).body.status).toBe('active');
    // The provider is back: the next mint refreshes.
    const ok = await w.s.request('POST', '/v1/integrations/acme/connections/expired/token');
    expect(ok.status, ok.text).toBe(200);
  });

  it('invalid_grant puts the connection in error with a reason and an audit event; mints then fail fast until it is fixed', async () => {
    await connectThroughBrowser(w, 'acme', 'revoked');
    const patched = await w.s.request('PATCH', '/v1/integrations/acme/connections/revoked', { body: { credentials: { refreshToken: 'a-refresh-token-the-provider-never-issued' } } });
    expect(patched.status, patched.text).toBe(200);
    const res = await w.s.request('POST', '/v1/integrations/acme/connections/revoked/token');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'conflict', reason: 'connection_error' });
    const conn = await w.s.request('GET', '/v1/integrations/acme/connections/revoked');
    expect(conn.body.status).toBe('error');
    expect(conn.body.statusReason).toMatch(/^refresh failed: invalid_grant/);
    const audit = await w.s.request('GET', '/v1/audit-events?action=oauth.token.refresh&outcome=error&limit=50');
    expect(audit.body.data.some((e: { resource: { id: string } }) => e.resource.id === 'acme/revoked')).toBe(true);

    const before = w.as.tokenRequests.length;
    const again = await w.s.request('POST', '/v1/integrations/acme/connections/revoked/token');
    expect(again.status).toBe(409);
    expect(w.as.tokenRequests.length).toBe(before);

    // Reconnecting repairs it.
    expect((await connectThroughBrowser(w, 'acme', 'revoked')).searchParams.get('status')).toBe('success');
    const repaired = await w.s.request('GET', '/v1/integrations/acme/connections/revoked');
    expect(repaired.body.status).toBe('active');
    expect((await w.s.request('POST', '/v1/integrations/acme/connections/revoked/token')).status).toBe(200);
  });

  it('OAuth webhook events carry the same connection fields as every other connection event (provider, status, reason)', async () => {
    const hook = await w.s.request('POST', '/v1/webhooks', {
      body: { url: 'https://hooks.example.com/oauth-events', events: ['connection.created', 'connection.updated', 'connection.refresh_failed', 'connection.recovered', 'credentials.rotated'] },
    });
    expect(hook.status, hook.text).toBe(201);
    const payloads = async () => {
      const rows = await w.s.lk.services.store.db.selectFrom('webhook_deliveries').select(['payload']).execute();
      return rows.map((r) => JSON.parse(r.payload) as { type: string; data: Record<string, unknown> }).filter((p) => p.data.connectionId === 'evented');
    };
    await connectThroughBrowser(w, 'acme', 'evented');
    expect((await w.s.request('POST', '/v1/integrations/acme/connections/evented/token')).status).toBe(200);
    await w.s.request('PATCH', '/v1/integrations/acme/connections/evented', { body: { credentials: { refreshToken: 'never-issued-refresh-token' } } });
    expect((await w.s.request('POST', '/v1/integrations/acme/connections/evented/token')).status).toBe(409);
    await connectThroughBrowser(w, 'acme', 'evented');
    const byType = new Map((await payloads()).map((p) => [p.type, p.data]));
    const identity = { integration: 'acme', connectionId: 'evented', provider: 'oauth2', tenantId: 'default' };
    expect(byType.get('connection.created')).toMatchObject({ ...identity, status: 'active', statusReason: null, via: 'connect_session' });
    expect(byType.get('connection.refresh_failed')).toMatchObject({ ...identity, status: 'error', permanent: true, reason: 'invalid_grant' });
    expect(String(byType.get('connection.refresh_failed')!.statusReason)).toMatch(/^refresh failed: invalid_grant/);
    expect(byType.get('connection.updated')).toMatchObject({ ...identity, status: 'active', statusReason: null });
    for (const data of byType.values()) expect(typeof data.connectionUid).toBe('string');
  });

  it('the background sweep refreshes due connections once and leaves the rest', async () => {
    await connectThroughBrowser(w, 'acme', 'swept');
    const before = await storedSecrets(w, 'acme', 'swept');
    const result = await w.s.lk.services.tokens.sweep();
    expect(result.attempted).toBeGreaterThanOrEqual(1);
    expect(result.failed).toBe(0);
    const after = await storedSecrets(w, 'acme', 'swept');
    expect(after.secrets.accessToken).not.toBe(before.secrets.accessToken);
    expect(Date.parse(after.conn.credentials.lastRefreshedAt)).toBeGreaterThanOrEqual(Date.parse(before.conn.credentials.lastRefreshedAt));
  });

  it('refuses an Idempotency-Key on a mint: a replay would hand out a token unaudited', async () => {
    await connectThroughBrowser(w, 'acme', 'idem');
    const res = await w.s.request('POST', '/v1/integrations/acme/connections/idem/token', { headers: { 'idempotency-key': 'mint-once-please' } });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  it('a disabled connection or integration mints nothing (409 with the reason)', async () => {
    await connectThroughBrowser(w, 'acme', 'off');
    expect((await w.s.request('PATCH', '/v1/integrations/acme/connections/off', { body: { enabled: false } })).status).toBe(200);
    const res = await w.s.request('POST', '/v1/integrations/acme/connections/off/token');
    expect(res.status).toBe(409);
    expect(res.body.reason).toBe('connection_disabled');
  });

  it('tokens never reach logs or audit rows', async () => {
    const db = w.s.lk.services.store.db;
    const secrets = await db.selectFrom('connections').select('uid').execute();
    const values: string[] = [];
    for (const { uid } of secrets) values.push(...Object.values(await w.s.lk.services.secrets.read(db, 'default', 'connection', uid)));
    expect(values.length).toBeGreaterThan(5);
    const audit = JSON.stringify(await db.selectFrom('audit_events').selectAll().execute());
    const plain = JSON.stringify(await db.selectFrom('connections').selectAll().execute()) + JSON.stringify(await db.selectFrom('connect_sessions').selectAll().execute());
    const logs = w.s.logs.join('\n');
    for (const value of values) {
      expect(logs).not.toContain(value);
      expect(audit).not.toContain(value);
      expect(plain).not.toContain(value);
    }
  });
});

describe('refresh-token rotation and a crash between the provider\'s answer and the database write', () => {
  let w: OAuthWorld;
  let crash = false;
  beforeAll(async () => {
    w = await startOAuthWorld({
      as: { accessTokenTtl: 60, rotateRefreshToken: true },
      create: {
        tokenHooks: {
          beforeStore: async () => {
            if (crash) throw new Error('simulated crash before the tokens were written');
          },
        },
      },
    });
    expect((await w.s.request('POST', '/v1/integrations', { body: oauthIntegration(w.as) })).status).toBe(201);
  });
  afterAll(async () => w?.close());

  it('stores each rotated refresh token atomically with its access token', async () => {
    const hook = await w.s.request('POST', '/v1/webhooks', { body: { url: 'https://hooks.example.com/rotations', events: ['credentials.rotated'] } });
    expect(hook.status, hook.text).toBe(201);
    await connectThroughBrowser(w, 'acme', 'rotating');
    const first = await storedSecrets(w, 'acme', 'rotating');
    const minted = await w.s.request('POST', '/v1/integrations/acme/connections/rotating/token');
    expect(minted.status, minted.text).toBe(200);
    const second = await storedSecrets(w, 'acme', 'rotating');
    expect(second.secrets.refreshToken).not.toBe(first.secrets.refreshToken);
    expect(second.secrets.accessToken).toBe(minted.body.accessToken);
    // The rotation is announced with the connection's identity and state, never a token.
    const deliveries = await w.s.lk.services.store.db.selectFrom('webhook_deliveries').select(['payload']).where('event_type', '=', 'credentials.rotated').execute();
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.payload).not.toContain(minted.body.accessToken);
    expect(JSON.parse(deliveries[0]!.payload).data).toMatchObject({ integration: 'acme', connectionId: 'rotating', provider: 'oauth2', status: 'active', statusReason: null });
    // The rotated pair works: the next refresh succeeds with the stored refresh token.
    expect((await w.s.request('POST', '/v1/integrations/acme/connections/rotating/refresh')).status).toBe(200);
  });

  it('fails safe: a crash keeps the previous pair whole, and the provider\'s refusal of the spent token surfaces as error, never as a silently broken connection', async () => {
    await connectThroughBrowser(w, 'acme', 'crashy');
    const before = await storedSecrets(w, 'acme', 'crashy');
    crash = true;
    try {
      const res = await w.s.request('POST', '/v1/integrations/acme/connections/crashy/token');
      expect(res.status).toBe(500);
      expect(res.text).not.toContain(before.secrets.refreshToken!);
    } finally {
      crash = false;
    }
    // Nothing half-written: the previous access and refresh tokens, expiry and version are intact.
    const after = await storedSecrets(w, 'acme', 'crashy');
    expect(after.secrets).toEqual(before.secrets);
    expect(after.conn.credentials.expiresAt).toBe(before.conn.credentials.expiresAt);
    expect(after.conn.version).toBe(before.conn.version);
    // The lease died with the "crash" and is free again.
    const row = await w.s.lk.services.store.db.selectFrom('connections').selectAll().where('uid', '=', after.conn.uid).executeTakeFirstOrThrow();
    expect(row.refresh_lock_owner).toBeNull();
    // This provider rotates strictly: the refresh token we still hold was spent by the lost
    // exchange, so the next refresh is refused and the connection asks for a reconnect.
    const next = await w.s.request('POST', '/v1/integrations/acme/connections/crashy/token');
    expect(next.status).toBe(409);
    const conn = await w.s.request('GET', '/v1/integrations/acme/connections/crashy');
    expect(conn.body.status).toBe('error');
    expect(conn.body.statusReason).toMatch(/invalid_grant.*reconnect/);
  });
});

describe('client credentials and the password grant', () => {
  let w: OAuthWorld;
  beforeAll(async () => {
    w = await startOAuthWorld({ as: { accessTokenTtl: 3600 } });
    for (const [key, authMethod] of [
      ['machine', 'oauth2_client_credentials'],
      ['legacy', 'oauth2_password'],
    ] as const) {
      const res = await w.s.request('POST', '/v1/integrations', { body: oauthIntegration(w.as, key, { authMethod, config: { defaultScopes: 'read write' } }) });
      expect(res.status, res.text).toBe(201);
    }
  });
  afterAll(async () => w?.close());

  it('mints a client-credentials token on demand from the integration\'s client, then serves it from the cache', async () => {
    const created = await w.s.request('POST', '/v1/integrations/machine/connections', { body: { id: 'm-1', credentials: { type: 'oauth2_client_credentials' } } });
    expect(created.status, created.text).toBe(201);
    const before = grants(w, 'client_credentials');
    const first = await w.s.request('POST', '/v1/integrations/machine/connections/m-1/token');
    expect(first.status, first.text).toBe(200);
    expect(await w.as.isActive(first.body.accessToken)).toBe(true);
    expect(first.body.expiresAt).not.toBeNull();
    const second = await w.s.request('POST', '/v1/integrations/machine/connections/m-1/token');
    expect(second.body.accessToken).toBe(first.body.accessToken);
    expect(grants(w, 'client_credentials') - before).toBe(1);
    const conn = await w.s.request('GET', '/v1/integrations/machine/connections/m-1');
    expect(conn.body.credentials.hasSecrets).toEqual({ accessToken: true });
    expect(conn.text).not.toContain(first.body.accessToken);
  });

  it('verify performs a real grant: ok with the right secret, a clear error with a wrong one', async () => {
    const ok = await w.s.request('POST', '/v1/integrations/machine/verify');
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, error: null });
    expect(ok.body.latencyMs).toBeGreaterThanOrEqual(0);
    expect((await w.s.request('PATCH', '/v1/integrations/machine', { body: { secrets: { clientSecret: 'not-the-secret' } } })).status).toBe(200);
    const bad = await w.s.request('POST', '/v1/integrations/machine/verify');
    expect(bad.status).toBe(200);
    expect(bad.body.ok).toBe(false);
    expect(bad.body.error.code).toBe('invalid_client');
    expect(bad.text).not.toContain('not-the-secret');
    expect((await w.s.request('PATCH', '/v1/integrations/machine', { body: { secrets: { clientSecret: w.as.clientSecret } } })).status).toBe(200);
    const unsupported = await w.s.request('POST', '/v1/integrations/legacy/verify');
    expect(unsupported.status).toBe(409);
    expect(unsupported.body.reason).toBe('verify_unsupported');
  });

  it('mints with the password grant from stored username and password; a wrong password is an error', async () => {
    const created = await w.s.request('POST', '/v1/integrations/legacy/connections', {
      body: { id: 'ada', credentials: { type: 'oauth2_password', username: TEST_USER.username, password: TEST_USER.password } },
    });
    expect(created.status, created.text).toBe(201);
    const minted = await w.s.request('POST', '/v1/integrations/legacy/connections/ada/token');
    expect(minted.status, minted.text).toBe(200);
    expect(await w.as.isActive(minted.body.accessToken)).toBe(true);
    expect(w.as.tokenRequests.at(-1)!.grantType).toBe('password');

    await w.s.request('POST', '/v1/integrations/legacy/connections', { body: { id: 'mallory', credentials: { type: 'oauth2_password', username: 'ada', password: 'wrong' } } });
    const refused = await w.s.request('POST', '/v1/integrations/legacy/connections/mallory/token');
    expect(refused.status).toBe(409);
    expect((await w.s.request('GET', '/v1/integrations/legacy/connections/mallory')).body.status).toBe('error');
    expect(JSON.stringify(await w.s.request('GET', '/v1/audit-events?limit=200'))).not.toContain(TEST_USER.password);
  });

  it('API-key connections are not OAuth: 409 not_oauth', async () => {
    await w.s.request('POST', '/v1/integrations', { body: { key: 'keyed', provider: 'stripe', displayName: 'Stripe', authMethod: 'api_key', config: {} } });
    await w.s.request('POST', '/v1/integrations/keyed/connections', { body: { id: 'k', credentials: { type: 'api_key', apiKey: 'sk_test_123456789' } } });
    const res = await w.s.request('POST', '/v1/integrations/keyed/connections/k/token');
    expect(res.status).toBe(409);
    expect(res.body.reason).toBe('not_oauth');
    expect(res.text).not.toContain('sk_test_123456789');
    // The failed mint is audited against the connection it asked for.
    const events = await w.s.request('GET', '/v1/audit-events?action=integrations.connection.token&limit=1');
    expect(events.body.data[0]).toMatchObject({ outcome: 'error', status: 409, resource: { type: 'connection', id: 'keyed/k' } });
  });
});
