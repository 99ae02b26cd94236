import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestResponse, type TestServer, githubIntegration, startTestServer } from '../support/harness.js';
import { createConnection, createIntegration, dbSnapshot, expectFieldError } from './fixtures.js';

/**
 * Field-level refusals inside secrets, credentials, config, metadata, labels and tags,
 * on every operation that takes them. Each must be a 422 naming the field, never echo the
 * value, and leave the database exactly as it was.
 */
const MASKS = ['********', '__REDACTED__', '••••', '****abcd', '[REDACTED]', '<hidden>', 'xxxxxxxx', '  ********  ', '●●●●●●'];

describe('bad secrets, credentials and nested fields', () => {
  let s: TestServer;
  let integration: string;
  let connection: string;

  beforeAll(async () => {
    s = await startTestServer();
    integration = await createIntegration(s, s.adminKey, 'gh-bad-input');
    connection = await createConnection(s, s.adminKey, integration, 'conn-bad-input');
  });
  afterAll(async () => s?.close());

  /** The five ways to send integration secrets or connection credentials, with a valid base body. */
  const integrationWrites = () => [
    { method: 'POST', path: '/v1/integrations', base: githubIntegration('gh-new') as Record<string, unknown> },
    { method: 'PATCH', path: `/v1/integrations/${integration}`, base: {} as Record<string, unknown> },
    { method: 'PUT', path: `/v1/integrations/${integration}`, base: { ...githubIntegration(), key: undefined } as Record<string, unknown> },
  ];
  const connectionWrites = () => [
    { method: 'POST', path: `/v1/integrations/${integration}/connections`, base: { id: 'conn-new' } as Record<string, unknown> },
    { method: 'PATCH', path: `/v1/integrations/${integration}/connections/${connection}`, base: {} as Record<string, unknown> },
  ];

  async function refused(send: () => Promise<TestResponse>, field: string, leaked?: string) {
    const before = await dbSnapshot(s);
    const res = await send();
    expectFieldError(res, field);
    if (leaked) expect(res.text).not.toContain(leaked.trim());
    expect(await dbSnapshot(s), `state after ${res.text}`).toEqual(before);
  }

  it('mask-like secret values → 422 on secrets.<name>, never stored', async () => {
    for (const w of integrationWrites()) {
      for (const mask of MASKS) {
        await refused(() => s.request(w.method, w.path, { body: { ...w.base, secrets: { clientSecret: mask } } }), 'secrets.clientSecret');
      }
    }
  });

  it('mask-like credential values → 422 on credentials.<name>, never stored', async () => {
    for (const w of connectionWrites()) {
      for (const mask of MASKS) {
        const credentials = { type: 'oauth2', accessToken: 'gho_real_token', refreshToken: mask };
        await refused(() => s.request(w.method, w.path, { body: { ...w.base, credentials } }), 'credentials.refreshToken');
      }
    }
  });

  it('unknown secret names → 422 on secrets.<name>', async () => {
    for (const w of integrationWrites()) {
      await refused(() => s.request(w.method, w.path, { body: { ...w.base, secrets: { clientSecret: 'ok-secret-value', apiToken: 'sekrit-value-1' } } }), 'secrets.apiToken', 'sekrit-value-1');
      // A secret that exists for another auth method of the provider is unknown here too.
      await refused(() => s.request(w.method, w.path, { body: { ...w.base, secrets: { token: 'sekrit-value-2' } } }), 'secrets.token', 'sekrit-value-2');
    }
  });

  it('unknown credential names → 422 on credentials.<name>', async () => {
    for (const w of connectionWrites()) {
      const credentials = { type: 'oauth2', accessToken: 'gho_real_token', password: 'sekrit-value-3' };
      await refused(() => s.request(w.method, w.path, { body: { ...w.base, credentials } }), 'credentials.password', 'sekrit-value-3');
    }
  });

  it('secret values of the wrong type, empty or over-long → 422 naming the field, without echoing them', async () => {
    for (const w of integrationWrites()) {
      for (const value of [42, true, { v: 'x' }, ['x'], '', 'S'.repeat(64 * 1024 + 1)]) {
        await refused(() => s.request(w.method, w.path, { body: { ...w.base, secrets: { clientSecret: value } } }), 'secrets.clientSecret', typeof value === 'string' && value ? value : undefined);
      }
    }
    for (const w of connectionWrites()) {
      for (const value of [42, { v: 'x' }, '', 'S'.repeat(64 * 1024 + 1)]) {
        await refused(() => s.request(w.method, w.path, { body: { ...w.base, credentials: { type: 'oauth2', accessToken: value } } }), 'credentials.accessToken');
      }
      await refused(() => s.request(w.method, w.path, { body: { ...w.base, credentials: { type: 'oauth2', accessToken: 'a', expiresAt: 'soon' } } }), 'credentials.expiresAt');
      await refused(() => s.request(w.method, w.path, { body: { ...w.base, credentials: { type: 'oauth2', accessToken: 'a', scopes: 'repo' } } }), 'credentials.scopes');
      await refused(() => s.request(w.method, w.path, { body: { ...w.base, credentials: { type: 'telepathy', accessToken: 'a' } } }), 'credentials.type');
    }
  });

  it('config: unknown field, secret in config, wrong type, over-long key or value → 422 on config.<name>', async () => {
    for (const w of integrationWrites()) {
      const config = (extra: Record<string, unknown>) => ({ ...w.base, config: { clientId: 'Iv1.abc', ...extra } });
      await refused(() => s.request(w.method, w.path, { body: config({ colour: 'blue' }) }), 'config.colour');
      await refused(() => s.request(w.method, w.path, { body: config({ clientSecret: 'sekrit-value-4' }) }), 'config.clientSecret', 'sekrit-value-4');
      await refused(() => s.request(w.method, w.path, { body: config({ scopes: 42 }) }), 'config.scopes');
      await refused(() => s.request(w.method, w.path, { body: config({ scopes: 'r'.repeat(5000) }) }), 'config.scopes');
      await refused(() => s.request(w.method, w.path, { body: config({ ['k'.repeat(65)]: 'x' }) }), 'config');
    }
    for (const w of connectionWrites()) {
      const body = { ...w.base, config: { host: 'db.example.com' }, ...(w.method === 'POST' ? { credentials: { type: 'oauth2', accessToken: 'a' } } : {}) };
      await refused(() => s.request(w.method, w.path, { body }), 'config.host');
    }
  });

  it('metadata over 16 KiB, bad labels and tags → 422 naming the field', async () => {
    for (const w of connectionWrites()) {
      const creds = w.method === 'POST' ? { credentials: { type: 'oauth2', accessToken: 'a' } } : {};
      await refused(() => s.request(w.method, w.path, { body: { ...w.base, ...creds, metadata: { blob: 'm'.repeat(17 * 1024) } } }), 'metadata');
      await refused(() => s.request(w.method, w.path, { body: { ...w.base, ...creds, metadata: ['not', 'an', 'object'] } }), 'metadata');
      await refused(() => s.request(w.method, w.path, { body: { ...w.base, ...creds, labels: { env: 'v'.repeat(257) } } }), 'labels.env');
      await refused(() => s.request(w.method, w.path, { body: { ...w.base, ...creds, labels: { 'bad key!': 'x' } } }), 'labels');
      const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`l${i}`, 'x']));
      await refused(() => s.request(w.method, w.path, { body: { ...w.base, ...creds, labels: many } }), 'labels');
    }
    for (const w of integrationWrites()) {
      await refused(() => s.request(w.method, w.path, { body: { ...w.base, tags: ['t'.repeat(65)] } }), 'tags.0');
      await refused(() => s.request(w.method, w.path, { body: { ...w.base, tags: ['has space'] } }), 'tags.0');
      await refused(() => s.request(w.method, w.path, { body: { ...w.base, tags: Array.from({ length: 33 }, (_, i) => `t${i}`) } }), 'tags');
    }
  });

  it('semantic refusals name their field: unknown provider, auth method the provider lacks, past expiry', async () => {
    await refused(() => s.request('POST', '/v1/integrations', { body: { ...githubIntegration('gh-x'), provider: 'nosuchprovider' } }), 'provider');
    await refused(() => s.request('POST', '/v1/integrations', { body: { ...githubIntegration('gh-x'), authMethod: 'basic' } }), 'authMethod');
    await refused(() => s.request('PATCH', `/v1/integrations/${integration}`, { body: { authMethod: 'api_key' } }), 'authMethod');
    await refused(() => s.request('PUT', `/v1/integrations/${integration}`, { body: { ...githubIntegration(), key: undefined, provider: 'gitlab' } }), 'provider');
    await refused(() => s.request('POST', '/v1/api-keys', { body: { name: 'old', role: 'viewer', expiresAt: '2001-01-01T00:00:00Z' } }), 'expiresAt');
    await refused(() => s.request('POST', '/v1/api-keys', { body: { name: 'k', role: 'root' } }), 'role');
    await refused(() => s.request('POST', '/v1/api-keys', { body: { name: 'k', role: 'viewer', policies: ['platform.everything'] } }), 'policies.0');
  });

  it('the audit log recorded none of these as a success', async () => {
    const res = await s.request('GET', '/v1/audit-events?outcome=success&limit=200');
    const actions = res.body.data.map((e: any) => `${e.action} ${e.resource?.id}`);
    expect(actions).not.toContain('integrations.integration.create gh-new');
    expect(actions).not.toContain('integrations.integration.create gh-x');
    expect(actions.filter((a: string) => a.startsWith('integrations.integration.update') || a.startsWith('integrations.integration.replace'))).toEqual([]);
    expect(actions.filter((a: string) => a.startsWith('integrations.connection.update'))).toEqual([]);
  });
});
