import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reusableQuery } from '../../src/store/reusable-query.js';
import type { Database } from '../../src/store/schema.js';
import { type EngineName, type TestServer, githubIntegration, startTestServer } from '../support/harness.js';
import { postgresAvailable } from '../support/postgres.js';

const engines: EngineName[] = (await postgresAvailable()) ? ['sqlite', 'postgres'] : ['sqlite'];

const byKey = (db: Kysely<Database>, tenantId: string, key: string) => db.selectFrom('integrations').select(['key', 'tenant_id']).where('tenant_id', '=', tenantId).where('key', '=', key);

describe.each(engines)('reusableQuery on %s', (engine) => {
  let s: TestServer;
  let db: Kysely<Database>;
  beforeAll(async () => {
    s = await startTestServer({ engine });
    db = s.lk.services.store.db;
    for (const key of ['rq-a', 'rq-b']) expect((await s.request('POST', '/v1/integrations', { body: githubIntegration(key) })).status).toBe(201);
  });
  afterAll(async () => s?.close());

  it('answers like the query built each time, for every argument value, on the handle and inside transactions', async () => {
    const reused = reusableQuery(byKey);
    for (const key of ['rq-a', 'rq-b', 'rq-missing', 'rq-a']) {
      expect(await reused(db, 'default', key)).toEqual(await byKey(db, 'default', key).execute());
    }
    await db.transaction().execute(async (trx) => {
      expect(await reused(trx, 'default', 'rq-b')).toEqual([{ key: 'rq-b', tenant_id: 'default' }]);
    });
    // Values that look like SQL stay values.
    expect(await reused(db, "default' or '1'='1", 'rq-a')).toEqual([]);
  });

  it('keeps the query\'s own constants and binds numbers and nulls', async () => {
    const reused = reusableQuery((d: Kysely<Database>, seq: number, note: string | null) =>
      d
        .selectFrom('audit_events')
        .select(['seq', sql<string>`coalesce(${note}, 'none')`.as('note')])
        .where('tenant_id', '=', 'default')
        .where('seq', '=', seq),
    );
    expect(await reused(db, 1, null)).toEqual([{ seq: 1, note: 'none' }]);
    expect(await reused(db, 1, 'given')).toEqual([{ seq: 1, note: 'given' }]);
    expect(await reused(db, 999_999, 'given')).toEqual([]);
  });

  it('refuses a build whose arguments do not each become one bound value', async () => {
    const twice = reusableQuery((d: Kysely<Database>, key: string) => d.selectFrom('integrations').select('key').where('key', '=', key).where('display_name', '=', key));
    await expect(twice(db, 'rq-a')).rejects.toThrow(/argument 0 is not bound exactly once/);
    const inString = reusableQuery((d: Kysely<Database>, key: string) => d.selectFrom('integrations').select('key').where('key', 'like', `${key}%`));
    await expect(inString(db, 'rq')).rejects.toThrow(/argument 0 is not bound exactly once/);
    expect(() => reusableQuery((d: Kysely<Database>, ...keys: string[]) => d.selectFrom('integrations').select('key').where('key', 'in', keys))).toThrow(/pass its arity/);
  });
});
