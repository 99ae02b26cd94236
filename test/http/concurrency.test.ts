import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineName, type TestServer, githubIntegration, startTestServer } from '../support/harness.js';
import { postgresAvailable } from '../support/postgres.js';
import { createConnection, createIntegration, expectProblem } from './fixtures.js';

// Races behave differently on the two engines (one serialised connection vs. a pool), so both run when PostgreSQL is up.
const engines: EngineName[] = (await postgresAvailable()) ? ['sqlite', 'postgres'] : ['sqlite'];

describe.each(engines)('concurrent writes (%s)', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ engine });
  });
  afterAll(async () => s?.close());

  async function race(path: string, bodyOf: (i: number) => unknown): Promise<void> {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => s.request('PATCH', path, { body: bodyOf(i), headers: { 'if-match': '"1"' } })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((x) => x === 200), statuses.join(',')).toHaveLength(1);
    expect(statuses.filter((x) => x === 412), statuses.join(',')).toHaveLength(19);
    for (const r of results.filter((x) => x.status === 412)) expectProblem(r, 412, 'precondition_failed');
    const winner = results.find((r) => r.status === 200)!;
    const final = await s.request('GET', path);
    expect(final.body.version).toBe(2);
    expect(final.body).toEqual(winner.body);
  }

  it('20 parallel PATCHes of one integration with the same If-Match: exactly one wins, version 2', async () => {
    await race(`/v1/integrations/${await createIntegration(s, s.adminKey)}`, (i) => ({ description: `writer ${i}` }));
  });

  it('20 parallel PATCHes of one connection with the same If-Match: exactly one wins, version 2', async () => {
    const key = await createIntegration(s, s.adminKey);
    await race(`/v1/integrations/${key}/connections/${await createConnection(s, s.adminKey, key)}`, (i) => ({ metadata: { writer: i } }));
  });

  it('parallel creates of one key: one 201, the rest 409', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => s.request('POST', '/v1/integrations', { body: githubIntegration('dup-race') })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 201)) expectProblem(r, 409, 'conflict');
  });

  it('parallel requests with one Idempotency-Key create one record; the others replay or wait (409)', async () => {
    const headers = { 'idempotency-key': 'concurrent-key' };
    const results = await Promise.all(Array.from({ length: 8 }, () => s.request('POST', '/v1/integrations', { body: githubIntegration('idem-race'), headers })));
    const fresh = results.filter((r) => r.status === 201 && !r.headers['idempotent-replayed']);
    expect(fresh).toHaveLength(1);
    for (const r of results) {
      if (r.status === 201) expect(r.body).toEqual(fresh[0]!.body);
      else expectProblem(r, 409, 'conflict');
    }
    const rows = await s.lk.services.store.db.selectFrom('integrations').select('uid').where('key', '=', 'idem-race').execute();
    expect(rows.map((r) => r.uid)).toEqual([fresh[0]!.body.uid]);
    const replay = await s.request('POST', '/v1/integrations', { body: githubIntegration('idem-race'), headers });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(fresh[0]!.body);
  });

  it('parallel PATCHes without If-Match all apply, in turn, with no spurious 412', async () => {
    const key = await createIntegration(s, s.adminKey);
    const id = await createConnection(s, s.adminKey, key);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => s.request('PATCH', `/v1/integrations/${key}/connections/${id}`, { body: { metadata: { writer: i }, credentials: { accessToken: `token-${i}` } } })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const final = await s.request('GET', `/v1/integrations/${key}/connections/${id}`);
    expect(final.body.version).toBe(21);
  });

  it('deletes racing updates, and integration deletes racing connection creates, never fail with 5xx', async () => {
    const key = await createIntegration(s, s.adminKey);
    const ids = await Promise.all(Array.from({ length: 10 }, () => createConnection(s, s.adminKey, key)));
    const mixed = await Promise.all(
      ids.flatMap((id) => [
        s.request('PATCH', `/v1/integrations/${key}/connections/${id}`, { body: { credentials: { accessToken: 'rotated' } } }),
        s.request('DELETE', `/v1/integrations/${key}/connections/${id}`),
      ]),
    );
    for (const r of mixed) expect([200, 404], r.text).toContain(r.status);

    const other = await createIntegration(s, s.adminKey);
    const creates = Array.from({ length: 10 }, (_, i) =>
      s.request('POST', `/v1/integrations/${other}/connections`, { body: { id: `late-${i}`, credentials: { type: 'oauth2', accessToken: 'a' } } }),
    );
    const deletion = s.request('DELETE', `/v1/integrations/${other}`);
    const [deleted, ...created] = await Promise.all([deletion, ...creates]);
    expect([200, 409], deleted.text).toContain(deleted.status);
    for (const r of created) expect([201, 404], r.text).toContain(r.status);
    // No connection survives its integration, and no secret row survives its connection.
    if (deleted.status === 200) {
      const orphans = await s.lk.services.store.db
        .selectFrom('secrets')
        .select('owner_uid')
        .where('owner_kind', '=', 'connection')
        .where((eb) => eb.not(eb.exists(eb.selectFrom('connections').select('uid').whereRef('connections.uid', '=', 'secrets.owner_uid'))))
        .execute();
      expect(orphans).toEqual([]);
    }
  });
});
