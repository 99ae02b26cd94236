/**
 * Shared helpers for the HTTP suites: one valid-input fixture per contract, a way to call
 * a contract through its own HTTP binding, the problem+json checks and a database
 * snapshot to prove a refused call changed nothing.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kysely } from 'kysely';
import { expect } from 'vitest';
import type { AnyContract } from '../../src/contracts/define.js';
import { ALL_CONTRACTS } from '../../src/contracts/index.js';
import { grantsOf } from '../../src/contracts/policies.js';
import { type TestResponse, type TestServer, githubIntegration } from '../support/harness.js';

/** A call to one contract: path parameters, query string, JSON body and header fields. */
export interface ContractCall {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  /** Headers that carry input fields (the contract's `http.headers`, e.g. X-Reveal-Reason). */
  headers?: Record<string, string>;
  /**
   * The key to call with when the caller names none: set by fixtures of operations that no
   * role's bundle allows (e.g. a reveal needs an explicit grant), in the fixture's tenant.
   */
  key?: string;
}

export interface FixtureContext {
  s: TestServer;
  /** Admin key of the tenant the prerequisites are created in. */
  adminKey: string;
}

export type Fixture = (ctx: FixtureContext) => Promise<ContractCall>;

let counter = 0;
/** A name unique within the test process. */
export const unique = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

async function mustCreate(s: TestServer, key: string, path: string, body: unknown): Promise<any> {
  const res = await s.request('POST', path, { key, body });
  if (res.status !== 201) throw new Error(`fixture set-up POST ${path} failed: ${res.status} ${res.text}`);
  return res.body;
}

export const createIntegration = (s: TestServer, adminKey: string, key = unique('gh')) =>
  mustCreate(s, adminKey, '/v1/integrations', githubIntegration(key)).then(() => key);

export async function createConnection(s: TestServer, adminKey: string, integration: string, id = unique('user')): Promise<string> {
  await mustCreate(s, adminKey, `/v1/integrations/${integration}/connections`, {
    id,
    metadata: { team: 'a' },
    credentials: { type: 'oauth2', accessToken: 'gho_fixture_access', refreshToken: 'ghr_fixture_refresh' },
  });
  return id;
}

/** Creates an API key and returns both the key and its id. */
export async function createKey(s: TestServer, adminKey: string, body: Record<string, unknown>): Promise<{ key: string; id: string }> {
  const created = await mustCreate(s, adminKey, '/v1/api-keys', { name: unique('key'), ...body });
  return { key: created.key, id: created.apiKey.id };
}

/** A key of `adminKey`'s tenant holding every policy `contract` needs: the admin key, or an admin key with the missing grants added explicitly. */
export async function keyHolding(s: TestServer, adminKey: string, contract: AnyContract): Promise<string> {
  const admin = grantsOf('admin', [], false);
  const missing = contract.policy.policies.map((p) => p.key).filter((key) => !admin.has(key) && key !== 'platform.tenant.manage');
  if (missing.length === 0) return adminKey;
  return (await createKey(s, adminKey, { role: 'admin', policies: missing })).key;
}

/** An endpoint that listens only to an event no fixture causes, so the dispatcher has nothing to send. */
const quietWebhook = (): Record<string, unknown> => ({ url: `https://hooks.example.com/${unique('hook')}`, events: ['connection.recovered'], description: 'fixture' });

async function createWebhook(s: TestServer, adminKey: string): Promise<string> {
  return (await mustCreate(s, adminKey, '/v1/webhooks', quietWebhook())).id;
}

/**
 * A loopback token endpoint for the OAuth fixtures: answers every grant with a fresh
 * bearer token. (The OAuth suites use a real authorization server; the matrix only needs
 * an endpoint that says yes.)
 */
