/**
 * The audit hash chain: `verifyChain` on its own, then the live service on each engine —
 * what gets recorded (names, never values; every mutation and every denied call), and
 * tampering done directly in the database, reported at the right sequence number.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChainedFields, GENESIS_HASH, chainHash, verifyChain } from '../../src/audit/hash-chain.js';
import { type EngineName, type TestServer, githubIntegration, startTestServer } from '../support/harness.js';
import { postgresAvailable } from '../support/postgres.js';

type Event = ChainedFields & { hash: string };

/** The chain key of the unit tests (the service derives its own from the root key). */
const KEY = Buffer.alloc(32, 7);

/** A valid chain of `n` events for one tenant. */
function buildChain(n: number, tenantId = 'ten_x'): Event[] {
  const events: Event[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const fields: ChainedFields = {
      id: `evt_${seq}`,
      tenantId,
      seq,
      at: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)).toISOString(),
      actor: { type: 'api_key', keyId: `key_${seq % 3}`, userId: null },
      action: seq % 2 ? 'integrations.integration.create' : 'integrations.connection.update',
      resource: { type: 'integration', id: `int-${seq}` },
      outcome: 'success',
      status: 200,
      requestId: `req-${seq}`,
      ip: '127.0.0.1',
      changes: { fields: ['displayName'], secretsChanged: seq % 2 ? ['clientSecret'] : [] },
      prevHash: prev,
    };
    const hash = chainHash(fields, KEY);
    events.push({ ...fields, hash });
    prev = hash;
  }
  return events;
}

const headOf = (events: Event[]) => ({ seq: events.length, hash: events.at(-1)?.hash ?? GENESIS_HASH });
const clone = (events: Event[]): Event[] => structuredClone(events);

