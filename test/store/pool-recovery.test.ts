import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/harness.js';
import { PG_URL, postgresAvailable } from '../support/postgres.js';

const pgUp = await postgresAvailable();

/**
 * PostgreSQL restarts, fails over, or an operator terminates backends: the pooled
 * connections die while idle. The instance must log it, reconnect and keep answering —
 * an unhandled pool 'error' event used to end the process.
 */
describe.skipIf(!pgUp)('losing pooled PostgreSQL connections', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ engine: 'postgres' });
  });
  afterAll(async () => s?.close());

  /** The backend pids behind this instance's pool, found by holding several connections at once. */
  async function poolPids(): Promise<number[]> {
    const db = s.lk.services.store.db;
    const pids = await Promise.all(
      Array.from({ length: 6 }, () => db.connection().execute(async (conn) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.05)`.execute(conn);
        return rows[0]!.pid;
      })),
    );
    return [...new Set(pids)];
  }

  it('survives its idle connections being terminated, logs it, and answers again', async () => {
    expect((await s.request('GET', '/v1/integrations')).status).toBe(200);
    const pids = await poolPids();
    expect(pids.length).toBeGreaterThan(1);
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ ok: boolean }>('select pg_terminate_backend(pid) as ok from unnest($1::int[]) as pid', [pids]);
      expect(rows.every((r) => r.ok)).toBe(true);
    } finally {
      await admin.end();
    }
    // The idle clients learn of it asynchronously; give the pool a moment to hear.
    await new Promise((r) => setTimeout(r, 300));
    expect(s.logs.some((l) => l.includes('database connection lost'))).toBe(true);
    expect((await s.request('GET', '/readyz', { key: null })).status).toBe(200);
    expect((await s.request('GET', '/v1/integrations')).status).toBe(200);
    expect(await poolPids()).not.toEqual(expect.arrayContaining(pids));
  });
});
