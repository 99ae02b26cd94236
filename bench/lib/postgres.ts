import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the benchmarks use (trust auth on loopback). */
export const BENCH_PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.LATCHKEY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether PostgreSQL answers within two seconds. */
export async function postgresReachable(url = BENCH_PG_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface BenchSchema {
  schema: string;
  /** The connection URL with `search_path` set to the fresh schema. */
  url: string;
  drop(): Promise<void>;
}

/** Creates `bench_<random>` and returns a URL whose search path is that schema. */
export async function createBenchSchema(baseUrl = BENCH_PG_URL): Promise<BenchSchema> {
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`create schema ${schema}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    schema,
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      try {
        await c.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await c.end();
      }
    },
  };
}
