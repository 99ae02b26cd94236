import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the store suites run against (trust auth on loopback here and in CI). */
export const PG_URL = process.env.LATCHKEY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let available: boolean | undefined;

/**
 * Whether PostgreSQL answers. Required when CI=true (a missing database fails the run);
 * elsewhere its suites are skipped with a loud notice, never silently.
 */
export async function postgresAvailable(): Promise<boolean> {
  if (available !== undefined) return available;
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    await client.query('select 1');
    available = true;
  } catch (error) {
    if (process.env.CI === 'true') throw new Error(`PostgreSQL is required in CI but ${PG_URL} does not answer: ${(error as Error).message}`);
    console.warn(`\n!!! PostgreSQL at ${PG_URL} is not reachable: PostgreSQL suites are SKIPPED (set CI=true to make this an error)\n`);
    available = false;
  } finally {
    await client.end().catch(() => undefined);
  }
  return available;
}

/**
 * The engines a suite that must hold on both runs on: SQLite, and PostgreSQL when it
 * answers (always in CI, where a missing PostgreSQL fails the run). Warns, naming the
 * suite, when PostgreSQL is skipped.
 *
 * @example
 * ```ts
 * describe.each(await testEngines('tenant-isolation'))('tenant isolation (%s)', (engine) => { … });
 * ```
 */
export async function testEngines(suite: string): Promise<Array<'sqlite' | 'postgres'>> {
  if (await postgresAvailable()) return ['sqlite', 'postgres'];
  console.warn(`\n!!! ${suite}: PostgreSQL is not reachable, its PostgreSQL run is SKIPPED (CI=true makes this an error)\n`);
  return ['sqlite'];
}

/** A fresh schema for one test file; the URL sets it as the search path. */
export async function freshPostgresSchema(): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `lk_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}
