import type SqliteDatabase from 'better-sqlite3';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { type SecretRef, envelopeVersion } from '../crypto/keyring.js';
import type { Database } from '../store/schema.js';

/** One stored ciphertext: where it is (its row key), whose it is, and the data-key version it names. */
export interface StoredCiphertext {
  key: string[];
  tenantId: string;
  ref: SecretRef;
  ciphertext: string;
  version: number | null;
}

/** A re-encrypted value to write back, only if the row still holds `old` (a concurrent write wins). */
export interface CiphertextUpdate {
  key: string[];
  old: string;
  ciphertext: string;
  version: number;
}

/**
 * A table column holding keyring ciphertexts. Re-encryption walks every source in key
 * order; key status and retirement count what each data-key version still encrypts.
 * A new table that stores ciphertexts must be listed in {@link CIPHERTEXT_SOURCES}:
 * an unlisted one is skipped by re-encryption, and retiring a version it still uses
 * would make its values unreadable.
 */
export interface CiphertextSource {
  name: string;
  /** Up to `limit` rows whose key is after `after` (null: from the start), in key order (on the raw SQLite connection when given). */
  page(db: Kysely<Database>, after: string[] | null, limit: number, sqlite?: SqliteDatabase.Database): Promise<StoredCiphertext[]>;
  /** A tenant's rows sealed under a version older than `below` (the final sweep of re-encryption). */
  older(db: Kysely<Database>, tenantId: string, below: number, limit: number): Promise<StoredCiphertext[]>;
  /**
   * Writes re-encrypted values back, each only if its row still holds the old ciphertext;
   * returns how many changed. Given the raw SQLite connection (inside `db`'s transaction),
   * runs one prepared statement per row on it: about twice as fast as one batch statement.
   */
  update(db: Kysely<Database>, updates: CiphertextUpdate[], sqlite?: SqliteDatabase.Database): Promise<number>;
  /** How many ciphertexts each (tenant, version) has. */
  census(db: Kysely<Database>): Promise<Array<{ tenantId: string; version: number; count: number }>>;
  /** How many ciphertexts one tenant's version has. */
  count(db: Kysely<Database>, tenantId: string, version: number): Promise<number>;
  /** All rows (for the total of a re-encryption job). */
  total(db: Kysely<Database>): Promise<number>;
}

interface TableSpec {
  name: string;
  table: string;
  keyColumns: string[];
  ciphertextColumn: string;
  /** A column that stores the version beside the ciphertext (indexed), if the table has one. */
  versionColumn?: string;
  refOf(row: Record<string, any>): SecretRef;
}

const ids = (names: string[]): RawBuilder<unknown> => sql.join(names.map((n) => sql.ref(n)));
const tuple = (names: string[]): RawBuilder<unknown> => (names.length === 1 ? sql.ref(names[0]!) : sql`(${ids(names)})`);
const values = (items: unknown[]): RawBuilder<unknown> => (items.length === 1 ? sql`${items[0]}` : sql`(${sql.join(items)})`);
const affected = (result: { numAffectedRows?: bigint }): number => Number(result.numAffectedRows ?? 0n);

