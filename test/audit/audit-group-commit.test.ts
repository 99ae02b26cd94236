import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditInput } from '../../src/audit/audit-log.js';
import { AuditGroupCommit } from '../../src/audit/audit-group-commit.js';
import type { Database } from '../../src/store/schema.js';
import { type EngineName, type TestServer, startTestServer } from '../support/harness.js';
import { postgresAvailable } from '../support/postgres.js';

const engines: EngineName[] = (await postgresAvailable()) ? ['sqlite', 'postgres'] : ['sqlite'];

describe.each(engines)('audit group commit (%s)', (engine) => {
  let s: TestServer;
  let other: { tenantId: string; adminKey: string };
  let transactions = 0;
  let writer: AuditGroupCommit;
  beforeAll(async () => {
    s = await startTestServer({ engine });
    other = await s.newTenant('Group commit neighbour');
    const db = s.lk.services.store.db;
    // Counts transactions while passing everything else through.
    const counting = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop === 'transaction') return () => (transactions++, target.transaction());
        return Reflect.get(target, prop, receiver);
      },
    }) as Kysely<Database>;
    writer = new AuditGroupCommit(counting, s.lk.services.audit);
  });
  afterAll(async () => s?.close());

  const event = (tenantId: string, n: number): AuditInput => ({
    tenantId,
    at: new Date(),
    actor: { type: 'system', keyId: null, userId: null },
    action: 'integrations.proxy',
    resource: { type: 'connection', id: `gc/${n}` },
    outcome: 'success',
    status: 200,
    requestId: `req-${n}`,
    ip: null,
    changes: null,
  });

  it('concurrent writers share commits; every event is committed once, in arrival order per tenant, and both chains verify', async () => {
    transactions = 0;
    const n = 300;
    await Promise.all(Array.from({ length: n }, (_, i) => writer.write(event(i % 3 === 0 ? other.tenantId : 'default', i))));
    expect(transactions).toBeGreaterThanOrEqual(2);
    expect(transactions).toBeLessThan(n / 4);
    const rows = await s.lk.services.store.db.selectFrom('audit_events').select(['tenant_id', 'request_id', 'seq']).where('action', '=', 'integrations.proxy').orderBy('seq').execute();
    const order = (tenant: string) => rows.filter((r) => r.tenant_id === tenant).map((r) => Number(r.request_id!.slice(4)));
    const expected = (tenant: string) => Array.from({ length: n }, (_, i) => i).filter((i) => (i % 3 === 0) === (tenant === other.tenantId));
    expect(order('default')).toEqual(expected('default'));
    expect(order(other.tenantId)).toEqual(expected(other.tenantId));
    for (const key of [s.adminKey, other.adminKey]) {
      const verify = await s.request('POST', '/v1/audit-events/verify', { key });
      expect(verify.status, verify.text).toBe(200);
      expect(verify.body.ok).toBe(true);
    }
  });

  it('writes made in separate callbacks of one event-loop turn share a commit (a request that runs entirely in microtasks does not commit alone)', async () => {
    transactions = 0;
    // Each timer callback is like one socket read: with SQLite a request runs from it to its
    // audit write in microtasks. Committing at once would give one transaction per callback.
    const writes = await new Promise<Array<Promise<void>>>((resolve) => {
      const started: Array<Promise<void>> = [];
      for (let i = 0; i < 20; i++) setTimeout(() => started.push(writer.write(event('default', 3000 + i))), 0);
      setTimeout(() => resolve(started), 0);
    });
    await Promise.all(writes);
    expect(writes).toHaveLength(20);
    expect(transactions).toBeLessThanOrEqual(2);
  });

  it('a lone write pays exactly one commit, at once', async () => {
    transactions = 0;
    await writer.write(event('default', 1000));
    expect(transactions).toBe(1);
  });

  it('a failing tenant rejects only its own writers', async () => {
    const results = await Promise.allSettled([writer.write(event('default', 2000)), writer.write(event('no-such-tenant', 2001)), writer.write(event(other.tenantId, 2002))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
