import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/harness.js';
import { browse } from '../support/oauth-server.js';
import { APP_RETURN, type OAuthWorld, connectThroughBrowser, oauthIntegration, openUntilCallback, startOAuthWorld } from './support.js';

describe('OAuth connect flow against oidc-provider', () => {
  let w: OAuthWorld;
  const responses: string[] = [];

  beforeAll(async () => {
    w = await startOAuthWorld();
    const created = await w.s.request('POST', '/v1/integrations', { body: oauthIntegration(w.as) });
    expect(created.status, created.text).toBe(201);
  });
  afterAll(async () => w?.close());
  beforeEach(() => {
    w.as.consent = 'approve';
  });

  const request = async (...args: Parameters<OAuthWorld['s']['request']>) => {
    const res = await w.s.request(...args);
    responses.push(res.text);
    return res;
  };
  const connectionCount = async () => Number((await w.s.lk.services.store.db.selectFrom('connections').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const auditCount = async () => Number((await w.s.lk.services.store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const sessionRow = (connectionId: string) =>
    w.s.lk.services.store.db.selectFrom('connect_sessions').select(['uid', 'opened_at', 'completed_at', 'outcome']).where('connection_id', '=', connectionId).executeTakeFirstOrThrow();
  const landedAt = (res: Response) => Object.fromEntries(new URL(res.headers.get('location')!).searchParams);

  it('consents, exchanges the code with PKCE, stores the tokens write-only and returns the user with success', async () => {
    const before = w.as.tokenRequests.length;
    const landed = await connectThroughBrowser(w, 'acme', 'user-42', { metadata: { plan: 'pro' } });
    expect(landed.searchParams.get('status')).toBe('success');
    expect(landed.searchParams.get('connectionId')).toBe('user-42');

    const exchanges = w.as.tokenRequests.slice(before);
    expect(exchanges.map((r) => r.grantType)).toEqual(['authorization_code']);
    expect(new URLSearchParams(exchanges[0]!.body).get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(exchanges[0]!.authorization).toBe(true); // client_secret_basic, as configured

    const conn = await request('GET', '/v1/integrations/acme/connections/user-42');
    expect(conn.status, conn.text).toBe(200);
    expect(conn.body.status).toBe('active');
    expect(conn.body.metadata).toEqual({ plan: 'pro' });
    expect(conn.body.credentials.type).toBe('oauth2');
    expect(conn.body.credentials.hasSecrets).toEqual({ accessToken: true, refreshToken: true });
    expect(Date.parse(conn.body.credentials.expiresAt)).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(conn.body.credentials.scopes).toEqual(expect.arrayContaining(['read', 'write']));

    const stored = await w.s.lk.services.secrets.read(w.s.lk.services.store.db, 'default', 'connection', conn.body.uid);
    expect(await w.as.isActive(stored.accessToken!)).toBe(true);
    const minted = await request('POST', '/v1/integrations/acme/connections/user-42/token');
    expect(minted.status, minted.text).toBe(200);
    expect(minted.body).toEqual({ accessToken: stored.accessToken, tokenType: 'bearer', expiresAt: conn.body.credentials.expiresAt, scopes: conn.body.credentials.scopes });
    expect(minted.text).not.toContain(stored.refreshToken!);
    expect(w.as.tokenRequests.length - before).toBe(1); // a fresh token is minted without asking the provider

    // The tokens appear nowhere but the mint response: not in reads, lists, audit or logs.
    const list = await request('GET', '/v1/connections');
    const audit = await request('GET', '/v1/audit-events?limit=200');
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['connect.session.create', 'connect.session.complete', 'integrations.connection.token']));
    const everything = [...responses.filter((t) => t !== minted.text), list.text, audit.text, w.s.logs.join('\n')].join('\n');
    for (const token of [stored.accessToken!, stored.refreshToken!]) expect(everything).not.toContain(token);
    const auditRows = JSON.stringify(await w.s.lk.services.store.db.selectFrom('audit_events').selectAll().execute());
    expect(auditRows).not.toContain(stored.accessToken!);
    expect(auditRows).not.toContain(stored.refreshToken!);
  });

  it('reconnecting the same connection id updates it in place', async () => {
    const first = await request('GET', '/v1/integrations/acme/connections/user-42');
    const landed = await connectThroughBrowser(w, 'acme', 'user-42');
    expect(landed.searchParams.get('status')).toBe('success');
    const again = await request('GET', '/v1/integrations/acme/connections/user-42');
    expect(again.body.uid).toBe(first.body.uid);
    expect(again.body.version).toBe(first.body.version + 1);
  });

  it('accepts a state once: a replayed callback is sent back with invalid_state and changes nothing', async () => {
    const created = await request('POST', '/v1/connect/sessions', { body: { integration: 'acme', connectionId: 'replay-1', redirectUrl: APP_RETURN } });
    const { callback, cookie } = await openUntilCallback(w, created.body.connectUrl);
    const first = await fetch(callback, { redirect: 'manual', headers: { cookie } });
    expect(new URL(first.headers.get('location')!).searchParams.get('status')).toBe('success');
    // The callback clears the binding cookie it no longer needs.
    expect(first.headers.getSetCookie()).toEqual([`${cookie.split('=')[0]}=; Max-Age=0; Path=/oauth/callback; HttpOnly; SameSite=Lax`]);
    const tokensBefore = w.as.tokenRequests.length;
    // Even from the browser that opened the link, with its cookie kept.
    const replay = await fetch(callback, { redirect: 'manual', headers: { cookie } });
    const back = new URL(replay.headers.get('location')!);
    expect(back.origin + back.pathname).toBe(APP_RETURN);
    expect(Object.fromEntries(back.searchParams)).toEqual({ status: 'error', error: 'invalid_state' });
    expect(w.as.tokenRequests.length).toBe(tokensBefore);
  });

  it('a connect link works once', async () => {
    const created = await request('POST', '/v1/connect/sessions', { body: { integration: 'acme', connectionId: 'once-1', redirectUrl: APP_RETURN } });
    const first = await fetch(created.body.connectUrl, { redirect: 'manual' });
    expect(first.status).toBe(302);
    expect(new URL(first.headers.get('location')!).origin).toBe(w.as.issuer);
    const second = await fetch(created.body.connectUrl, { redirect: 'manual' });
    expect(Object.fromEntries(new URL(second.headers.get('location')!).searchParams)).toEqual({ status: 'error', error: 'invalid_session' });
  });

  it('binds the flow to the browser that opened the link: a cookie scoped to the callback, as long as the session lives', async () => {
    const created = await request('POST', '/v1/connect/sessions', { body: { integration: 'acme', connectionId: 'cookie-1', redirectUrl: APP_RETURN, expiresIn: 600 } });
    const opened = await fetch(created.body.connectUrl, { redirect: 'manual' });
    const [setCookie, ...more] = opened.headers.getSetCookie();
    expect(more).toEqual([]);
    expect(setCookie).toBeDefined();
    const [pair, ...attributes] = setCookie!.split('; ');
    const session = await w.s.lk.services.store.db.selectFrom('connect_sessions').select(['uid', 'binding_hash']).where('connection_id', '=', 'cookie-1').executeTakeFirstOrThrow();
    expect(pair).toMatch(new RegExp(`^lk_connect_${session.uid}=[A-Za-z0-9_-]{43}$`));
    expect(attributes).toEqual([expect.stringMatching(/^Max-Age=(59\d|600)$/), 'Path=/oauth/callback', 'HttpOnly', 'SameSite=Lax']); // no Secure over plain http
    expect(session.binding_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a callback from a browser that did not open the link (a forwarded authorization URL) → invalid_session, no token request, no connection', async () => {
    const before = await connectionCount();
    const tokensBefore = w.as.tokenRequests.length;
    // The attacker opens their own link and sends the provider's authorization URL to the
    // victim, who consents in their own browser: the callback carries the victim's code.
    const forwarded = async (connectionId: string) => {
      const created = await request('POST', '/v1/connect/sessions', { body: { integration: 'acme', connectionId, redirectUrl: APP_RETURN } });
      const opened = await fetch(created.body.connectUrl, { redirect: 'manual' });
      const attackerCookie = opened.headers.getSetCookie()[0]?.split(';')[0] ?? '';
      return { callback: await browse(opened.headers.get('location')!, `${w.s.baseUrl}/oauth/callback`), cookieName: `lk_connect_${(await sessionRow(connectionId)).uid}`, attackerCookie };
    };
    // The victim's browser has a binding cookie of its own, from a link it opened itself.
    const own = await request('POST', '/v1/connect/sessions', { body: { integration: 'acme', connectionId: 'victim-own', redirectUrl: APP_RETURN } });
    const victimCookie = (await openUntilCallback(w, own.body.connectUrl)).cookie;

    const cases: [string, (cookieName: string) => Record<string, string>][] = [
      ['forwarded-none', () => ({})],
      ['forwarded-own', () => ({ cookie: victimCookie })],
      ['forwarded-forged', (cookieName) => ({ cookie: `${cookieName}=${'A'.repeat(43)}; ${victimCookie}` })],
    ];
    for (const [connectionId, headers] of cases) {
      const { callback, cookieName, attackerCookie } = await forwarded(connectionId);
      const res = await fetch(callback, { redirect: 'manual', headers: headers(cookieName) });
      expect(res.status, connectionId).toBe(302);
      expect(landedAt(res), connectionId).toEqual({ status: 'error', error: 'invalid_session' });
      expect(res.headers.getSetCookie(), connectionId).toEqual([`${cookieName}=; Max-Age=0; Path=/oauth/callback; HttpOnly; SameSite=Lax`]);
      expect((await sessionRow(connectionId)).outcome, connectionId).toBe('invalid_session');
      expect((await request('GET', `/v1/integrations/acme/connections/${connectionId}`)).status, connectionId).toBe(404);
      // The flow has ended: the code cannot be used later, not even with the right cookie.
      const late = await fetch(callback, { redirect: 'manual', headers: { cookie: attackerCookie } });
      expect(landedAt(late), connectionId).toEqual({ status: 'error', error: 'invalid_state' });
    }
    expect(w.as.tokenRequests.length).toBe(tokensBefore);
    expect(await connectionCount()).toBe(before);
  });

  it('re-opening a used link changes nothing: the recorded outcome and the audit log stand, also after expiry', async () => {
    const db = w.s.lk.services.store.db;
    const completed = await request('POST', '/v1/connect/sessions', { body: { integration: 'acme', connectionId: 'reopen-1', redirectUrl: APP_RETURN } });
    expect((await browse(completed.body.connectUrl, APP_RETURN)).searchParams.get('status')).toBe('success');
    const lapsed = await request('POST', '/v1/connect/sessions', { body: { integration: 'acme', connectionId: 'reopen-2', redirectUrl: APP_RETURN } });
    await db.updateTable('connect_sessions').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('connection_id', '=', 'reopen-2').execute();
    expect(landedAt(await fetch(lapsed.body.connectUrl, { redirect: 'manual' }))).toEqual({ status: 'error', error: 'expired_session' });

    const settled = { completed: await sessionRow('reopen-1'), lapsed: await sessionRow('reopen-2') };
    expect([settled.completed.outcome, settled.lapsed.outcome]).toEqual(['success', 'expired_session']);
    const events = await auditCount();
    const reopen = async (url: string) => {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(url, { redirect: 'manual' });
        expect(landedAt(res)).toEqual({ status: 'error', error: 'invalid_session' });
        expect(res.headers.getSetCookie()).toEqual([]);
      }
    };
    await reopen(completed.body.connectUrl);
    await reopen(lapsed.body.connectUrl);
    await db.updateTable('connect_sessions').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('connection_id', '=', 'reopen-1').execute();
    await reopen(completed.body.connectUrl);
    expect({ completed: await sessionRow('reopen-1'), lapsed: await sessionRow('reopen-2') }).toEqual(settled);
    expect(await auditCount()).toBe(events);
  });

  it('denied consent → access_denied, and no connection', async () => {
    const before = await connectionCount();
    w.as.consent = 'deny';
    const landed = await connectThroughBrowser(w, 'acme', 'denied-1');
    expect(Object.fromEntries(landed.searchParams)).toEqual({ status: 'error', error: 'access_denied' });
    expect(await connectionCount()).toBe(before);
    expect((await request('GET', '/v1/integrations/acme/connections/denied-1')).status).toBe(404);
  });

  it('an expired session → expired_session, whether it expires before the link is opened or before the callback', async () => {
    const db = w.s.lk.services.store.db;
    const before = await connectionCount();
    const expire = () => db.updateTable('connect_sessions').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('outcome', 'is', null).execute();

    const early = await request('POST', '/v1/connect/sessions', { body: { integration: 'acme', connectionId: 'late-1', redirectUrl: APP_RETURN } });
    await expire();
    const openedLate = await fetch(early.body.connectUrl, { redirect: 'manual' });
    expect(Object.fromEntries(new URL(openedLate.headers.get('location')!).searchParams)).toEqual({ status: 'error', error: 'expired_session' });

    const mid = await request('POST', '/v1/connect/sessions', { body: { integration: 'acme', connectionId: 'late-2', redirectUrl: APP_RETURN } });
    const { callback, cookie } = await openUntilCallback(w, mid.body.connectUrl);
    await expire();
    const returned = await fetch(callback, { redirect: 'manual', headers: { cookie } });
    expect(Object.fromEntries(new URL(returned.headers.get('location')!).searchParams)).toEqual({ status: 'error', error: 'expired_session' });
    expect(await connectionCount()).toBe(before);
  });

  it('an unknown state gets a page (there is nowhere safe to redirect), and no connection', async () => {
    const before = await connectionCount();
    const res = await fetch(`${w.s.baseUrl}/oauth/callback?state=not-a-state&code=whatever`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('Invalid sign-in response');
    const missing = await fetch(`${w.s.baseUrl}/oauth/callback?code=whatever`, { redirect: 'manual' });
    expect(missing.status).toBe(400);
    expect(await connectionCount()).toBe(before);
  });

  it('a code the provider refuses → exchange_failed, and no connection', async () => {
    const before = await connectionCount();
    const created = await request('POST', '/v1/connect/sessions', { body: { integration: 'acme', connectionId: 'bad-code-1', redirectUrl: APP_RETURN } });
    const { callback, cookie } = await openUntilCallback(w, created.body.connectUrl);
    callback.searchParams.set('code', 'forged-code');
    const res = await fetch(callback, { redirect: 'manual', headers: { cookie } });
    expect(Object.fromEntries(new URL(res.headers.get('location')!).searchParams)).toEqual({ status: 'error', error: 'exchange_failed' });
    expect(await connectionCount()).toBe(before);
  });

  it('a provider error other than a denial → provider_error, and no connection', async () => {
    const before = await connectionCount();
    const created = await request('POST', '/v1/connect/sessions', { body: { integration: 'acme', connectionId: 'prov-err-1', redirectUrl: APP_RETURN } });
    const { callback, cookie } = await openUntilCallback(w, created.body.connectUrl);
    const errored = new URL(`${w.s.baseUrl}/oauth/callback`);
    errored.searchParams.set('state', callback.searchParams.get('state')!);
    errored.searchParams.set('error', 'server_error');
    const res = await fetch(errored, { redirect: 'manual', headers: { cookie } });
    expect(Object.fromEntries(new URL(res.headers.get('location')!).searchParams)).toEqual({ status: 'error', error: 'provider_error' });
    expect(await connectionCount()).toBe(before);
    expect((await request('GET', '/v1/integrations/acme/connections/prov-err-1')).status).toBe(404);
  });

  it('without a redirectUrl the user sees a result page', async () => {
    const created = await request('POST', '/v1/connect/sessions', { body: { integration: 'acme', connectionId: 'no-redirect-1' } });
    const { callback, cookie } = await openUntilCallback(w, created.body.connectUrl);
    const res = await fetch(callback, { redirect: 'manual', headers: { cookie } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('The account is connected');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('refuses sessions for integrations that are not authorization-code OAuth, and bad redirect URLs', async () => {
    const pat = await request('POST', '/v1/integrations', { body: { key: 'gh-pat', provider: 'github', displayName: 'GH PAT', authMethod: 'pat', config: {} } });
    expect(pat.status, pat.text).toBe(201);
    const refused = await request('POST', '/v1/connect/sessions', { body: { integration: 'gh-pat', connectionId: 'x' } });
    expect(refused.status).toBe(409);
    expect(refused.body.reason).toBe('not_oauth2');
    for (const redirectUrl of ['javascript:alert(1)', 'https://user:pw@evil.example/', '/relative', 'x'.repeat(3000)]) {
      const bad = await request('POST', '/v1/connect/sessions', { body: { integration: 'acme', connectionId: 'x', redirectUrl } });
      expect(bad.status, redirectUrl).toBe(422);
      expect(bad.headers['content-type']).toContain('application/problem+json');
    }
    const missing = await request('POST', '/v1/connect/sessions', { body: { integration: 'nope', connectionId: 'x' } });
    expect(missing.status).toBe(404);
  });

  it('sessions that expired more than a day ago are purged', async () => {
    const db = w.s.lk.services.store.db;
    const created = await request('POST', '/v1/connect/sessions', { body: { integration: 'acme', connectionId: 'purge-1' } });
    expect(created.status).toBe(201);
    await db.updateTable('connect_sessions').set({ expires_at: new Date(Date.now() - 25 * 3600_000).toISOString() }).where('connection_id', '=', 'purge-1').execute();
    const fresh = await request('POST', '/v1/connect/sessions', { body: { integration: 'acme', connectionId: 'purge-2' } });
    expect(fresh.status).toBe(201);
    expect(await w.s.lk.services.connect.purgeExpired()).toBe(1);
    const left = await db.selectFrom('connect_sessions').select('connection_id').where('connection_id', 'in', ['purge-1', 'purge-2']).execute();
    expect(left.map((r) => r.connection_id)).toEqual(['purge-2']);
  });

  it('a session token and a PKCE verifier are never stored in the clear', async () => {
    const created = await request('POST', '/v1/connect/sessions', { body: { integration: 'acme', connectionId: 'stored-1', redirectUrl: APP_RETURN } });
    const opened = await fetch(created.body.connectUrl, { redirect: 'manual' });
    const binding = opened.headers.getSetCookie()[0]!.split(';')[0]!.split('=')[1]!;
    const rows = JSON.stringify(await w.s.lk.services.store.db.selectFrom('connect_sessions').selectAll().execute());
    expect(rows).not.toContain(created.body.token);
    expect(rows).not.toContain(created.body.token.slice(4));
    expect(rows).not.toContain(binding);
    const row = await w.s.lk.services.store.db.selectFrom('connect_sessions').selectAll().where('connection_id', '=', 'stored-1').executeTakeFirstOrThrow();
    expect(row.verifier).toMatch(/^lk1\./);
  });
});

describe('OAuth connect flow behind an https public URL', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ config: { publicUrl: 'https://latchkey.example.test/lk' } });
    const created = await s.request('POST', '/v1/integrations', {
      body: {
        key: 'remote',
        provider: 'oauth2',
        displayName: 'Remote AS',
        authMethod: 'oauth2',
        config: { authorizationUrl: 'https://as.example.test/authorize', tokenUrl: 'https://as.example.test/token', baseUrl: 'https://api.example.test', clientId: 'client-1' },
        secrets: { clientSecret: 'client-secret-1' },
      },
    });
    expect(created.status, created.text).toBe(201);
  });
  afterAll(async () => s?.close());

  it('marks the binding cookie Secure and scopes it to the public callback path', async () => {
    const created = await s.request('POST', '/v1/connect/sessions', { body: { integration: 'remote', connectionId: 'tls-1' } });
    expect(created.status, created.text).toBe(201);
    const opened = await s.request('GET', new URL(created.body.connectUrl).pathname.replace(/^\/lk/, ''), { key: null });
    expect(opened.status).toBe(302);
    expect(new URL(String(opened.headers.location)).searchParams.get('redirect_uri')).toBe('https://latchkey.example.test/lk/oauth/callback');
    const setCookie = String(opened.headers['set-cookie']);
    expect(setCookie.split('; ').slice(2)).toEqual(['Path=/lk/oauth/callback', 'HttpOnly', 'SameSite=Lax', 'Secure']);
  });
});

describe('OAuth connect flow with client_secret_post and no PKCE', () => {
  let w: OAuthWorld;
  beforeAll(async () => {
    w = await startOAuthWorld({ as: { tokenEndpointAuthMethod: 'client_secret_post', pkceRequired: false } });
    const created = await w.s.request('POST', '/v1/integrations', { body: oauthIntegration(w.as, 'post', { config: { tokenEndpointAuthMethod: 'client_secret_post', pkce: false } }) });
    expect(created.status, created.text).toBe(201);
  });
  afterAll(async () => w?.close());

  it('sends the client secret in the body and no code challenge', async () => {
    const created = await w.s.request('POST', '/v1/connect/sessions', { body: { integration: 'post', connectionId: 'p-1', redirectUrl: APP_RETURN } });
    const first = await fetch(created.body.connectUrl, { redirect: 'manual' });
    const authorize = new URL(first.headers.get('location')!);
    expect(authorize.searchParams.get('code_challenge')).toBeNull();
    expect(authorize.searchParams.get('state')).toMatch(/.{20,}/);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${w.s.baseUrl}/oauth/callback`);
    const callback = await browse(authorize.toString(), `${w.s.baseUrl}/oauth/callback`);
    const cookie = first.headers.getSetCookie()[0]!.split(';')[0]!;
    const landed = await fetch(callback, { redirect: 'manual', headers: { cookie } });
    expect(new URL(landed.headers.get('location')!).searchParams.get('status')).toBe('success');
    const exchange = w.as.tokenRequests.at(-1)!;
    expect(exchange.authorization).toBe(false);
    expect(new URLSearchParams(exchange.body).get('client_secret')).toBe(w.as.clientSecret);
  });
});
