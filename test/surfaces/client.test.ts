/**
 * The typed client against a real server on a socket: every operation of the registry,
 * every problem class, If-Match, Idempotency-Key and pagination.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { AnyContract } from '../../src/contracts/define.js';
import { ALL_CONTRACTS } from '../../src/contracts/index.js';
import { GetIntegration, ListIntegrations } from '../../src/contracts/integrations/integration-contracts.js';
import { grantsOf } from '../../src/contracts/policies.js';
import { type FetchLike, Latchkey, LatchkeyProblem, OPERATIONS, methodNameOf, toHttpRequest } from '../../src/surfaces/client/index.js';
import { type ContractCall, createConnection, createIntegration, fixtureFor, unique } from '../http/fixtures.js';
import { type TestServer, githubIntegration, startTestServer } from '../support/harness.js';

/** A fixture's path parameters, query string, body and header fields, as one client input. */
const inputOf = (call: ContractCall, contract?: AnyContract): Record<string, unknown> => {
  const fromHeaders = Object.entries(contract?.http.headers ?? {}).flatMap(([field, header]) => {
    const value = Object.entries(call.headers ?? {}).find(([name]) => name.toLowerCase() === header.toLowerCase())?.[1];
    return value === undefined ? [] : [[field, value] as const];
  });
  return { ...(call.body as Record<string, unknown> | undefined), ...call.query, ...call.params, ...Object.fromEntries(fromHeaders) };
};

/** The harness's GitHub integration body, typed for the client (its authMethod is a literal). */
const gh = (key = unique('gh'), clientSecret?: string) => ({ ...githubIntegration(key, clientSecret), authMethod: 'oauth2' as const });