let tokenEndpoint: Promise<string> | null = null;
function fixtureTokenUrl(): Promise<string> {
  tokenEndpoint ??= new Promise((resolve) => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: `fixture-at-${randomUUID()}`, token_type: 'Bearer', expires_in: 3600, refresh_token: `fixture-rt-${randomUUID()}` }));
      });
    });
    server.unref();
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/token`));
  });
  return tokenEndpoint;
}

/** A generic OAuth integration whose token endpoint is the loopback fixture endpoint (opened by its allow-list). */
async function createOAuthIntegration(s: TestServer, adminKey: string, authMethod: 'oauth2' | 'oauth2_client_credentials'): Promise<string> {
  const key = unique('oauth');
  const tokenUrl = await fixtureTokenUrl();
  await mustCreate(s, adminKey, '/v1/integrations', {
    key,
    provider: 'oauth2',
    displayName: 'Fixture OAuth',
    authMethod,
    networkAllowList: ['127.0.0.1'],
    config: { ...(authMethod === 'oauth2' ? { authorizationUrl: 'https://auth.example.com/authorize' } : {}), tokenUrl, baseUrl: 'https://api.example.com', clientId: 'fixture-client' },
    secrets: { clientSecret: 'fixture-client-secret' },
  });
  return key;
}

const withConnection = async ({ s, adminKey }: FixtureContext) => {
  const key = await createIntegration(s, adminKey);
  return { key, id: await createConnection(s, adminKey, key) };
};

/**
 * A valid input per contract key, with its prerequisites created as `adminKey`. Every
 * contract of the registry must have one (see `fixtureFor`), so a new operation cannot
 * slip past the matrix suites.
 */
export const FIXTURES: Record<string, Fixture> = {
  'integrations.provider.list': async () => ({ query: { limit: '5' } }),
  'integrations.provider.get': async () => ({ params: { provider: 'github' } }),
  'integrations.integration.create': async () => ({ body: githubIntegration(unique('gh')) }),
  'integrations.integration.get': async ({ s, adminKey }) => ({ params: { key: await createIntegration(s, adminKey) } }),
  'integrations.integration.list': async () => ({ query: { limit: '10', provider: 'github' } }),
  'integrations.integration.update': async ({ s, adminKey }) => ({
    params: { key: await createIntegration(s, adminKey) },
    body: { displayName: 'Renamed', config: { scopes: 'repo' } },
  }),
  'integrations.integration.replace': async ({ s, adminKey }) => ({
    params: { key: await createIntegration(s, adminKey) },
    body: { provider: 'github', displayName: 'Replaced', authMethod: 'oauth2', config: { clientId: 'Iv1.replaced' } },
  }),
  'integrations.integration.delete': async (ctx) => ({ params: { key: (await withConnection(ctx)).key }, query: { cascade: 'true' } }),
  'integrations.connection.create': async ({ s, adminKey }) => ({
    params: { key: await createIntegration(s, adminKey) },
    body: { id: unique('user'), metadata: { plan: 'pro' }, credentials: { type: 'oauth2', accessToken: 'gho_new_access' } },
  }),
  'integrations.connection.get': async (ctx) => ({ params: await withConnection(ctx) }),
  'integrations.connection.list': async ({ s, adminKey }) => ({ params: { key: await createIntegration(s, adminKey) }, query: { limit: '10' } }),
  'integrations.connection.update': async (ctx) => ({ params: await withConnection(ctx), body: { metadata: { plan: 'team' }, labels: { env: 'prod' } } }),
  'integrations.connection.delete': async (ctx) => ({ params: await withConnection(ctx) }),
  'integrations.connection.test': async (ctx) => ({ params: await withConnection(ctx) }),
  'integrations.integration.verify': async ({ s, adminKey }) => ({ params: { key: await createOAuthIntegration(s, adminKey, 'oauth2_client_credentials') } }),
  // The mint returns the access token by design: a token of its own, so suites that look for
  // the other fixtures' secrets in outputs do not find it here.
  'integrations.connection.token': async ({ s, adminKey }) => {
    const key = await createIntegration(s, adminKey);
    const id = unique('user');
    await mustCreate(s, adminKey, `/v1/integrations/${key}/connections`, { id, credentials: { type: 'oauth2', accessToken: 'gho_minted_for_the_mint_fixture' } });
    return { params: { key, id } };
  },
  'integrations.connection.refresh': async ({ s, adminKey }) => {
    const key = await createOAuthIntegration(s, adminKey, 'oauth2');
    return { params: { key, id: await createConnection(s, adminKey, key) } };
  },
  'connect.session.create': async ({ s, adminKey }) => ({
    body: { integration: await createIntegration(s, adminKey), connectionId: unique('user'), redirectUrl: 'https://app.example.com/done', expiresIn: 600 },
  }),
  'integrations.credentials.test': async ({ s, adminKey }) => ({
    body: { integration: await createIntegration(s, adminKey), credentials: { type: 'oauth2', accessToken: 'gho_unsaved_access' } },
  }),
  // runtime: a bundle every caller holding access.manage also holds (no key may grant more than it has).
  'access.apiKey.create': async () => ({ body: { name: unique('key'), role: 'runtime' } }),
  'access.apiKey.list': async () => ({ query: { limit: '10', includeRevoked: 'true' } }),
  'access.apiKey.revoke': async ({ s, adminKey }) => ({ params: { id: (await createKey(s, adminKey, { role: 'viewer' })).id } }),
  'access.tenant.create': async () => ({ body: { name: unique('tenant') } }),
  'access.tenant.list': async () => ({ query: { limit: '10' } }),
  'access.principal.whoami': async () => ({}),
  'audit.event.list': async () => ({ query: { limit: '10', outcome: 'success' } }),
  'audit.chain.verify': async () => ({ body: {} }),
  'keys.keyring.get': async () => ({}),
  'keys.dataKey.rotate': async () => ({ body: {} }),
  'keys.rootKey.rotate': async () => ({ body: {} }),
  'integrations.connection.reveal': async ({ s, adminKey }) => {
    const key = unique('gh-reveal');
    await mustCreate(s, adminKey, '/v1/integrations', { ...githubIntegration(key), allowReveal: true });
    const id = unique('user');
    await mustCreate(s, adminKey, `/v1/integrations/${key}/connections`, { id, credentials: { type: 'oauth2', accessToken: 'gho_reveal_fixture_access' } });
    // No role holds platform.credential.reveal: the fixture's own caller gets it explicitly.
    const revealer = await createKey(s, adminKey, { role: 'runtime', policies: ['platform.credential.reveal'] });
    return { params: { key, id }, headers: { 'x-reveal-reason': 'fixture: checking the stored token by hand' }, key: revealer.key };
  },
  'webhooks.endpoint.create': async () => ({ body: quietWebhook() }),
  'webhooks.endpoint.list': async () => ({ query: { limit: '10' } }),
  'webhooks.endpoint.get': async ({ s, adminKey }) => ({ params: { id: await createWebhook(s, adminKey) } }),
  'webhooks.endpoint.update': async ({ s, adminKey }) => ({
    params: { id: await createWebhook(s, adminKey) },
    body: { description: 'renamed', events: ['connection.recovered'], enabled: false },
  }),
  'webhooks.endpoint.delete': async ({ s, adminKey }) => ({ params: { id: await createWebhook(s, adminKey) } }),
  'webhooks.delivery.list': async ({ s, adminKey }) => ({ params: { id: await createWebhook(s, adminKey) }, query: { limit: '10', status: 'pending' } }),
};

/** The fixture of a contract; fails the test when a contract has none. */
export function fixtureFor(contract: AnyContract): Fixture {
  const fixture = FIXTURES[contract.meta.key];
  expect(fixture, `contract ${contract.meta.key} has no fixture in test/http/fixtures.ts: add a valid input for it`).toBeDefined();
  return fixture!;
}

export const pathParamsOf = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);

/** The URL of a call on one of the contract's paths (the main one by default). */
export function urlOf(contract: AnyContract, call: ContractCall, path = contract.http.path): string {
  const filled = path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = call.params?.[name];
    if (value === undefined) throw new Error(`${contract.meta.key}: no value for path parameter ${name}`);
    return encodeURIComponent(value);
  });
  const qs = new URLSearchParams(call.query ?? {}).toString();
  return qs ? `${filled}?${qs}` : filled;
}

export function callContract(
  s: TestServer,
  contract: AnyContract,
  call: ContractCall,
  opts: { key?: string | null; headers?: Record<string, string>; path?: string } = {},
): Promise<TestResponse> {
  const hasBody = call.body !== undefined && contract.http.method !== 'GET' && contract.http.method !== 'DELETE';
  const key = opts.key !== undefined ? opts.key : call.key;
  const headers = { ...call.headers, ...opts.headers };
  return s.request(contract.http.method, urlOf(contract, call, opts.path), {
    ...(key !== undefined ? { key } : {}),
    ...(hasBody ? { body: call.body } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
  });
}

export const hasBody = (c: AnyContract): boolean => c.http.method === 'POST' || c.http.method === 'PUT' || c.http.method === 'PATCH';
export const bodyContracts = (): AnyContract[] => ALL_CONTRACTS.filter(hasBody);
export const queryContracts = (): AnyContract[] => ALL_CONTRACTS.filter((c) => (c.http.query ?? []).length > 0);

const PROBLEM_FIELDS = ['type', 'title', 'status', 'detail', 'instance', 'code', 'requestId'] as const;

/** Asserts an RFC 9457 problem with every field, the status, and no stack trace. */
export function expectProblem(res: TestResponse, status: number, code?: string): void {
  expect(res.status, res.text).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  for (const field of PROBLEM_FIELDS) expect(res.body, `problem field ${field} in ${res.text}`).toHaveProperty(field);
  expect(res.body.status).toBe(status);
  if (code) expect(res.body.code, res.text).toBe(code);
  expect(res.body.requestId).toBe(res.headers['x-request-id']);
  expect(res.body).not.toHaveProperty('stack');
  expect(res.text).not.toMatch(/\n\s+at |\.ts:\d+|node_modules|Error: /);
}

/** Asserts a 422 whose `errors[].path` names `path` (exactly, or a field under it). */
export function expectFieldError(res: TestResponse, path: string): void {
  expectProblem(res, 422, 'validation_failed');
  const paths: string[] = (res.body.errors ?? []).map((e: { path: string }) => e.path);
  expect(paths.some((p) => p === path || p.startsWith(`${path}.`)), `errors ${JSON.stringify(paths)} should name ${path}`).toBe(true);
}

/**
 * Every durable row that a call could change (audit chain bookkeeping aside), plus the
 * number of successful audit events. Equal snapshots mean the call changed nothing.
 */
export async function dbSnapshot(s: TestServer, tenantId?: string) {
  // Untyped on purpose: the same select for every table.
  const db = s.lk.services.store.db as unknown as Kysely<any>;
  const rows = (table: string, ...order: string[]) => {
    let q = db.selectFrom(table).selectAll();
    if (tenantId) q = q.where('tenant_id', '=', tenantId);
    for (const column of order) q = q.orderBy(column);
    return q.execute();
  };
  let success = db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).where('outcome', '=', 'success');
  if (tenantId) success = success.where('tenant_id', '=', tenantId);
  return {
    tenants: await db.selectFrom('tenants').select(['id', 'name', 'is_platform', 'created_at']).orderBy('id').execute(),
    apiKeys: await rows('api_keys', 'id'),
    integrations: await rows('integrations', 'uid'),
    connections: await rows('connections', 'uid'),
    secrets: await rows('secrets', 'owner_uid', 'field'),
    idempotency: await rows('idempotency_keys', 'idem_key'),
    webhookEndpoints: await rows('webhook_endpoints', 'uid'),
    webhookDeliveries: await rows('webhook_deliveries', 'id'),
    successEvents: Number((await success.executeTakeFirstOrThrow()).n),
  };
}
