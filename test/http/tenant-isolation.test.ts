import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyContract } from '../../src/contracts/define.js';
import { ALL_CONTRACTS } from '../../src/contracts/index.js';
import { type TestServer, githubIntegration, startTestServer } from '../support/harness.js';
import { testEngines } from '../support/postgres.js';
import { callContract, createConnection, createIntegration, createKey, dbSnapshot, expectProblem, fixtureFor, keyHolding, pathParamsOf } from './fixtures.js';

/** Path parameters that name a tenant's own records (providers are a shared catalog). */
const tenantParams = (c: AnyContract) => pathParamsOf(c.http.path).filter((p) => p !== 'provider');
const IDENTIFIED = ALL_CONTRACTS.filter((c) => tenantParams(c).length > 0);

describe.each(await testEngines('tenant-isolation.test.ts'))('tenant isolation (%s)', (engine) => {
  let s: TestServer;
  let a: { tenantId: string; adminKey: string };
  let b: { tenantId: string; adminKey: string };

  /** Everything tenant A can see about itself through the API. */
  async function viewOfA() {
    const get = async (path: string) => {
      const res = await s.request('GET', path, { key: a.adminKey });
      expect(res.status, res.text).toBe(200);
      return res.body;
    };
    return {
      integrations: await get('/v1/integrations?limit=200'),
      connections: await get('/v1/connections?limit=200'),
      apiKeys: await get('/v1/api-keys?limit=200&includeRevoked=true'),
    };
  }

  beforeAll(async () => {
    s = await startTestServer({ engine });
    a = await s.newTenant('Tenant A');
    b = await s.newTenant('Tenant B');
    // Some of B's own records, so B's lists are not trivially empty.
    const bKey = await createIntegration(s, b.adminKey, 'b-only');
    await createConnection(s, b.adminKey, bKey, 'b-user');
  });
  afterAll(async () => s?.close());

  it('has identifier-taking operations to check', () => {
    expect(IDENTIFIED.map((c) => c.meta.key)).toEqual(
      expect.arrayContaining(['integrations.integration.get', 'integrations.connection.update', 'access.apiKey.revoke']),
    );
  });

  for (const contract of IDENTIFIED) {
    it(`${contract.meta.key} with another tenant's identifiers answers 404 and changes nothing`, async () => {
      const call = await fixtureFor(contract)({ s, adminKey: a.adminKey });
      // B's caller holds every policy the operation needs (a reveal needs an explicit grant).
      const bKey = await keyHolding(s, b.adminKey, contract);
      const beforeView = await viewOfA();
      const beforeA = await dbSnapshot(s, a.tenantId);
      const beforeB = await dbSnapshot(s, b.tenantId);
      // Commands with no version to compare refuse If-Match before looking anything up (400, http-conventions.test.ts).
      const conditional = contract.kind === 'query' || contract.http.ifMatch === true;
      const headerSets = (conditional ? [{}, { 'if-match': '*' }, { 'if-match': '"1"' }] : [{}]) as Record<string, string>[];
      for (const headers of headerSets) {
        const res = await callContract(s, contract, call, { key: bKey, headers });
        expectProblem(res, 404, 'not_found');
        // The answer must not confirm that the record exists anywhere.
        expect(res.text).not.toContain(a.tenantId);
      }
      expect(await dbSnapshot(s, a.tenantId)).toEqual(beforeA);
      expect(await viewOfA()).toEqual(beforeView);
      const afterB = await dbSnapshot(s, b.tenantId);
      expect({ ...afterB, successEvents: 0 }).toEqual({ ...beforeB, successEvents: 0 });
      expect(afterB.successEvents).toBe(beforeB.successEvents);
      // And A itself can still use the identifiers (they were valid all along).
      const own = await callContract(s, contract, call, { key: call.key ?? a.adminKey });
      expect(own.status, own.text).toBe(contract.http.successStatus ?? 200);
    });
  }

  it('the same integration key in two tenants names two different records', async () => {
    await createIntegration(s, a.adminKey, 'shared');
    await createIntegration(s, b.adminKey, 'shared');
    await createConnection(s, a.adminKey, 'shared', 'same-user');
    await createConnection(s, b.adminKey, 'shared', 'same-user');
    const aBefore = await s.request('GET', '/v1/integrations/shared/connections/same-user', { key: a.adminKey });
    const patched = await s.request('PATCH', '/v1/integrations/shared', { key: b.adminKey, body: { displayName: 'B renamed' }, headers: { 'if-match': '"1"' } });
    expect(patched.status, patched.text).toBe(200);
    const deleted = await s.request('DELETE', '/v1/integrations/shared?cascade=true', { key: b.adminKey });
    expect(deleted.body.connectionsDeleted).toBe(1);
    const aIntegration = await s.request('GET', '/v1/integrations/shared', { key: a.adminKey });
    expect(aIntegration.body).toMatchObject({ displayName: githubIntegration().displayName, version: 1 });
    const aAfter = await s.request('GET', '/v1/integrations/shared/connections/same-user', { key: a.adminKey });
    expect(aAfter.status).toBe(200);
    expect(aAfter.body).toEqual(aBefore.body);
  });

  it('lists never show another tenant\'s records', async () => {
    const aInt = await createIntegration(s, a.adminKey);
    await createConnection(s, a.adminKey, aInt);
    const aKey = await createKey(s, a.adminKey, { role: 'viewer' });
    const db = s.lk.services.store.db;
    const aUids = new Set((await db.selectFrom('integrations').select('uid').where('tenant_id', '=', a.tenantId).execute()).map((r) => r.uid));
    const aConnUids = new Set((await db.selectFrom('connections').select('uid').where('tenant_id', '=', a.tenantId).execute()).map((r) => r.uid));
    const aKeyIds = new Set((await db.selectFrom('api_keys').select('id').where('tenant_id', '=', a.tenantId).execute()).map((r) => r.id));
    expect(aKeyIds.has(aKey.id)).toBe(true);

    for (const key of [b.adminKey, await createKey(s, b.adminKey, { role: 'viewer' }).then((k) => k.key)]) {
      const integrations = await s.request('GET', '/v1/integrations?limit=200', { key });
      expect(integrations.body.data.length).toBeGreaterThan(0);
      for (const r of integrations.body.data) expect(aUids.has(r.uid)).toBe(false);
      const connections = await s.request('GET', '/v1/connections?limit=200', { key });
      expect(connections.body.data.length).toBeGreaterThan(0);
      for (const r of connections.body.data) expect(aConnUids.has(r.uid)).toBe(false);
    }
    const keys = await s.request('GET', '/v1/api-keys?limit=200&includeRevoked=true', { key: b.adminKey });
    expect(keys.body.data.length).toBeGreaterThan(0);
    for (const r of keys.body.data) expect(aKeyIds.has(r.id)).toBe(false);
    const events = await s.request('GET', '/v1/audit-events?limit=200', { key: b.adminKey });
    expect(events.body.data.length).toBeGreaterThan(0);
    for (const e of events.body.data) {
      expect(aKeyIds.has(e.actor.keyId)).toBe(false);
      expect(aUids.has(e.resource?.id)).toBe(false);
    }
    // Filtering by A's key id or by A's records finds nothing either.
    const filtered = await s.request('GET', `/v1/audit-events?actorKeyId=${[...aKeyIds][0]}`, { key: b.adminKey });
    expect(filtered.body.data).toEqual([]);
    const byResource = await s.request('GET', `/v1/audit-events?resourceType=integration&resourceId=${aInt}`, { key: b.adminKey });
    expect(byResource.body.data).toEqual([]);
    // Tenants are listed only to platform operators.
    expectProblem(await s.request('GET', '/v1/tenants', { key: b.adminKey }), 403, 'forbidden');
  });

  it('the tenant comes from the key, never from the body', async () => {
    const before = await dbSnapshot(s);
    const res = await s.request('POST', '/v1/integrations', { key: b.adminKey, body: { ...githubIntegration('forged'), tenantId: a.tenantId } });
    expectProblem(res, 422, 'validation_failed');
    expect(await dbSnapshot(s)).toEqual(before);
  });

  it('Idempotency-Keys are per tenant: the same key in another tenant is a new request', async () => {
    const body = githubIntegration('idem-shared');
    const headers = { 'idempotency-key': 'same-key-in-two-tenants' };
    const first = await s.request('POST', '/v1/integrations', { key: a.adminKey, body, headers });
    expect(first.status, first.text).toBe(201);
    const second = await s.request('POST', '/v1/integrations', { key: b.adminKey, body, headers });
    expect(second.status, second.text).toBe(201);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(second.body.uid).not.toBe(first.body.uid);
    const inB = await s.request('GET', '/v1/integrations/idem-shared', { key: b.adminKey });
    expect(inB.body.uid).toBe(second.body.uid);
  });
});