async function listen(s: TestServer): Promise<string> {
  await s.lk.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = s.lk.app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** Expects `promise` to reject with a LatchkeyProblem of this status and code, and returns it. */
async function problemOf(promise: Promise<unknown>, status: number, code: string): Promise<LatchkeyProblem> {
  const error = await promise.then(
    () => expect.fail(`expected a ${status} ${code} problem`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LatchkeyProblem);
  const problem = error as LatchkeyProblem;
  expect(problem.status, problem.message).toBe(status);
  expect(problem.code).toBe(code);
  expect(problem.problem.status).toBe(status);
  expect(problem.requestId).toMatch(/\S/);
  expect(problem.requestId).toBe(problem.problem.requestId);
  return problem;
}

describe('typed client (latchkey/client) against a running server', () => {
  let s: TestServer;
  let baseUrl: string;
  let lk: Latchkey;
  const outputs: string[] = [];

  beforeAll(async () => {
    s = await startTestServer();
    baseUrl = await listen(s);
    lk = new Latchkey({ baseUrl, apiKey: s.adminKey });
  });
  afterAll(async () => s?.close());

  it('has one method per operation of the registry, named after its contract', () => {
    const contracts = [...OPERATIONS.values()];
    for (const contract of ALL_CONTRACTS) {
      const name = methodNameOf(contract);
      expect(name, `${contract.meta.key} has no client method: export its module from src/surfaces/client/contract-modules.ts`).toBeDefined();
      const method = (lk as unknown as Record<string, { contract: AnyContract }>)[name!];
      expect(typeof method).toBe('function');
      expect(method!.contract).toBe(contract);
    }
    expect(contracts).toHaveLength(ALL_CONTRACTS.length);
    expect(lk.createIntegration.contract.meta.key).toBe('integrations.integration.create');
  });

  describe.each(ALL_CONTRACTS.map((c) => [c.meta.key, c] as const))('%s', (_key, contract) => {
    it('runs through its method with a valid input and returns its output schema', async () => {
      const call = await fixtureFor(contract)({ s, adminKey: s.adminKey });
      // Operations no role allows come with their own caller (see ContractCall.key).
      const client = call.key ? new Latchkey({ baseUrl, apiKey: call.key }) : lk;
      const method = (client as unknown as Record<string, (input: unknown, options: unknown) => Promise<any>>)[methodNameOf(contract)!]!;
      const response = await method(inputOf(call, contract), { raw: true });
      expect(response.status).toBe(contract.http.successStatus ?? 200);
      expect(response.requestId).toMatch(/\S/);
      const parsed = contract.io.output.safeParse(response.data);
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
      if (typeof response.data?.version === 'number') expect(response.etag).toBe(`"${response.data.version}"`);
      outputs.push(JSON.stringify(response.data));
    });
  });

  it('never returns the secret values the fixtures sent', () => {
    const text = outputs.join('\n');
    expect(outputs.length).toBe(ALL_CONTRACTS.length);
    for (const secret of ['gh-client-secret-value-1', 'gho_fixture_access', 'ghr_fixture_refresh', 'gho_new_access', 'gho_unsaved_access']) {
      expect(text).not.toContain(secret);
    }
  });

  it('whoAmI() answers any key with itself, its tenant and grants, never the key, and costs no denied audit event', async () => {
    const created = await lk.createApiKey({ name: 'who-am-i viewer', role: 'viewer', policies: ['platform.connection.manage'], workspaceId: 'ws-who' });
    const viewer = new Latchkey({ baseUrl, apiKey: created.key });
    const me = await viewer.whoAmI();
    expect(me).toMatchObject({
      key: { id: created.apiKey.id, name: 'who-am-i viewer', prefix: created.apiKey.prefix, expiresAt: null },
      tenant: { id: 'default', isPlatform: true },
      role: 'viewer',
      userId: null,
      workspaceId: 'ws-who',
      policies: ['platform.connection.manage'],
    });
    expect(me.grants).toEqual([...grantsOf('viewer', ['platform.connection.manage'], true)].sort());
    expect(me.grants).toContain('platform.self.read');
    expectTypeOf(me.role).toEqualTypeOf<'admin' | 'operator' | 'runtime' | 'viewer'>();
    expect(JSON.stringify(me)).not.toContain(created.key);
    const runtime = await new Latchkey({ baseUrl, apiKey: await s.newKey('runtime') }).whoAmI();
    expect(runtime.role).toBe('runtime');
    expect(runtime.grants).toEqual(['platform.connection.read', 'platform.connection.use', 'platform.self.read']);

    const denied = await lk.listAuditEvents({ outcome: 'denied', actorKeyId: created.apiKey.id, limit: 200 });
    expect(denied.data).toEqual([]);
    await lk.revokeApiKey({ id: created.apiKey.id });
    await problemOf(viewer.whoAmI(), 401, 'unauthenticated');
  });

  it('runs any operation by key with call(), and by contract with types', async () => {
    const key = await createIntegration(s, s.adminKey);
    const byKey = (await lk.call('integrations.integration.get', { key })) as { key: string };
    const byContract = await lk.call(GetIntegration, { key });
    expectTypeOf(byContract.version).toEqualTypeOf<number>();
    expect(byKey.key).toBe(key);
    expect(byContract.key).toBe(key);
    await expect(lk.call('no.such.operation', {})).rejects.toThrow(TypeError);
  });

  it('uses the alias path when an optional path parameter is left out', async () => {
    const key = await createIntegration(s, s.adminKey);
    const id = await createConnection(s, s.adminKey, key);
    expect(toHttpRequest(lk.listConnections.contract, { limit: 5 }).url).toBe('/v1/connections?limit=5');
    const all = await lk.listConnections({ limit: 200 });
    expect(all.data.some((c) => c.id === id && c.integration === key)).toBe(true);
    const one = await lk.listConnections({ key, limit: 200 });
    expect(one.data.map((c) => c.id)).toEqual([id]);
  });

  it('maps inputs to path, declared query fields and JSON body like the server', () => {
    expect(toHttpRequest(lk.deleteIntegration.contract, { key: 'a b/c', cascade: true })).toEqual({
      method: 'DELETE',
      url: '/v1/integrations/a%20b%2Fc?cascade=true',
      body: undefined,
    });
    expect(toHttpRequest(lk.updateConnection.contract, { key: 'k', id: 'u@x', verify: true, enabled: false })).toEqual({
      method: 'PATCH',
      url: '/v1/integrations/k/connections/u%40x?verify=true',
      body: { enabled: false },
    });
    expect(toHttpRequest(lk.verifyAuditChain.contract, {})).toEqual({ method: 'POST', url: '/v1/audit-events/verify', body: {} });
    expect(() => toHttpRequest(lk.getConnection.contract, { key: 'k' })).toThrow(/missing path parameter id/);
    expect(() => toHttpRequest(lk.getIntegration.contract, { key: 'k', displayName: 'x' })).toThrow(/cannot be sent with GET/);
  });

  it('takes base URL and key from LATCHKEY_URL and LATCHKEY_API_KEY', async () => {
    const saved = { url: process.env.LATCHKEY_URL, key: process.env.LATCHKEY_API_KEY };
    process.env.LATCHKEY_URL = `${baseUrl}/`;
    process.env.LATCHKEY_API_KEY = s.adminKey;
    try {
      const fromEnv = new Latchkey();
      expect(fromEnv.baseUrl).toBe(baseUrl);
      const page = await fromEnv.listProviders({ limit: 1 });
      expect(page.data).toHaveLength(1);
    } finally {
      for (const [name, value] of [['LATCHKEY_URL', saved.url], ['LATCHKEY_API_KEY', saved.key]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  describe('problems', () => {
    it('400 bad_request: a malformed Idempotency-Key, and a body that is not JSON', async () => {
      await problemOf(lk.createTenant({ name: unique('t') }, { idempotencyKey: 'has spaces in it' }), 400, 'bad_request');
      const corrupting: FetchLike = (url, init) => fetch(url, { ...init, body: '{"name": ' });
      const raw = new Latchkey({ baseUrl, apiKey: s.adminKey, fetch: corrupting });
      const problem = await problemOf(raw.createTenant({ name: 'x' }), 400, 'bad_request');
      expect(problem.operation).toBe('access.tenant.create');
    });

    it('401 unauthenticated: a wrong key, and no key', async () => {
      await problemOf(new Latchkey({ baseUrl, apiKey: 'lk_not_a_real_key_0123456789abcdef' }).listIntegrations(), 401, 'unauthenticated');
      const saved = process.env.LATCHKEY_API_KEY;
      process.env.LATCHKEY_API_KEY = s.adminKey;
      try {
        // null sends no key even when the environment has one.
        await problemOf(new Latchkey({ baseUrl, apiKey: null }).listIntegrations(), 401, 'unauthenticated');
      } finally {
        if (saved === undefined) delete process.env.LATCHKEY_API_KEY;
        else process.env.LATCHKEY_API_KEY = saved;
      }
    });

    it('403 forbidden: a viewer key creating an integration', async () => {
      const viewer = new Latchkey({ baseUrl, apiKey: await s.newKey('viewer') });
      await problemOf(viewer.createIntegration(gh()), 403, 'forbidden');
    });

    it('404 not_found', async () => {
      await problemOf(lk.getIntegration({ key: 'does-not-exist' }), 404, 'not_found');
    });

    it('409 conflict with its reason: duplicate key, delete blocked by connections', async () => {
      const key = await createIntegration(s, s.adminKey);
      expect((await problemOf(lk.createIntegration(gh(key)), 409, 'conflict')).reason).toBe('duplicate_key');
      await createConnection(s, s.adminKey, key);
      expect((await problemOf(lk.deleteIntegration({ key }), 409, 'conflict')).reason).toBe('connections_exist');
    });

    it('412 precondition_failed: a stale If-Match', async () => {
      const key = await createIntegration(s, s.adminKey);
      await lk.updateIntegration({ key, displayName: 'v2' });
      await problemOf(lk.updateIntegration({ key, displayName: 'stale' }, { ifMatch: 1 }), 412, 'precondition_failed');
    });

    it('413 payload_too_large', async () => {
      const key = await createIntegration(s, s.adminKey);
      const big = { blob: 'x'.repeat(1_100_000) };
      await problemOf(lk.createConnection({ key, id: 'big', metadata: big, credentials: { type: 'oauth2', accessToken: 'a' } }), 413, 'payload_too_large');
    });

    it('415 unsupported_media_type: a content type overridden per call', async () => {
      await problemOf(lk.createTenant({ name: unique('t') }, { headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
    });

    it('422 validation_failed with field errors, and no secret value in the problem', async () => {
      const bad = await problemOf(lk.createIntegration({ ...gh('not a key!'), displayName: '' }), 422, 'validation_failed');
      expect(bad.errors.map((e) => e.path)).toEqual(expect.arrayContaining(['key', 'displayName']));
      const masked = await problemOf(lk.createIntegration(gh(undefined, '********')), 422, 'validation_failed');
      expect(masked.errors.some((e) => e.path.startsWith('secrets'))).toBe(true);
      const secret = 'sk_live_canary_value_0123456789';
      const refused = await problemOf(lk.createIntegration({ ...gh(undefined, secret), provider: 'no_such_provider' }), 422, 'validation_failed');
      expect(JSON.stringify(refused.problem)).not.toContain(secret);
      expect(refused.message).not.toContain(secret);
    });

    it('429 rate_limited with Retry-After', async () => {
      const limited = await startTestServer({ config: { rateLimitPerSecond: 1 } });
      try {
        const client = new Latchkey({ baseUrl: await listen(limited), apiKey: limited.adminKey });
        let problem: LatchkeyProblem | undefined;
        for (let i = 0; i < 10 && !problem; i++) {
          problem = await client.listProviders({ limit: 1 }).then(
            () => undefined,
            (e: unknown) => e as LatchkeyProblem,
          );
        }
        expect(problem).toBeInstanceOf(LatchkeyProblem);
        expect(problem!.status).toBe(429);
        expect(problem!.code).toBe('rate_limited');
        expect(problem!.retryAfter).toBeGreaterThanOrEqual(1);
      } finally {
        await limited.close();
      }
    });

    it('a non-problem error body still becomes a LatchkeyProblem', async () => {
      const gateway: FetchLike = async () => new Response('<html>bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } });
      const problem = await new Latchkey({ baseUrl, apiKey: 'x', fetch: gateway }).listTenants().then(
        () => expect.fail('expected a problem'),
        (e: unknown) => e as LatchkeyProblem,
      );
      expect(problem).toBeInstanceOf(LatchkeyProblem);
      expect(problem.status).toBe(502);
      expect(problem.code).toBe('upstream_failed');
      expect(problem.errors).toEqual([]);
    });
  });

  describe('If-Match and ETag', () => {
    it('returns the ETag with { raw: true } and honours ifMatch as ETag, version or *', async () => {
      const key = await createIntegration(s, s.adminKey);
      const { data, etag } = await lk.getIntegration({ key }, { raw: true });
      expect(etag).toBe(`"${data.version}"`);
      const v2 = await lk.updateIntegration({ key, displayName: 'by etag' }, { ifMatch: etag! });
      expect(v2.version).toBe(data.version + 1);
      const v3 = await lk.updateIntegration({ key, displayName: 'by version' }, { ifMatch: v2.version });
      expect(v3.version).toBe(v2.version + 1);
      await problemOf(lk.updateIntegration({ key, displayName: 'stale etag' }, { ifMatch: etag! }), 412, 'precondition_failed');
      const v4 = await lk.updateIntegration({ key, displayName: 'any' }, { ifMatch: '*' });
      expect(v4.displayName).toBe('any');
      await problemOf(lk.deleteIntegration({ key }, { ifMatch: v3.version }), 412, 'precondition_failed');
      expect((await lk.deleteIntegration({ key }, { ifMatch: v4.version })).deleted).toBe(true);
    });
  });

  describe('Idempotency-Key', () => {
    it('replays the first response for a retried POST and refuses the key for another request', async () => {
      const idempotencyKey = unique('idem');
      const body = gh();
      const first = await lk.createIntegration(body, { idempotencyKey, raw: true });
      const again = await lk.createIntegration(body, { idempotencyKey, raw: true });
      expect(first.replayed).toBe(false);
      expect(again.replayed).toBe(true);
      expect(again.data.uid).toBe(first.data.uid);
      const reused = await problemOf(lk.createIntegration(gh(), { idempotencyKey }), 422, 'validation_failed');
      expect(reused.reason).toBe('idempotency_key_reused');
    });
  });

  describe('paginate', () => {
    it('walks 120 connections page by page over nextCursor', async () => {
      const key = await createIntegration(s, s.adminKey);
      const ids: string[] = [];
      for (let i = 0; i < 120; i++) {
        const created = await lk.createConnection({ key, id: `user-${String(i).padStart(3, '0')}`, credentials: { type: 'oauth2', accessToken: `tok-${i}` } });
        ids.push(created.id);
      }
      let requests = 0;
      const counting: FetchLike = (url, init) => {
        requests++;
        return fetch(url, init);
      };
      const client = new Latchkey({ baseUrl, apiKey: s.adminKey, fetch: counting });
      const seen: string[] = [];
      for await (const connection of client.paginate(client.listConnections, { key, limit: 50 })) {
        expectTypeOf(connection.id).toEqualTypeOf<string>();
        seen.push(connection.id);
      }
      expect(seen.sort()).toEqual(ids.sort());
      expect(requests).toBe(3);

      requests = 0;
      const firstFew: string[] = [];
      for await (const connection of client.paginate(ListIntegrations, { limit: 2 })) {
        firstFew.push(connection.key);
        if (firstFew.length === 3) break;
      }
      expect(firstFew).toHaveLength(3);
      expect(requests).toBe(2);
      let byKey = 0;
      for await (const _ of client.paginate('integrations.connection.list', { key, limit: 200 })) byKey++;
      expect(byKey).toBe(120);
      await expect(async () => {
        for await (const _ of client.paginate(GetIntegration as never, { key } as never)) void _;
      }).rejects.toThrow(/not a paginated list/);
    });

    it('passes the signal through to fetch', async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(lk.listProviders({}, { signal: controller.signal })).rejects.toThrow(/abort/i);
    });
  });

  it('has typed inputs and outputs', () => {
    expectTypeOf(lk.getIntegration).parameter(0).toEqualTypeOf<{ key: string }>();
    expectTypeOf<Awaited<ReturnType<typeof lk.deleteIntegration>>>().toEqualTypeOf<{ key: string; deleted: true; connectionsDeleted: number }>();
    expectTypeOf<Awaited<ReturnType<typeof lk.verifyAuditChain>>['ok']>().toEqualTypeOf<boolean>();
  });
});

describe('client imports', () => {
  it('reach nothing Node-only: only relative modules and zod', () => {
    const seen = new Set<string>();
    const external = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/^(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
        const spec = match[1]!;
        if (spec.startsWith('.')) walk(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
        else external.add(spec);
      }
    };
    walk(resolve('src/surfaces/client/index.ts'));
    expect(seen.size).toBeGreaterThan(5);
    expect([...external]).toEqual(['zod']);
    for (const file of seen) expect(readFileSync(file, 'utf8'), file).not.toMatch(/from ['"]node:|require\(/);
  });
});
