import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/database.js';
import { PG_URL, freshPostgresSchema, postgresAvailable } from '../support/postgres.js';

const pgUp = await postgresAvailable();
if (!pgUp) console.warn('\n!!! migrations-shared-database.test.ts: PostgreSQL is not reachable, this suite is SKIPPED (CI=true makes this an error)\n');

/**
 * Several deployments (and every test file) share one PostgreSQL database, each in its own
 * schema. Migrating one must neither look at nor trip over the others — not even while
 * another schema is being dropped at that very moment.
 */
describe.skipIf(!pgUp)('migrations in a shared PostgreSQL database', () => {
  it('migrate cleanly while other schemas are created and dropped concurrently', async () => {
    let churning = true;
    const churn = async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        while (churning) {
          const other = `lk_churn_${randomBytes(5).toString('hex')}`;
          await c.query(`create schema ${other}`);
          await c.query(`create table ${other}.t (id serial primary key, a text, b text, c text)`);
          await c.query(`drop schema ${other} cascade`);
        }
      } finally {
        await c.end();
      }
    };
    const churners = [churn(), churn(), churn()];
    try {
      for (let round = 0; round < 6; round++) {
        const fresh = await freshPostgresSchema();
        const store = openStore({ url: fresh.url, poolSize: 2 });
        try {
          const applied = await migrateToLatest(store.db, 'postgres');
          expect(applied.length).toBeGreaterThan(0);
          expect(await migrateToLatest(store.db, 'postgres')).toEqual([]);
        } finally {
          await store.close();
          await fresh.drop();
        }
      }
    } finally {
      churning = false;
      await Promise.all(churners);
    }
  }, 60_000);
});

describe.skipIf(!pgUp)('migrations into a schema that does not exist', () => {
  it('refuse with a message that names the cause', async () => {
    const url = new URL(PG_URL);
    url.searchParams.set('options', `-c search_path=lk_missing_${randomBytes(5).toString('hex')}`);
    const store = openStore({ url: url.toString(), poolSize: 1 });
    try {
      await expect(migrateToLatest(store.db, 'postgres')).rejects.toThrow(/no current schema/);
    } finally {
      await store.close();
    }
  });
});
