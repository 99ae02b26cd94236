import type { TestServer } from '../../support/harness.js';

/** What a test wrote: per connection, the credential values it expects to read back. */
export interface Written {
  integration: string;
  tenantId: string;
  key: string;
  connections: Map<string, { uid: string; values: Record<string, string> }>;
}

let n = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(n++).toString(36)}`;

/** Creates an integration (with its client secret) and `count` connections with two secrets each, through the API. */
export async function seedConnections(s: TestServer, adminKey: string, tenantId: string, count: number): Promise<Written> {
  const integration = unique('gh');
  const clientSecret = `client-secret-${unique('v')}`;
  const created = await s.request('POST', '/v1/integrations', {
    key: adminKey,
    body: { key: integration, provider: 'github', displayName: 'GitHub', authMethod: 'oauth2', config: { clientId: 'Iv1.abc' }, secrets: { clientSecret } },
  });
  if (created.status !== 201) throw new Error(`seed: ${created.text}`);
  const written: Written = { integration, tenantId, key: adminKey, connections: new Map() };
  for (let i = 0; i < count; i++) {
    const id = `user-${i}`;
    const values = { accessToken: `gho_${unique('access')}`, refreshToken: `ghr_${unique('refresh')}` };
    const res = await s.request('POST', `/v1/integrations/${integration}/connections`, {
      key: adminKey,
      body: { id, credentials: { type: 'oauth2', ...values } },
    });
    if (res.status !== 201) throw new Error(`seed: ${res.text}`);
    written.connections.set(id, { uid: res.body.uid, values });
  }
  return written;
}

/** Replaces one connection's access token through the API and records the value expected back. */
export async function updateToken(s: TestServer, w: Written, id: string): Promise<void> {
  const accessToken = `gho_${unique('rewritten')}`;
  const res = await s.request('PATCH', `/v1/integrations/${w.integration}/connections/${id}`, { key: w.key, body: { credentials: { type: 'oauth2', accessToken } } });
  if (res.status !== 200) throw new Error(`update: ${res.status} ${res.text}`);
  w.connections.get(id)!.values.accessToken = accessToken;
}

/** Every value written reads back exactly (decrypting with the server's keyring). */
export async function readBack(s: TestServer, w: Written): Promise<Array<{ id: string; expected: Record<string, string>; actual: Record<string, string> }>> {
  const out = [];
  for (const [id, c] of w.connections) {
    const actual = await s.lk.services.secrets.read(s.lk.services.store.db, w.tenantId, 'connection', c.uid);
    out.push({ id, expected: c.values, actual });
  }
  return out;
}
