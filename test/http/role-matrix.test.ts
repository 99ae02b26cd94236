import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_CONTRACTS } from '../../src/contracts/index.js';
import { type PolicyKey, ROLES, type Role, grantsOf, rolePolicies } from '../../src/contracts/policies.js';
import { BOOTSTRAP_KEY, type TestResponse, type TestServer, startTestServer } from '../support/harness.js';
import { FIXTURES, callContract, createKey, expectProblem, fixtureFor } from './fixtures.js';

/** One caller of the matrix: a role plus explicit grants, in the platform tenant or another one. */
interface Caller {
  label: string;
  role: Role;
  policies: PolicyKey[];
  platform: boolean;
  key: string;
  keyId: string;
}

interface Outcome {
  caller: string;
  operation: string;
  path: string;
  requestId: string;
  allowed: boolean;
  platform: boolean;
}

const CALLER_SPECS: { label: string; role: Role; policies: PolicyKey[] }[] = [
  ...ROLES.map((role) => ({ label: role, role, policies: [] as PolicyKey[] })),
  // Grants that only come from explicit policies: runtime has none of these by its role.
  { label: 'runtime+explicit', role: 'runtime', policies: ['platform.integration.manage', 'platform.access.manage', 'platform.credential.reveal'] },
  { label: 'viewer+explicit', role: 'viewer', policies: ['platform.connection.manage', 'platform.audit.read'] },
];

describe('role × operation matrix', () => {
  let s: TestServer;
  let other: { tenantId: string; adminKey: string };
  const callers: Caller[] = [];
  const outcomes: Outcome[] = [];

  beforeAll(async () => {
    s = await startTestServer();
    other = await s.newTenant('Second tenant');
    for (const platform of [true, false]) {
      const adminKey = platform ? BOOTSTRAP_KEY : other.adminKey;
      for (const spec of CALLER_SPECS) {
        const created = await createKey(s, adminKey, { role: spec.role, policies: spec.policies });
        callers.push({ ...spec, label: `${platform ? 'platform' : 'tenant2'}/${spec.label}`, platform, key: created.key, keyId: created.id });
      }
    }
    // The platform tenant may hand out tenant.manage explicitly; another tenant may not.
    const tm = await createKey(s, BOOTSTRAP_KEY, { role: 'viewer', policies: ['platform.tenant.manage'] });
    callers.push({ label: 'platform/viewer+tenant.manage', role: 'viewer', policies: ['platform.tenant.manage'], platform: true, key: tm.key, keyId: tm.id });
  });
  afterAll(async () => s?.close());

  it('every contract has a fixture, and every fixture a contract', () => {
    for (const contract of ALL_CONTRACTS) fixtureFor(contract);
    expect(Object.keys(FIXTURES).sort()).toEqual(ALL_CONTRACTS.map((c) => c.meta.key).sort());
  });

  it('the policy bundles are what the spec says', () => {
    expect(rolePolicies('admin')).not.toContain('platform.credential.reveal');
    expect(rolePolicies('admin')).not.toContain('platform.tenant.manage');
    expect(grantsOf('admin', [], true).has('platform.tenant.manage')).toBe(true);
    expect(grantsOf('admin', [], false).has('platform.tenant.manage')).toBe(false);
    expect([...rolePolicies('runtime')].sort()).toEqual(['platform.connection.read', 'platform.connection.use']);
    expect(rolePolicies('viewer').every((p) => p.endsWith('.read'))).toBe(true);
    expect(rolePolicies('operator')).not.toContain('platform.access.manage');
  });

  for (const contract of ALL_CONTRACTS) {
    for (const path of [contract.http.path, ...(contract.http.aliases ?? [])]) {
      it(`${contract.meta.key} (${contract.http.method} ${path}) answers what each caller's grants imply`, async () => {
        const fixture = fixtureFor(contract);
        for (const caller of callers) {
          const grants = grantsOf(caller.role, caller.policies, caller.platform);
          const allowed = contract.policy.policies.every((p) => grants.has(p.key));
          const call = await fixture({ s, adminKey: caller.platform ? BOOTSTRAP_KEY : other.adminKey });
          const requestId = `rm-${outcomes.length}-${caller.label.replace(/[^A-Za-z0-9.-]/g, '_')}`;
          const res = await callContract(s, contract, call, { key: caller.key, path, headers: { 'x-request-id': requestId } });
          const what = `${caller.label} → ${contract.meta.key}: ${res.text}`;
          if (allowed) {
            expect(res.status, what).toBe(contract.http.successStatus ?? 200);
          } else {
            expectProblem(res, 403, 'forbidden');
            const missing = contract.policy.policies.filter((p) => !grants.has(p.key)).map((p) => p.key);
            for (const key of missing) expect(res.body.detail, what).toContain(key);
          }
          outcomes.push({ caller: caller.keyId, operation: contract.meta.key, path, requestId, allowed, platform: caller.platform });
        }
      });
    }
  }

  it('covers every contract for every caller, and tenant.manage belongs to platform admins (and explicit platform grants) only', () => {
    expect(new Set(outcomes.map((o) => o.operation)).size).toBe(ALL_CONTRACTS.length);
    const tenantOps = outcomes.filter((o) => o.operation.startsWith('access.tenant.'));
    const allowedBy = new Set(tenantOps.filter((o) => o.allowed).map((o) => callers.find((c) => c.keyId === o.caller)!.label));
    expect([...allowedBy].sort()).toEqual(['platform/admin', 'platform/viewer+tenant.manage']);
    expect(tenantOps.some((o) => !o.allowed && callers.find((c) => c.keyId === o.caller)!.label === 'tenant2/admin')).toBe(true);
  });

  it('another tenant cannot hand out platform.tenant.manage', async () => {
    const res = await s.request('POST', '/v1/api-keys', { key: other.adminKey, body: { name: 'sneaky', role: 'viewer', policies: ['platform.tenant.manage'] } });
    expectProblem(res, 403, 'forbidden');
  });

  it('every denied call wrote a `denied` audit event in its tenant, and no allowed call did', async () => {
    const denied = new Map<string, any>();
    for (const key of [BOOTSTRAP_KEY, other.adminKey]) {
      let cursor: string | null = null;
      do {
        const res: TestResponse = await s.request('GET', `/v1/audit-events?outcome=denied&limit=200${cursor ? `&cursor=${cursor}` : ''}`, { key });
        expect(res.status, res.text).toBe(200);
        for (const event of res.body.data) denied.set(event.requestId, event);
        cursor = res.body.nextCursor;
      } while (cursor);
    }
    expect(outcomes.some((o) => !o.allowed)).toBe(true);
    for (const o of outcomes) {
      const event = denied.get(o.requestId);
      if (!o.allowed) {
        expect(event, `denied audit event for ${o.requestId}`).toBeDefined();
        expect(event).toMatchObject({ action: o.operation, outcome: 'denied', status: 403, actor: { type: 'api_key', keyId: o.caller } });
      } else {
        expect(event, `no denied event for allowed ${o.requestId}`).toBeUndefined();
      }
    }
    // Denied events are chained like every other event.
    for (const key of [BOOTSTRAP_KEY, other.adminKey]) {
      const verify = await s.request('POST', '/v1/audit-events/verify', { key });
      expect(verify.body.ok, verify.text).toBe(true);
    }
  });
});
