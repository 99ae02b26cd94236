import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { withStatementCache } from './statement-cache.js';

export type Engine = 'sqlite' | 'postgres';

/** An open database: the typed query builder plus which engine is behind it. */
export interface Store {
  db: Kysely<Database>;
  engine: Engine;
  /**
   * The raw SQLite connection behind `db` (SQLite only), for bulk maintenance work such as
   * re-encryption: statements run on it inside a `db.transaction()` join that transaction
   * (one connection), without Kysely's per-query overhead.
   */
  sqlite?: SqliteDatabase.Database;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** `postgres://…` for PostgreSQL; otherwise a SQLite file path (or `:memory:`). */
  url: string;
  /** PostgreSQL pool size per instance. */
  poolSize?: number;
  /**
   * Called when PostgreSQL drops an idle pooled connection (a restart, a failover, an
   * administrator's `pg_terminate_backend`, an idle timeout of a pooler). The pool replaces
   * it on the next query; without a listener the error would end the process.
   */
  onPoolError?: (error: Error) => void;
}

/** How long a query waits for a pooled PostgreSQL connection before failing (instead of hanging on an exhausted pool or an unreachable server). */
export const POOL_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens SQLite (WAL, NORMAL sync, foreign keys on) or a PostgreSQL pool.
 *
 * @example
 * ```ts
 * const store = openStore({ url: './data/latchkey.db' });
 * ```
 */
export function openStore(opts: OpenStoreOptions): Store {
  if (/^postgres(ql)?:\/\//.test(opts.url)) {
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 10, connectionTimeoutMillis: POOL_CONNECT_TIMEOUT_MS });
    pool.on('error', (error) => opts.onPoolError?.(error));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, engine: 'postgres', close: () => db.destroy() };
  }
  if (opts.url !== ':memory:') mkdirSync(dirname(opts.url), { recursive: true });
  const sqlite = new SqliteDatabase(opts.url);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, engine: 'sqlite', sqlite, close: () => db.destroy() };
}