/** A ciphertext column described by a table spec, read and written with portable SQL (SQLite 3.33+ and PostgreSQL). */
function tableSource(spec: TableSpec): CiphertextSource {
  const table = sql.table(spec.table);
  const ct = sql.ref(spec.ciphertextColumn);
  const toStored = (row: Record<string, any>): StoredCiphertext => ({
    key: spec.keyColumns.map((c) => String(row[c])),
    tenantId: String(row.tenant_id),
    ref: spec.refOf(row),
    ciphertext: String(row[spec.ciphertextColumn]),
    version: envelopeVersion(String(row[spec.ciphertextColumn])),
  });
  const countLike = async (db: Kysely<Database>, tenantId: string, version: number) => {
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${table} where tenant_id = ${tenantId} and ${ct} like ${`lk1.${version}.%`}`.execute(db);
    return Number(rows[0]?.n ?? 0);
  };
  return {
    name: spec.name,
    async page(db, after, limit, sqlite) {
      if (sqlite) {
        const keys = spec.keyColumns.map((c) => `"${c}"`).join(', ');
        const position = spec.keyColumns.length === 1 ? keys : `(${keys})`;
        const marks = spec.keyColumns.length === 1 ? '?' : `(${spec.keyColumns.map(() => '?').join(', ')})`;
        const text = `select * from "${spec.table}" where "${spec.ciphertextColumn}" is not null${after ? ` and ${position} > ${marks}` : ''} order by ${keys} limit ?`;
        const rows = sqlite.prepare(text).all(...(after ?? []), limit) as Array<Record<string, any>>;
        return rows.map(toStored);
      }
      const where = after ? sql`${ct} is not null and ${tuple(spec.keyColumns)} > ${values(after)}` : sql`${ct} is not null`;
      const { rows } = await sql<Record<string, any>>`select * from ${table} where ${where} order by ${ids(spec.keyColumns)} limit ${limit}`.execute(db);
      return rows.map(toStored);
    },
    async older(db, tenantId, below, limit) {
      if (spec.versionColumn) {
        const { rows } = await sql<Record<string, any>>`select * from ${table} where tenant_id = ${tenantId} and ${sql.ref(spec.versionColumn)} < ${below} limit ${limit}`.execute(db);
        return rows.map(toStored);
      }
      const { rows } = await sql<Record<string, any>>`select * from ${table} where tenant_id = ${tenantId} and ${ct} is not null`.execute(db);
      return rows.map(toStored).filter((r) => r.version !== null && r.version < below).slice(0, limit);
    },
    async update(db, updates, sqlite) {
      if (updates.length === 0) return 0;
      if (sqlite) {
        const where = spec.keyColumns.map((c) => `"${c}" = ?`).join(' and ');
        const set = spec.versionColumn ? `"${spec.ciphertextColumn}" = ?, "${spec.versionColumn}" = ?` : `"${spec.ciphertextColumn}" = ?`;
        const statement = sqlite.prepare(`update "${spec.table}" set ${set} where ${where} and "${spec.ciphertextColumn}" = ?`);
        let changed = 0;
        for (const u of updates) {
          const values = spec.versionColumn ? [u.ciphertext, u.version] : [u.ciphertext];
          changed += statement.run(...values, ...u.key, u.old).changes;
        }
        return changed;
      }
      // One statement per batch: UPDATE … FROM (VALUES …) names the columns column1…n on both engines.
      const width = spec.keyColumns.length;
      const rows = updates.map((u) => sql`(${sql.join([...u.key, u.old, u.ciphertext, sql`cast(${u.version} as integer)`])})`);
      const col = (i: number) => sql.raw(`v.column${i}`);
      const match = sql.join(
        spec.keyColumns.map((c, i) => sql`${table}.${sql.ref(c)} = ${col(i + 1)}`),
        sql` and `,
      );
      const set = spec.versionColumn
        ? sql`${ct} = ${col(width + 2)}, ${sql.ref(spec.versionColumn)} = ${col(width + 3)}`
        : sql`${ct} = ${col(width + 2)}`;
      const result = await sql`update ${table} set ${set} from (values ${sql.join(rows)}) as v where ${match} and ${table}.${ct} = ${col(width + 1)}`.execute(db);
      return affected(result);
    },
    async census(db) {
      if (spec.versionColumn) {
        const v = sql.ref(spec.versionColumn);
        const { rows } = await sql<{ tenant_id: string; version: number; n: number | string }>`select tenant_id, ${v} as version, count(*) as n from ${table} group by tenant_id, ${v}`.execute(db);
        return rows.map((r) => ({ tenantId: r.tenant_id, version: Number(r.version), count: Number(r.n) }));
      }
      const { rows } = await sql<{ tenant_id: string; head: string }>`select tenant_id, substr(${ct}, 1, 16) as head from ${table} where ${ct} is not null`.execute(db);
      const counts = new Map<string, { tenantId: string; version: number; count: number }>();
      for (const row of rows) {
        const match = /^lk1\.(\d+)\./.exec(row.head);
        if (!match) continue;
        const id = `${row.tenant_id}\u0000${match[1]}`;
        const entry = counts.get(id) ?? { tenantId: row.tenant_id, version: Number(match[1]), count: 0 };
        entry.count++;
        counts.set(id, entry);
      }
      return [...counts.values()];
    },
    async count(db, tenantId, version) {
      if (!spec.versionColumn) return countLike(db, tenantId, version);
      const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${table} where tenant_id = ${tenantId} and ${sql.ref(spec.versionColumn)} = ${version}`.execute(db);
      return Number(rows[0]?.n ?? 0);
    },
    async total(db) {
      const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${table} where ${ct} is not null`.execute(db);
      return Number(rows[0]?.n ?? 0);
    },
  };
}

/** Every table column that holds keyring ciphertexts. */
export const CIPHERTEXT_SOURCES: readonly CiphertextSource[] = [
  tableSource({
    name: 'secrets',
    table: 'secrets',
    keyColumns: ['owner_uid', 'field'],
    ciphertextColumn: 'ciphertext',
    versionColumn: 'key_version',
    refOf: (row) => ({ tenantId: row.tenant_id, kind: row.owner_kind, uid: row.owner_uid, field: row.field }),
  }),
  tableSource({
    name: 'idempotency_keys',
    table: 'idempotency_keys',
    keyColumns: ['tenant_id', 'idem_key'],
    ciphertextColumn: 'response',
    refOf: (row) => ({ tenantId: row.tenant_id, kind: 'idempotency', uid: row.idem_key, field: 'response' }),
  }),
  tableSource({
    name: 'connect_sessions',
    table: 'connect_sessions',
    keyColumns: ['uid'],
    ciphertextColumn: 'verifier',
    refOf: (row) => ({ tenantId: row.tenant_id, kind: 'connect_session', uid: row.uid, field: 'codeVerifier' }),
  }),
];
