import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/harness.js';
import { type Upstream, bearer, connection, httpIntegration, rawRequest, startUpstream } from './support.js';

const KEY = 'canary-reserved-key-3c9e70d1b4';

// Written over one of these, the credential would frame or route the request itself: with
// "Content-Length: <key>" or "Transfer-Encoding" a config author smuggles a second request
// onto a pooled keep-alive socket; with "Host" the first one goes to another virtual host.
const RESERVED = ['Content-Length', 'HOST', 'transfer-encoding', 'Connection', 'Keep-Alive', 'Upgrade', 'TE', 'Trailer', 'Expect', 'Cookie', 'Proxy-Authorization', 'proxy-connection', 'HTTP2-Settings'];

describe('proxy: a credential is never injected into a hop-by-hop, framing or routing header', () => {
  let s: TestServer;
  let up: Upstream;
  beforeAll(async () => {
    s = await startTestServer({ listen: true, config: { allowPrivateNetworks: true } });
    up = await startUpstream();
    await httpIntegration(s, 'keyed', 'api_key', up.url, { authHeader: 'X-API-Key', authPrefix: '' });
    await connection(s, 'keyed', 'c1', { type: 'api_key', apiKey: KEY });
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
  });

  const storedConfig = async (key: string) => {
    const row = await s.lk.services.store.db.selectFrom('integrations').select('config').where('key', '=', key).executeTakeFirst();
    return row ? (JSON.parse(row.config) as Record<string, unknown>) : undefined;
  };

  it('an integration naming one as config.authHeader is refused with a 422 on that field, and nothing is stored', async () => {
    for (const [i, header] of RESERVED.entries()) {
      for (const authMethod of ['api_key', 'pat']) {
        const key = `smuggle-${authMethod.replace('_', '')}-${i}`;
        const res = await s.request('POST', '/v1/integrations', { body: { key, provider: 'http', displayName: 'Smuggler', authMethod, config: { baseUrl: up.url, authHeader: header } } });
        expect(res.status, `${header}: ${res.text}`).toBe(422);
        expect(res.body.errors, header).toContainEqual(expect.objectContaining({ path: 'config.authHeader' }));
        expect(await storedConfig(key), header).toBeUndefined();
      }
    }
  });

  it('changing an integration\'s config.authHeader to one is refused too, and the stored config is kept', async () => {
    for (const header of ['Content-Length', 'Host']) {
      const res = await s.request('PATCH', '/v1/integrations/keyed', { body: { config: { baseUrl: up.url, authHeader: header, authPrefix: '' } } });
      expect(res.status, res.text).toBe(422);
      expect(res.body.errors).toContainEqual(expect.objectContaining({ path: 'config.authHeader' }));
      expect((await storedConfig('keyed'))?.authHeader).toBe('X-API-Key');
    }
    const ordinary = await s.request('PATCH', '/v1/integrations/keyed', { body: { config: { baseUrl: up.url, authHeader: 'X-Content-Length-Key', authPrefix: '' } } });
    expect(ordinary.status, ordinary.text).toBe(200);
  });

  it('a stored config naming one anyway (written before the check) makes the proxy refuse with a 409 before anything is sent', async () => {
    const original = await storedConfig('keyed');
    try {
      for (const header of ['Content-Length', 'Host', 'Transfer-Encoding', 'Proxy-Authorization']) {
        await s.lk.services.store.db.updateTable('integrations').set({ config: JSON.stringify({ ...original, authHeader: header }) }).where('key', '=', 'keyed').execute();
        const before = up.seen.length;
        const res = await rawRequest(s.baseUrl!, 'POST', '/v1/proxy/keyed/c1/items', { headers: { ...bearer(s.adminKey), 'content-type': 'text/plain' }, body: 'x' });
        expect(res.status, `${header}: ${res.text}`).toBe(409);
        expect(res.json).toMatchObject({ code: 'conflict', reason: 'proxy_misconfigured' });
        expect(res.text).toContain('config.authHeader');
        expect(res.text).not.toContain(KEY);
        expect(up.seen.length, header).toBe(before);
      }
    } finally {
      await s.lk.services.store.db.updateTable('integrations').set({ config: JSON.stringify(original) }).where('key', '=', 'keyed').execute();
    }
    const res = await rawRequest(s.baseUrl!, 'GET', '/v1/proxy/keyed/c1/items', { headers: bearer(s.adminKey) });
    expect(res.status, res.text).toBe(200);
    expect(up.seen[up.seen.length - 1]!.headers['x-content-length-key']).toBe(KEY);
  });

  it('the connection tester refuses it too: the test fails as misconfigured and nothing is sent', async () => {
    const original = await storedConfig('keyed');
    try {
      await s.lk.services.store.db.updateTable('integrations').set({ config: JSON.stringify({ ...original, authHeader: 'Content-Length' }) }).where('key', '=', 'keyed').execute();
      const before = up.seen.length;
      const res = await s.request('POST', '/v1/integrations/keyed/connections/c1/test');
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ ok: false, error: { code: 'misconfigured' } });
      expect(res.body.error.message).toContain('config.authHeader');
      expect(res.text).not.toContain(KEY);
      expect(up.seen.length).toBe(before);
    } finally {
      await s.lk.services.store.db.updateTable('integrations').set({ config: JSON.stringify(original) }).where('key', '=', 'keyed').execute();
    }
  });

  it('no credential value in any log line', () => {
    expect(s.logs.join('\n')).not.toContain(KEY);
  });
});
