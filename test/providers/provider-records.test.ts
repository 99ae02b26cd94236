import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/harness.js';

describe('provider records declare what a connection stores', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s?.close());

  it('names each auth method\'s credential fields and which are secret (write-only)', async () => {
    const stripe = await s.request('GET', '/v1/providers/stripe');
    expect(stripe.status, stripe.text).toBe(200);
    expect(stripe.body.credentials).toEqual([{ authMethod: 'api_key', type: 'api_key', deprecated: false, fields: [{ name: 'apiKey', secret: true, required: true, kind: 'string' }] }]);

    const github = await s.request('GET', '/v1/providers/github');
    const oauth = github.body.credentials.find((c: { type: string }) => c.type === 'oauth2');
    expect(oauth.authMethod).toBe('oauth2');
    const byName = Object.fromEntries(oauth.fields.map((f: { name: string }) => [f.name, f]));
    expect(byName.accessToken).toMatchObject({ secret: true, required: true });
    expect(byName.refreshToken).toMatchObject({ secret: true, required: false });
    expect(byName.expiresAt).toMatchObject({ secret: false, kind: 'datetime' });
    expect(github.body.credentials.find((c: { type: string }) => c.type === 'pat')?.fields).toEqual([{ name: 'token', secret: true, required: true, kind: 'string' }]);
  });

  it('marks the resource-owner password grant deprecated (RFC 9700), and nothing else', async () => {
    const list = await s.request('GET', '/v1/providers?limit=200');
    const all = list.body.data.flatMap((p: { credentials: Array<{ type: string; deprecated: boolean }> }) => p.credentials);
    expect(all.filter((c: { deprecated: boolean }) => c.deprecated).map((c: { type: string }) => c.type)).toEqual(expect.arrayContaining(['oauth2_password']));
    for (const c of all) expect(c.deprecated, c.type).toBe(c.type === 'oauth2_password');
  });

  it('covers every auth method of every provider in the list', async () => {
    const list = await s.request('GET', '/v1/providers?limit=200');
    expect(list.status, list.text).toBe(200);
    expect(list.body.data.length).toBeGreaterThanOrEqual(16);
    for (const provider of list.body.data) {
      const methods = new Set(provider.credentials.map((c: { authMethod: string }) => c.authMethod));
      expect([...methods].sort(), provider.key).toEqual([...provider.authMethods].sort());
      for (const c of provider.credentials) expect(c.fields.length, `${provider.key} ${c.type}`).toBeGreaterThan(0);
    }
  });
});