describe('verifyChain (unit)', () => {
  it('accepts an intact chain, and an empty one', () => {
    const chain = buildChain(8);
    expect(verifyChain(chain, KEY, headOf(chain))).toEqual({ ok: true, checked: 8, firstProblem: null });
    expect(verifyChain(chain, KEY)).toEqual({ ok: true, checked: 8, firstProblem: null });
    // Keyed: the same events under any other chain key do not verify.
    expect(verifyChain(chain, Buffer.alloc(32, 8)).firstProblem).toEqual({ seq: 1, problem: 'hash_mismatch' });
    expect(verifyChain([], KEY, { seq: 0, hash: GENESIS_HASH })).toEqual({ ok: true, checked: 0, firstProblem: null });
  });

  it('the hash covers every field but itself', () => {
    const [event] = buildChain(1);
    const edits: Partial<Record<keyof ChainedFields, unknown>> = {
      id: 'evt_other',
      tenantId: 'ten_other',
      seq: 1,
      at: '2025-01-01T00:00:01.001Z',
      actor: { type: 'api_key', keyId: 'key_other', userId: null },
      action: 'integrations.integration.delete',
      resource: { type: 'integration', id: 'other' },
      outcome: 'denied',
      status: 403,
      requestId: 'req-other',
      ip: '10.0.0.1',
      changes: { fields: ['displayName'], secretsChanged: [] },
      prevHash: 'f'.repeat(64),
    };
    for (const [field, value] of Object.entries(edits)) {
      if (field === 'seq') continue;
      const changed = { ...event!, [field]: value };
      expect(chainHash(changed, KEY), field).not.toBe(event!.hash);
    }
    expect(chainHash({ ...event!, hash: 'anything' }, KEY)).toBe(event!.hash);
  });

  it('reports an edited event as hash_mismatch at its seq', () => {
    const chain = buildChain(6);
    const mutations: [string, (e: Event) => void][] = [
      ['action', (e) => (e.action = 'audit.chain.verify')],
      ['outcome', (e) => (e.outcome = 'denied')],
      ['status', (e) => (e.status = 500)],
      ['changes', (e) => (e.changes = { fields: [], secretsChanged: [] })],
      ['actor', (e) => (e.actor = { type: 'system', keyId: null, userId: null })],
      ['at', (e) => (e.at = '2030-01-01T00:00:00.000Z')],
      ['resource', (e) => (e.resource = null)],
      ['ip', (e) => (e.ip = null)],
      ['hash', (e) => (e.hash = e.hash.replace(/^./, (c) => (c === '0' ? '1' : '0')))],
    ];
    for (const [name, mutate] of mutations) {
      const tampered = clone(chain);
      mutate(tampered[3]!);
      expect(verifyChain(tampered, KEY, headOf(chain)), name).toEqual({ ok: false, checked: 4, firstProblem: { seq: 4, problem: 'hash_mismatch' } });
    }
  });

  it('reports an edited and re-hashed event as a broken link at the next seq', () => {
    const chain = buildChain(6);
    const tampered = clone(chain);
    tampered[2]!.status = 204;
    tampered[2]!.hash = chainHash(tampered[2]!, KEY);
    expect(verifyChain(tampered, KEY, headOf(chain)).firstProblem).toEqual({ seq: 4, problem: 'broken_link' });
    // Re-hashing the last event is only caught by the stored head.
    const last = clone(chain);
    last[5]!.outcome = 'error';
    last[5]!.hash = chainHash(last[5]!, KEY);
    expect(verifyChain(last, KEY, headOf(chain)).firstProblem).toEqual({ seq: 7, problem: 'head_mismatch' });
  });

  it('reports a deleted event as a gap at its seq', () => {
    const chain = buildChain(7);
    for (const missing of [1, 3, 6]) {
      const tampered = chain.filter((e) => e.seq !== missing);
      expect(verifyChain(tampered, KEY, headOf(chain)).firstProblem, `seq ${missing}`).toEqual({ seq: missing, problem: 'gap' });
    }
  });

  it('reports reordering: swapped seq values, or events out of order', () => {
    const chain = buildChain(7);
    // Swap the seq of events 2 and 5 and read in seq order (what the database returns).
    const swapped = clone(chain);
    swapped[1]!.seq = 5;
    swapped[4]!.seq = 2;
    swapped.sort((a, b) => a.seq - b.seq);
    expect(verifyChain(swapped, KEY, headOf(chain)).firstProblem).toEqual({ seq: 2, problem: 'broken_link' });
    // Neighbouring swap too.
    const adjacent = clone(chain);
    adjacent[3]!.seq = 5;
    adjacent[4]!.seq = 4;
    adjacent.sort((a, b) => a.seq - b.seq);
    expect(verifyChain(adjacent, KEY, headOf(chain)).firstProblem).toEqual({ seq: 4, problem: 'broken_link' });
    // Out of order with their own seq values.
    const outOfOrder = clone(chain);
    [outOfOrder[2], outOfOrder[3]] = [outOfOrder[3]!, outOfOrder[2]!];
    expect(verifyChain(outOfOrder, KEY, headOf(chain)).firstProblem).toEqual({ seq: 3, problem: 'gap' });
    // A duplicated event.
    const duplicated = [...chain.slice(0, 3), chain[2]!, ...chain.slice(3)];
    expect(verifyChain(duplicated, KEY, headOf(chain)).firstProblem).toEqual({ seq: 4, problem: 'gap' });
  });

  it('reports a truncated tail against the stored head, at the first missing seq', () => {
    const chain = buildChain(9);
    for (const keep of [0, 1, 5, 8]) {
      expect(verifyChain(chain.slice(0, keep), KEY, headOf(chain)), `keep ${keep}`).toEqual({ ok: false, checked: keep, firstProblem: { seq: keep + 1, problem: 'head_mismatch' } });
    }
    // A head that does not match the last hash, or is behind.
    expect(verifyChain(chain, KEY, { seq: 9, hash: 'e'.repeat(64) }).firstProblem).toEqual({ seq: 10, problem: 'head_mismatch' });
    expect(verifyChain(chain, KEY, { seq: 8, hash: chain[7]!.hash }).firstProblem).toEqual({ seq: 10, problem: 'head_mismatch' });
  });

  it('detects any single tamper (property)', () => {
    const tamperArb = fc.oneof(
      fc.record({ kind: fc.constant('edit' as const), field: fc.constantFrom('action', 'outcome', 'status', 'ip', 'requestId', 'at', 'id', 'prevHash', 'hash') }),
      fc.record({ kind: fc.constant('delete' as const) }),
      fc.record({ kind: fc.constant('swap' as const), offset: fc.integer({ min: 1, max: 10 }) }),
      fc.record({ kind: fc.constant('truncate' as const) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 25 }), fc.nat(), tamperArb, (n, pick, tamper) => {
        const chain = buildChain(n);
        const at = pick % n;
        let tampered = clone(chain);
        let expectedSeq = at + 1;
        switch (tamper.kind) {
          case 'edit': {
            const e = tampered[at]! as unknown as Record<string, unknown>;
            e[tamper.field] = tamper.field === 'status' ? 299 : `${String(e[tamper.field])}x`;
            break;
          }
          case 'delete':
            tampered.splice(at, 1);
            break;
          case 'swap': {
            const other = (at + tamper.offset) % n;
            if (other === at) return;
            const [i, j] = [Math.min(at, other), Math.max(at, other)];
            tampered[i]!.seq = j + 1;
            tampered[j]!.seq = i + 1;
            tampered.sort((a, b) => a.seq - b.seq);
            expectedSeq = i + 1;
            break;
          }
          case 'truncate':
            tampered = tampered.slice(0, at);
            break;
        }
        const result = verifyChain(tampered, KEY, headOf(chain));
        expect(result.ok).toBe(false);
        expect(result.firstProblem!.seq).toBe(expectedSeq);
      }),
      { numRuns: 300 },
    );
  });
});

