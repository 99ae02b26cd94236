import type { ServerHandle } from './servers.js';

/** A small JSON client for seeding a server under test (not for measuring). */
export async function call<T = any>(server: ServerHandle, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (server.adminKey) headers.authorization = `Bearer ${server.adminKey}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed as T };
}

async function expectStatus(server: ServerHandle, method: string, path: string, status: number, body?: unknown) {
  const res = await call(server, method, path, body);
  if (res.status !== status) throw new Error(`${method} ${path} → ${res.status} (expected ${status}): ${JSON.stringify(res.body).slice(0, 500)}`);
  return res.body;
}

/** A GitHub OAuth integration, as in test/support/harness.ts. */
export function integrationBody(key: string) {
  return {
    key,
    provider: 'github',
    displayName: `Bench ${key}`,
    authMethod: 'oauth2',
    config: { clientId: 'Iv1.0123456789abcdef' },
    secrets: { clientSecret: 'bench-client-secret-value' },
  };
}

/** A connection with OAuth credentials, as in test/http/smoke.test.ts. */
export function connectionBody(id: string) {
  return {
    id,
    metadata: { team: 'bench', seq: id },
    credentials: { type: 'oauth2', accessToken: `gho_${id}_access`, refreshToken: `ghr_${id}_refresh`, expiresAt: '2030-01-01T00:00:00Z' },
  };
}

/** A PATCH that changes metadata and rotates the access token (refresh token carried forward). */
export function updateBody(id: string, rev: number) {
  return { metadata: { team: 'bench', seq: id, rev }, credentials: { accessToken: `gho_${id}_access_r${rev}` } };
}

export async function createIntegration(server: ServerHandle, key: string): Promise<void> {
  await expectStatus(server, 'POST', '/v1/integrations', 201, integrationBody(key));
}

/** Creates connections `ids` under `key`, `concurrency` at a time. */
export async function createConnections(server: ServerHandle, key: string, ids: string[], concurrency = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      await expectStatus(server, 'POST', `/v1/integrations/${key}/connections`, 201, connectionBody(id));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
}

export async function getConnection(server: ServerHandle, key: string, id: string): Promise<any> {
  return expectStatus(server, 'GET', `/v1/integrations/${key}/connections/${id}`, 200);
}

export function authHeaders(server: ServerHandle, json = false): Record<string, string> {
  const headers: Record<string, string> = {};
  if (server.adminKey) headers.authorization = `Bearer ${server.adminKey}`;
  if (json) headers['content-type'] = 'application/json';
  return headers;
}
