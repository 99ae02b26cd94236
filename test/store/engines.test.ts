import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestMigration, migrateToLatest } from '../../src/store/migrations.js';
import { type EngineName, type TestServer, githubIntegration, startTestServer } from '../support/harness.js';
import { postgresAvailable } from '../support/postgres.js';

const pgUp = await postgresAvailable();
const engines: EngineName[] = pgUp ? ['sqlite', 'postgres'] : ['sqlite'];

/** The same store behaviour, asserted on every engine (Kysely-style: one suite, all dialects). */
describe.each(engines)('store on %s', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ engine });
  });
  afterAll(async () => s?.close());

  it('has run every migration, and running them again changes nothing', async () => {
    const db = s.lk.services.store.db;
    const applied = await db.selectFrom('kysely_migration' as never).select('name' as never).execute();
    expect((applied as { name: string }[]).map((r) => r.name)).toContain(latestMigration());
    expect(await migrateToLatest(db, engine)).toEqual([]);
  });

  it('keeps the full lifecycle consistent', async () => {
    const created = await s.request('POST', '/v1/integrations', { body: githubIntegration('gh-life') });
    expect(created.status, created.text).toBe(201);
    const conn = await s.request('POST', '/v1/integrations/gh-life/connections', {
      body: { id: 'acct:42@example', labels: { env: 'prod' }, credentials: { type: 'oauth2', accessToken: 'a-token', scopes: ['repo'] } },
    });
    expect(conn.status, conn.text).toBe(201);
    expect(conn.body.credentials.scopes).toEqual(['repo']);
    const updated = await s.request('PATCH', '/v1/integrations/gh-life/connections/acct:42@example', {
      body: { metadata: { plan: 'pro' }, credentials: { refreshToken: 'r-token' } },
      headers: { 'if-match': '"1"' },
    });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body.credentials.hasSecrets).toEqual({ accessToken: true, refreshToken: true });
    expect(updated.body.uid).toBe(conn.body.uid);
    const stored = await s.lk.services.secrets.read(s.lk.services.store.db, 'default', 'connection', conn.body.uid);
    expect(stored).toEqual({ accessToken: 'a-token', refreshToken: 'r-token' });
    const dup = await s.request('POST', '/v1/integrations/gh-life/connections', { body: { id: 'acct:42@example', credentials: { type: 'oauth2', accessToken: 'x' } } });
    expect(dup.status).toBe(409);
    const del = await s.request('DELETE', '/v1/integrations/gh-life/connections/acct:42@example');
    expect(del.status).toBe(200);
    const rows = await s.lk.services.store.db.selectFrom('secrets').select('field').where('owner_uid', '=', conn.body.uid).execute();
    expect(rows).toEqual([]);
  });

  it('paginates by keyset across many connections without repeats or gaps', async () => {
    await s.request('POST', '/v1/integrations', { body: githubIntegration('gh-page') });
    const ids = Array.from({ length: 75 }, (_, i) => `user-${String(i).padStart(3, '0')}`);
    for (const id of ids) {
      const r = await s.request('POST', '/v1/integrations/gh-page/connections', { body: { id, credentials: { type: 'oauth2', accessToken: `t-${id}` } } });
      expect(r.status).toBe(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await s.request('GET', `/v1/integrations/gh-page/connections?limit=20${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status, page.text).toBe(200);
      seen.push(...page.body.data.map((c: { id: string }) => c.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids);
  });

  it('keeps one unbroken audit chain under concurrent writers', async () => {
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => s.request('POST', '/v1/integrations', { body: githubIntegration(`gh-par-${i}`) })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(25).fill(201));
    const verify = await s.request('POST', '/v1/audit-events/verify');
    expect(verify.body, verify.text).toMatchObject({ ok: true, firstProblem: null });
  });
});