const pgUp = await postgresAvailable();
if (!pgUp) console.warn('\n!!! hash-chain.test.ts: PostgreSQL is not reachable, the PostgreSQL audit suite is SKIPPED (CI=true makes this an error)\n');
const engines: EngineName[] = pgUp ? ['sqlite', 'postgres'] : ['sqlite'];

describe.each(engines)('audit trail of the live service (%s)', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ engine, config: { logLevel: 'warn' } });
  });
  afterAll(async () => s?.close());

  const db = () => s.lk.services.store.db;
  const headSeq = async (tenantId: string) => Number((await db().selectFrom('tenants').select('audit_seq').where('id', '=', tenantId).executeTakeFirstOrThrow()).audit_seq);
  const lastEvent = async (tenantId: string) => db().selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
  const verify = async (key: string) => {
    const res = await s.request('POST', '/v1/audit-events/verify', { key });
    expect(res.status, res.text).toBe(200);
    return res.body as { ok: boolean; checked: number; firstProblem: { seq: number; problem: string } | null };
  };

  /** A fresh tenant with a few audited operations: its own chain to tamper with. */
  async function seededTenant(): Promise<{ tenantId: string; key: string; last: number }> {
    const { tenantId, adminKey: key } = await s.newTenant('Audit seed');
    const steps: [string, string, unknown][] = [
      ['POST', '/v1/integrations', githubIntegration('gh', 'seed-secret-1')],
      ['PATCH', '/v1/integrations/gh', { secrets: { clientSecret: 'seed-secret-2' } }],
      ['POST', '/v1/integrations/gh/connections', { id: 'c1', credentials: { type: 'oauth2', accessToken: 'seed-at', refreshToken: 'seed-rt' } }],
      ['PATCH', '/v1/integrations/gh/connections/c1', { credentials: { refreshToken: null } }],
      ['POST', '/v1/api-keys', { name: 'seed', role: 'viewer' }],
      ['DELETE', '/v1/integrations/gh/connections/c1', undefined],
    ];
    for (const [method, path, body] of steps) {
      const res = await s.request(method, path, { key, ...(body === undefined ? {} : { body }) });
      expect(res.status, res.text).toBeLessThan(300);
    }
    expect(await verify(key)).toEqual({ ok: true, checked: 6, firstProblem: null });
    return { tenantId, key, last: await headSeq(tenantId) };
  }

  it('records changed secret names, never values', async () => {
    const secretValues = ['gh-secret-audit-1', 'gh-secret-audit-2', 'at-audit-value', 'rt-audit-value', 'rt-audit-value-2'];
    const { adminKey: key, tenantId } = await s.newTenant('Audit names');
    expect((await s.request('POST', '/v1/integrations', { key, body: githubIntegration('gh', secretValues[0]) })).status).toBe(201);
    expect((await s.request('PATCH', '/v1/integrations/gh', { key, body: { displayName: 'GH', secrets: { clientSecret: secretValues[1] } } })).status).toBe(200);
    expect((await s.request('PATCH', '/v1/integrations/gh', { key, body: { description: 'no secret change' } })).status).toBe(200);
    expect((await s.request('POST', '/v1/integrations/gh/connections', { key, body: { id: 'c', credentials: { type: 'oauth2', accessToken: secretValues[2], refreshToken: secretValues[3] } } })).status).toBe(201);
    expect((await s.request('PATCH', '/v1/integrations/gh/connections/c', { key, body: { credentials: { refreshToken: secretValues[4] } } })).status).toBe(200);
    expect((await s.request('PATCH', '/v1/integrations/gh/connections/c', { key, body: { credentials: { refreshToken: null } } })).status).toBe(200);

    const list = await s.request('GET', '/v1/audit-events?limit=200', { key });
    expect(list.status, list.text).toBe(200);
    const changes = (list.body.data as { action: string; changes: unknown }[]).reverse().map((e) => [e.action, e.changes]);
    expect(changes).toEqual([
      ['integrations.integration.create', { fields: expect.arrayContaining(['provider', 'displayName', 'config']), secretsChanged: ['clientSecret'] }],
      ['integrations.integration.update', { fields: ['displayName'], secretsChanged: ['clientSecret'] }],
      ['integrations.integration.update', { fields: ['description'], secretsChanged: [] }],
      ['integrations.connection.create', { fields: expect.any(Array), secretsChanged: ['accessToken', 'refreshToken'] }],
      ['integrations.connection.update', { fields: [], secretsChanged: ['refreshToken'] }],
      ['integrations.connection.update', { fields: [], secretsChanged: ['refreshToken'] }],
    ]);
    const raw = JSON.stringify(await db().selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).execute());
    for (const value of secretValues) {
      expect(list.text).not.toContain(value);
      expect(raw).not.toContain(value);
    }
  });

  it('records every mutation, every failed mutation and every denied call', async () => {
    const { tenantId, adminKey: admin } = await s.newTenant('Audit coverage');
    const mkKey = async (role: string) => {
      const res = await s.request('POST', '/v1/api-keys', { key: admin, body: { name: role, role } });
      expect(res.status, res.text).toBe(201);
      return { key: res.body.key as string, id: res.body.apiKey.id as string };
    };
    const viewer = await mkKey('viewer');
    const runtime = await mkKey('runtime');
    const spare = await mkKey('operator');
    const adminKeyId = (await lastEvent(tenantId)).actor_key_id;

    const calls: { as: { key: string; id: string | null }; method: string; path: string; body?: unknown; headers?: Record<string, string>; status: number; action: string; outcome: 'success' | 'error' | 'denied'; resource?: string }[] = [];
    const me = { key: admin, id: adminKeyId };
    const add = (c: (typeof calls)[number]) => calls.push(c);
    add({ as: me, method: 'POST', path: '/v1/integrations', body: githubIntegration('gh', 'cov-secret'), status: 201, action: 'integrations.integration.create', outcome: 'success', resource: 'gh' });
    add({ as: me, method: 'POST', path: '/v1/integrations', body: githubIntegration('gh', 'cov-secret'), status: 409, action: 'integrations.integration.create', outcome: 'error' });
    add({ as: me, method: 'PATCH', path: '/v1/integrations/gh', body: { displayName: 'x' }, status: 200, action: 'integrations.integration.update', outcome: 'success', resource: 'gh' });
    add({ as: me, method: 'PATCH', path: '/v1/integrations/gh', body: { displayName: 'y' }, headers: { 'if-match': '"1"' }, status: 412, action: 'integrations.integration.update', outcome: 'error' });
    add({ as: me, method: 'PATCH', path: '/v1/integrations/nope', body: { displayName: 'y' }, status: 404, action: 'integrations.integration.update', outcome: 'error' });
    add({ as: me, method: 'PATCH', path: '/v1/integrations/gh', body: { secrets: { clientSecret: '********' } }, status: 422, action: 'integrations.integration.update', outcome: 'error' });
    add({ as: me, method: 'PUT', path: '/v1/integrations/gh', body: { provider: 'github', displayName: 'put', config: { clientId: 'c' } }, status: 200, action: 'integrations.integration.replace', outcome: 'success', resource: 'gh' });
    add({ as: me, method: 'POST', path: '/v1/integrations/gh/connections', body: { id: 'c1', credentials: { type: 'oauth2', accessToken: 'a' } }, status: 201, action: 'integrations.connection.create', outcome: 'success', resource: 'gh/c1' });
    add({ as: me, method: 'POST', path: '/v1/integrations/gh/connections', body: { id: 'c2', credentials: { type: 'oauth2' } }, status: 422, action: 'integrations.connection.create', outcome: 'error' });
    add({ as: me, method: 'PATCH', path: '/v1/integrations/gh/connections/c1', body: { credentials: { refreshToken: 'r' } }, status: 200, action: 'integrations.connection.update', outcome: 'success', resource: 'gh/c1' });
    add({ as: me, method: 'DELETE', path: '/v1/integrations/gh', status: 409, action: 'integrations.integration.delete', outcome: 'error' });
    add({ as: me, method: 'DELETE', path: '/v1/integrations/gh/connections/c1', status: 200, action: 'integrations.connection.delete', outcome: 'success', resource: 'gh/c1' });
    add({ as: me, method: 'DELETE', path: '/v1/integrations/gh/connections/c1', status: 404, action: 'integrations.connection.delete', outcome: 'error' });
    add({ as: me, method: 'DELETE', path: `/v1/api-keys/${spare.id}`, status: 200, action: 'access.apiKey.revoke', outcome: 'success', resource: spare.id });
    add({ as: viewer, method: 'POST', path: '/v1/integrations', body: githubIntegration('gh-viewer', 'viewer-secret'), status: 403, action: 'integrations.integration.create', outcome: 'denied' });
    add({ as: viewer, method: 'PATCH', path: '/v1/integrations/gh', body: { displayName: 'v' }, status: 403, action: 'integrations.integration.update', outcome: 'denied' });
    add({ as: viewer, method: 'POST', path: '/v1/api-keys', body: { name: 'v', role: 'admin' }, status: 403, action: 'access.apiKey.create', outcome: 'denied' });
    add({ as: runtime, method: 'GET', path: '/v1/integrations', status: 403, action: 'integrations.integration.list', outcome: 'denied' });
    add({ as: runtime, method: 'DELETE', path: '/v1/integrations/gh/connections/c1', status: 403, action: 'integrations.connection.delete', outcome: 'denied' });
    add({ as: me, method: 'POST', path: '/v1/tenants', body: { name: 'not the operator' }, status: 403, action: 'access.tenant.create', outcome: 'denied' });
    add({ as: me, method: 'DELETE', path: '/v1/integrations/gh?cascade=true', status: 200, action: 'integrations.integration.delete', outcome: 'success', resource: 'gh' });
    add({ as: me, method: 'POST', path: '/v1/audit-events/verify', status: 200, action: 'audit.chain.verify', outcome: 'success', resource: tenantId });

    for (const c of calls) {
      const before = await headSeq(tenantId);
      const res = await s.request(c.method, c.path, { key: c.as.key, ...(c.body === undefined ? {} : { body: c.body }), ...(c.headers ? { headers: c.headers } : {}) });
      const label = `${c.method} ${c.path} as ${c.as.id}`;
      expect(res.status, `${label}: ${res.text}`).toBe(c.status);
      expect(await headSeq(tenantId), `${label} appends exactly one event`).toBe(before + 1);
      const event = await lastEvent(tenantId);
      expect({ action: event.action, outcome: event.outcome, status: Number(event.status), keyId: event.actor_key_id, requestId: event.request_id }, label).toEqual({
        action: c.action,
        outcome: c.outcome,
        status: c.status,
        keyId: c.as.id,
        requestId: res.headers['x-request-id'],
      });
      if (c.resource) expect(event.resource_id, label).toBe(c.resource);
    }
    // A platform admin creating a tenant is recorded in the platform tenant's chain.
    const before = await headSeq('default');
    const created = await s.request('POST', '/v1/tenants', { body: { name: 'audited' } });
    expect(created.status).toBe(201);
    expect(await headSeq('default')).toBe(before + 1);
    expect((await lastEvent('default')).action).toBe('access.tenant.create');
    // The chain still verifies after all of it.
    expect(await verify(admin)).toMatchObject({ ok: true, firstProblem: null });
  });

  it('detects an edited field as hash_mismatch at that seq', async () => {
    const { tenantId, key } = await seededTenant();
    const where = (seq: number) => db().updateTable('audit_events').where('tenant_id', '=', tenantId).where('seq', '=', seq);
    const original = await db().selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).where('seq', '=', 2).executeTakeFirstOrThrow();
    const edits: [string, Record<string, unknown>][] = [
      ['changes (hide a secret change)', { changes: JSON.stringify({ fields: ['displayName'], secretsChanged: [] }) }],
      ['action', { action: 'integrations.integration.get' }],
      ['outcome', { outcome: 'denied' }],
      ['status', { status: 201 }],
      ['actor', { actor: JSON.stringify({ type: 'system', keyId: null, userId: null }) }],
      ['at', { at: '2020-01-01T00:00:00.000Z' }],
      ['resource', { resource_id: 'other' }],
      ['ip', { ip: '203.0.113.9' }],
      ['hash', { hash: 'a'.repeat(64) }],
    ];
    for (const [label, set] of edits) {
      await where(2).set(set).execute();
      const result = await verify(key);
      expect(result.firstProblem, label).toEqual({ seq: 2, problem: 'hash_mismatch' });
      expect(result.ok).toBe(false);
      const { id: _id, tenant_id: _t, seq: _s, ...restore } = original;
      await where(2).set(restore).execute();
      expect(await verify(key), `${label} restored`).toMatchObject({ ok: true, firstProblem: null });
    }
    // actor_key_id is a copy for filtering: the chain covers the actor JSON it came from.
    const actor = JSON.parse(original.actor) as { keyId: string };
    expect(actor.keyId).toBe(original.actor_key_id);
  });

  it('detects an edited row re-hashed without the chain key as a hash mismatch at that seq', async () => {
    const { tenantId, key } = await seededTenant();
    const row = await db().selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).where('seq', '=', 3).executeTakeFirstOrThrow();
    const { chainedFieldsOf } = await import('../../src/audit/audit-log.js');
    const forged = { ...chainedFieldsOf(row), outcome: 'error' };
    // A forger with database access but not the root key cannot compute a valid hash.
    await db().updateTable('audit_events').set({ outcome: 'error', hash: chainHash(forged, KEY) }).where('tenant_id', '=', tenantId).where('seq', '=', 3).execute();
    expect(await verify(key)).toMatchObject({ ok: false, checked: 3, firstProblem: { seq: 3, problem: 'hash_mismatch' } });
  });

  it('detects a deleted middle row as a gap at that seq', async () => {
    const { tenantId, key } = await seededTenant();
    await db().deleteFrom('audit_events').where('tenant_id', '=', tenantId).where('seq', '=', 4).execute();
    expect(await verify(key)).toMatchObject({ ok: false, checked: 4, firstProblem: { seq: 4, problem: 'gap' } });
  });

  it('detects two rows with swapped seq (reordering) at the first of them', async () => {
    const { tenantId, key } = await seededTenant();
    const setSeq = (from: number, to: number) => db().updateTable('audit_events').set({ seq: to }).where('tenant_id', '=', tenantId).where('seq', '=', from).execute();
    await setSeq(2, -1);
    await setSeq(5, 2);
    await setSeq(-1, 5);
    expect(await verify(key)).toMatchObject({ ok: false, checked: 2, firstProblem: { seq: 2, problem: 'broken_link' } });
  });

  it('detects deleted last rows (truncation) against the stored head, at the first missing seq', async () => {
    const { tenantId, key, last } = await seededTenant();
    // `last` is the seeding verify's own event; drop it and the one before.
    await db().deleteFrom('audit_events').where('tenant_id', '=', tenantId).where('seq', '>=', last - 1).execute();
    expect(await verify(key)).toMatchObject({ ok: false, checked: last - 2, firstProblem: { seq: last - 1, problem: 'head_mismatch' } });
  });

  it('keeps tenants apart: tampering with one chain leaves the others verifying', async () => {
    const a = await seededTenant();
    const b = await seededTenant();
    await db().updateTable('audit_events').set({ status: 418 }).where('tenant_id', '=', a.tenantId).where('seq', '=', 1).execute();
    expect((await verify(a.key)).firstProblem).toEqual({ seq: 1, problem: 'hash_mismatch' });
    expect(await verify(b.key)).toMatchObject({ ok: true, firstProblem: null });
    // Moving an event into another tenant's chain is detected there (tenantId is hashed).
    await db().updateTable('audit_events').set({ tenant_id: b.tenantId, seq: 1000 }).where('tenant_id', '=', a.tenantId).where('seq', '=', 2).execute();
    expect((await verify(b.key)).ok).toBe(false);
  });
});
