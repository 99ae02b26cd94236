import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OAuthWorld, connectThroughBrowser, oauthIntegration, startOAuthWorld } from '../oauth/support.js';
import { type Upstream, bearer, proxyAudit, rawRequest, startUpstream } from './support.js';

const refreshes = (w: OAuthWorld) => w.as.tokenRequests.filter((r) => r.grantType === 'refresh_token').length;
const bearerOf = (headers: Record<string, unknown>) => String(headers.authorization ?? '').replace(/^Bearer /, '');

describe('proxy: OAuth connections (tokens from the oidc-provider test authorization server)', () => {
  let w: OAuthWorld;
  let up: Upstream;
  /** Tokens the upstream treats as revoked, although the AS still knows them. */
  const refused = new Set<string>();

  beforeAll(async () => {
    w = await startOAuthWorld();
    up = await startUpstream();
    // A resource server that asks the AS whether the token is live, and refuses the ones the test marks.
    up.handler = async (_req, res, seen) => {
      const token = bearerOf(seen.headers);
      const ok = !refused.has(token) && (await w.as.isActive(token));
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok, bytes: seen.bytes, sha256: seen.sha256 }));
    };
    const created = await w.s.request('POST', '/v1/integrations', { body: oauthIntegration(w.as, 'acme', { config: { baseUrl: `${up.url}/api` } }) });
    expect(created.status, created.text).toBe(201);
  });
  afterAll(async () => {
    await w?.close();
    await up?.close();
  });

  const storedToken = async (id: string) => {
    const conn = await w.s.request('GET', `/v1/integrations/acme/connections/${id}`);
    const secrets = await w.s.lk.services.secrets.read(w.s.lk.services.store.db, 'default', 'connection', conn.body.uid);
    return secrets.accessToken!;
  };
  const proxy = (target: string, opts: { method?: string; body?: Buffer } = {}) =>
    rawRequest(w.s.baseUrl!, opts.method ?? 'GET', target, { headers: bearer(w.s.adminKey), ...(opts.body ? { body: opts.body } : {}) });

  it('injects the connection\'s access token as a Bearer token, without refreshing a fresh one', async () => {
    expect((await connectThroughBrowser(w, 'acme', 'u1')).searchParams.get('status')).toBe('success');
    const token = await storedToken('u1');
    const before = refreshes(w);
    const res = await proxy('/v1/proxy/acme/u1/me?fields=id');
    expect(res.status, res.text).toBe(200);
    expect(res.json.ok).toBe(true);
    const seen = up.seen[up.seen.length - 1]!;
    expect(seen.url).toBe('/api/me?fields=id');
    expect(bearerOf(seen.headers)).toBe(token);
    expect(refreshes(w)).toBe(before);
    expect(res.text).not.toContain(token);
  });

  it('a 401 from the provider refreshes the token once and retries once, replaying a small body', async () => {
    await connectThroughBrowser(w, 'acme', 'u2');
    const first = await storedToken('u2');
    refused.add(first);
    const before = { refreshes: refreshes(w), seen: up.seen.length };
    const body = Buffer.from(JSON.stringify({ hello: 'again', pad: 'x'.repeat(2000) }));
    const res = await proxy('/v1/proxy/acme/u2/things', { method: 'POST', body });
    expect(res.status, res.text).toBe(200);
    expect(refreshes(w) - before.refreshes).toBe(1);
    const attempts = up.seen.slice(before.seen);
    expect(attempts).toHaveLength(2);
    expect(bearerOf(attempts[0]!.headers)).toBe(first);
    const second = bearerOf(attempts[1]!.headers);
    expect(second).not.toBe(first);
    expect(await w.as.isActive(second)).toBe(true);
    expect(await storedToken('u2')).toBe(second);
    // The same bytes both times.
    expect(attempts[0]!.sha256).toBe(attempts[1]!.sha256);
    expect(attempts[1]!.bytes).toBe(body.length);
    // One audit event for the call, with the status the caller got.
    const { events, text } = await proxyAudit(w.s, 'acme/u2');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'success', status: 200 });
    expect(text).not.toContain(first);
    expect(text).not.toContain(second);
  });

  it('a provider that keeps answering 401 gets one refresh and one retry, then the 401 passes through', async () => {
    await connectThroughBrowser(w, 'acme', 'u3');
    const before = { refreshes: refreshes(w), seen: up.seen.length };
    const saved = up.handler;
    up.handler = (_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' });
      res.end('{"error":"invalid_token"}');
    };
    try {
      const res = await proxy('/v1/proxy/acme/u3/x');
      expect(res.status).toBe(401);
      expect(res.text).toBe('{"error":"invalid_token"}');
      expect(res.headers['www-authenticate']).toBeUndefined();
    } finally {
      up.handler = saved;
    }
    expect(refreshes(w) - before.refreshes).toBe(1);
    expect(up.seen.length - before.seen).toBe(2);
  });

  it('a body too large to replay (over 64 KiB) streams once: a 401 passes through without refresh or retry', async () => {
    await connectThroughBrowser(w, 'acme', 'u4');
    refused.add(await storedToken('u4'));
    const before = { refreshes: refreshes(w), seen: up.seen.length };
    const body = Buffer.alloc(64 * 1024 + 1, 5);
    const res = await proxy('/v1/proxy/acme/u4/upload', { method: 'PUT', body });
    expect(res.status).toBe(401);
    expect(refreshes(w)).toBe(before.refreshes);
    expect(up.seen.length - before.seen).toBe(1);
    expect(up.seen[up.seen.length - 1]!.bytes).toBe(body.length);
  });

  it('concurrent requests that all meet a 401 share the refresh: every one succeeds with the new token', async () => {
    await connectThroughBrowser(w, 'acme', 'u5');
    refused.add(await storedToken('u5'));
    const before = refreshes(w);
    const results = await Promise.all(Array.from({ length: 10 }, () => proxy('/v1/proxy/acme/u5/burst')));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    // Single-flight in the token service, and a refused token another request already replaced is not refreshed again.
    expect(refreshes(w) - before).toBe(1);
  });

  it('a connection whose refresh token the provider revoked is 409 connection_error (after the 401), with nothing more sent', async () => {
    await connectThroughBrowser(w, 'acme', 'u6');
    refused.add(await storedToken('u6'));
    const patched = await w.s.request('PATCH', '/v1/integrations/acme/connections/u6', { body: { credentials: { refreshToken: 'a-refresh-token-the-provider-never-issued' } } });
    expect(patched.status, patched.text).toBe(200);
    const before = up.seen.length;
    const res = await proxy('/v1/proxy/acme/u6/x');
    expect(res.status, res.text).toBe(409);
    expect(res.json).toMatchObject({ code: 'conflict', reason: 'connection_error' });
    expect(up.seen.length - before).toBe(1);
  });

  it('no token ever appears in a log line', async () => {
    const logs = w.s.logs.join('\n');
    for (const id of ['u1', 'u2', 'u3', 'u4', 'u5']) expect(logs).not.toContain(await storedToken(id));
    for (const token of refused) expect(logs).not.toContain(token);
  });
});
