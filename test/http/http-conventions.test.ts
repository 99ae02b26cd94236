import { startIdempotencyPurge } from '../../src/store/idempotency-purge.js';
import { IdempotencyStore } from '../../src/store/idempotency-store.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestResponse, type TestServer, githubIntegration, startTestServer } from '../support/harness.js';
import { testEngines } from '../support/postgres.js';
import { createConnection, createIntegration, dbSnapshot, expectProblem } from './fixtures.js';

/** ETag/If-Match, Idempotency-Key and cursor pagination (races: concurrency.test.ts; headers and auth: http-basics.test.ts). */
describe.each(await testEngines('http-conventions.test.ts'))('HTTP conventions (%s)', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ engine });
  });
  afterAll(async () => s?.close());

  describe('ETag and If-Match', () => {
    it('single-record responses carry the version as ETag', async () => {
      const created = await s.request('POST', '/v1/integrations', { body: githubIntegration('etag-1') });
      expect(created.headers.etag).toBe('"1"');
      expect((await s.request('GET', '/v1/integrations/etag-1')).headers.etag).toBe('"1"');
      const conn = await s.request('POST', '/v1/integrations/etag-1/connections', { body: { id: 'c1', credentials: { type: 'oauth2', accessToken: 'a' } } });
      expect(conn.headers.etag).toBe('"1"');
      const patched = await s.request('PATCH', '/v1/integrations/etag-1/connections/c1', { body: { labels: { a: 'b' } } });
      expect(patched.headers.etag).toBe('"2"');
      expect((await s.request('GET', '/v1/integrations/etag-1/connections/c1')).headers.etag).toBe('"2"');
      expect((await s.request('GET', '/v1/integrations')).headers.etag).toBeUndefined();
    });

    const writes = (key: string) => [
      { method: 'PATCH', path: `/v1/integrations/${key}`, body: { description: 'changed' } },
      { method: 'PUT', path: `/v1/integrations/${key}`, body: { ...githubIntegration(), key: undefined, displayName: 'Put' } },
      { method: 'PATCH', path: `/v1/integrations/${key}/connections/c`, body: { metadata: { x: 1 } } },
      { method: 'DELETE', path: `/v1/integrations/${key}/connections/c` },
      { method: 'DELETE', path: `/v1/integrations/${key}?cascade=true` },
    ];

    it('a stale or malformed If-Match → 412 and nothing changes; a matching one, W/ or * succeeds', async () => {
      const key = await createIntegration(s, s.adminKey);
      await createConnection(s, s.adminKey, key, 'c');
      for (const w of writes(key)) {
        for (const ifMatch of ['"7"', '"0"', 'garbage', '7', '"7", "8"', '"1", garbage', '"abc"', '']) {
          const before = await dbSnapshot(s);
          const res = await s.request(w.method, w.path, { body: w.body, headers: { 'if-match': ifMatch } });
          expectProblem(res, 412, 'precondition_failed');
          expect(await dbSnapshot(s)).toEqual(before);
        }
      }
      const [patch, put, connPatch, connDelete, del] = writes(key);
      expect((await s.request(patch!.method, patch!.path, { body: patch!.body, headers: { 'if-match': '"1"' } })).status).toBe(200);
      expect((await s.request(put!.method, put!.path, { body: put!.body, headers: { 'if-match': 'W/"2"' } })).status).toBe(200);
      expect((await s.request(connPatch!.method, connPatch!.path, { body: connPatch!.body, headers: { 'if-match': '*' } })).status).toBe(200);
      expect((await s.request(connDelete!.method, connDelete!.path, { headers: { 'if-match': '"2"' } })).status).toBe(200);
      const deleted = await s.request(del!.method, del!.path, { headers: { 'if-match': '"3"' } });
      expect(deleted.status, deleted.text).toBe(200);
    });

    it('a command with no version to compare refuses If-Match (400) instead of acting unconditionally; reads ignore it', async () => {
      const before = await dbSnapshot(s);
      const res = await s.request('POST', '/v1/api-keys', { body: { name: 'conditional', role: 'viewer' }, headers: { 'if-match': '"1"' } });
      expectProblem(res, 400, 'bad_request');
      expect(res.body.detail).toContain('If-Match');
      // Whatever the value: the header is refused, not parsed (a malformed one is not a 412 here).
      expectProblem(await s.request('POST', '/v1/api-keys', { body: { name: 'conditional', role: 'viewer' }, headers: { 'if-match': 'garbage' } }), 400, 'bad_request');
      expect(await dbSnapshot(s)).toEqual(before);
      expect((await s.request('GET', '/v1/integrations', { headers: { 'if-match': '"1"' } })).status).toBe(200);
    });
  });

  describe('Idempotency-Key', () => {
    const count = async (table: 'integrations' | 'connections' | 'api_keys') =>
      Number((await s.lk.services.store.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

    it('same key and body replays the first response once created; a different body → 422', async () => {
      const key = await createIntegration(s, s.adminKey);
      const cases: { path: string; body: unknown; table: 'integrations' | 'connections' | 'api_keys'; changed: unknown }[] = [
        { path: '/v1/integrations', body: githubIntegration('idem-int'), table: 'integrations', changed: githubIntegration('idem-int-2') },
        { path: `/v1/integrations/${key}/connections`, body: { id: 'idem-c', credentials: { type: 'oauth2', accessToken: 'a' } }, table: 'connections', changed: { id: 'idem-c', credentials: { type: 'oauth2', accessToken: 'b' } } },
        { path: '/v1/api-keys', body: { name: 'idem-key', role: 'viewer' }, table: 'api_keys', changed: { name: 'idem-key', role: 'admin' } },
      ];
      for (const [i, c] of cases.entries()) {
        const headers = { 'idempotency-key': `idem-${i}-${Date.now()}` };
        const rows = await count(c.table);
        const first = await s.request('POST', c.path, { body: c.body, headers });
        expect(first.status, first.text).toBe(201);
        expect(first.headers['idempotent-replayed']).toBeUndefined();
        const again = await s.request('POST', c.path, { body: c.body, headers });
        expect(again.status, again.text).toBe(201);
        expect(again.headers['idempotent-replayed']).toBe('true');
        expect(again.body).toEqual(first.body);
        expect(again.headers.etag).toBe(first.headers.etag);
        expect(await count(c.table)).toBe(rows + 1);
        const before = await dbSnapshot(s);
        const reused = await s.request('POST', c.path, { body: c.changed, headers });
        expectProblem(reused, 422, 'validation_failed');
        expect(await dbSnapshot(s)).toEqual(before);
        // Without the header the same body is a new request (here: a duplicate).
        expect((await s.request('POST', c.path, { body: c.body })).status).toBe(c.table === 'api_keys' ? 201 : 409);
      }
    });

    it('records are purged after their 24 h, in every tenant: a new API key does not stay in the database for ever', async () => {
      const headers = { 'idempotency-key': `purge-${Date.now()}` };
      const created = await s.request('POST', '/v1/api-keys', { body: { name: 'purged-idem', role: 'viewer' }, headers });
      expect(created.status, created.text).toBe(201);
      const store = s.lk.services.store;
      const idempotency = new IdempotencyStore(s.lk.services.keyring);
      const held = () => store.db.selectFrom('idempotency_keys').select('idem_key').where('idem_key', '=', headers['idempotency-key']).execute();
      expect(await held()).toHaveLength(1);
      // Not yet: a retry within the day still replays.
      expect(await idempotency.purgeExpired(store.db, new Date(Date.now() + 23 * 3600_000))).toBe(0);
      expect(await held()).toHaveLength(1);
      expect(await idempotency.purgeExpired(store.db, new Date(Date.now() + 25 * 3600_000))).toBeGreaterThanOrEqual(1);
      expect(await held()).toHaveLength(0);
      expect(await store.db.selectFrom('idempotency_keys').select('idem_key').execute()).toHaveLength(0);
    });

    it('the purge runs on a schedule of its own, not the refresh sweep\'s (which can be switched off)', async () => {
      const store = s.lk.services.store;
      const old = new Date(Date.now() - 25 * 3600_000).toISOString();
      await store.db.insertInto('idempotency_keys').values({ tenant_id: 'default', idem_key: 'stale-key', operation: 'x', fingerprint: 'f', state: 'done', status: 201, response: null, created_at: old }).execute();
      const purge = startIdempotencyPurge({ store, idempotency: new IdempotencyStore(s.lk.services.keyring), logger: s.lk.logger, intervalMs: 20 });
      try {
        for (let i = 0; i < 100 && (await store.db.selectFrom('idempotency_keys').select('idem_key').where('idem_key', '=', 'stale-key').execute()).length > 0; i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        purge.stop();
      }
      expect(await store.db.selectFrom('idempotency_keys').select('idem_key').where('idem_key', '=', 'stale-key').execute()).toEqual([]);
    });

    it('a failed request releases its key; a malformed key → 400', async () => {
      const headers = { 'idempotency-key': 'retry-after-failure' };
      expectProblem(await s.request('POST', '/v1/integrations', { body: { ...githubIntegration('idem-retry'), secrets: {} }, headers }), 422);
      const retried = await s.request('POST', '/v1/integrations', { body: githubIntegration('idem-retry'), headers });
      expect(retried.status, retried.text).toBe(201);
      for (const bad of ['has space', 'x'.repeat(256), 'ünïcode']) {
        const before = await dbSnapshot(s);
        expectProblem(await s.request('POST', '/v1/integrations', { body: githubIntegration('idem-bad'), headers: { 'idempotency-key': bad } }), 400, 'bad_request');
        expect(await dbSnapshot(s)).toEqual(before);
      }
    });
  });

  describe('cursor pagination', () => {
    it('walks 120 integrations with limit 50: every record exactly once, in order', async () => {
      const t = await s.newTenant('Pagination');
      const keys = Array.from({ length: 120 }, (_, i) => `page-${String(i).padStart(3, '0')}`);
      for (const key of [...keys].reverse()) await createIntegration(s, t.adminKey, key);
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const res: TestResponse = await s.request('GET', `/v1/integrations?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { key: t.adminKey });
        expect(res.status, res.text).toBe(200);
        sizes.push(res.body.data.length);
        seen.push(...res.body.data.map((r: any) => r.key));
        cursor = res.body.nextCursor;
      } while (cursor && sizes.length < 10);
      expect(sizes).toEqual([50, 50, 20]);
      expect(seen).toEqual(keys);
      // Filters keep working across pages, and the default page size is 50.
      expect((await s.request('GET', '/v1/integrations', { key: t.adminKey })).body.data).toHaveLength(50);
    });

    it('a cursor works only with the list and filters that issued it (422 elsewhere, never a wrong page)', async () => {
      const t = await s.newTenant('Cursor scope');
      for (let i = 0; i < 3; i++) await createIntegration(s, t.adminKey, `scoped-${i}`);
      const first = await s.request('GET', '/v1/integrations?limit=1&provider=github', { key: t.adminKey });
      const cursor = encodeURIComponent(first.body.nextCursor);
      expect((await s.request('GET', `/v1/integrations?limit=1&provider=github&cursor=${cursor}`, { key: t.adminKey })).status).toBe(200);
      // The page size may change between pages; the filters may not.
      expect((await s.request('GET', `/v1/integrations?limit=2&provider=github&cursor=${cursor}`, { key: t.adminKey })).status).toBe(200);
      for (const path of [`/v1/integrations?limit=1&cursor=${cursor}`, `/v1/integrations?limit=1&provider=gitlab&cursor=${cursor}`, `/v1/connections?cursor=${cursor}`, `/v1/api-keys?cursor=${cursor}`, `/v1/providers?cursor=${cursor}`]) {
        const res = await s.request('GET', path, { key: t.adminKey });
        expectProblem(res, 422, 'validation_failed');
        expect(res.body.errors.map((e: { path: string }) => e.path), path).toEqual(['cursor']);
      }
    });

    it('walks connections across integrations exactly once, in id order', async () => {
      const t = await s.newTenant('Connection pages');
      const created: string[] = [];
      for (const i of [1, 2, 3]) {
        const key = await createIntegration(s, t.adminKey, `pages-${i}`);
        for (let j = 0; j < 15; j++) created.push(`${key}/${await createConnection(s, t.adminKey, key, `c-${i}-${j}`)}`);
      }
      const seen: any[] = [];
      let cursor: string | null = null;
      do {
        const res: TestResponse = await s.request('GET', `/v1/connections?limit=7${cursor ? `&cursor=${cursor}` : ''}`, { key: t.adminKey });
        seen.push(...res.body.data);
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(seen.map((c) => `${c.integration}/${c.id}`).sort()).toEqual([...created].sort());
      const uids = seen.map((c) => c.uid);
      expect(uids).toEqual([...uids].sort());
    });
  });
});
