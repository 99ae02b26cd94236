/**
 * Fast bulk seeding of connections for bench/list-page.ts, straight through the store
 * (set-based `INSERT … SELECT` over a generated sequence, so a million rows take seconds,
 * not an hour of API calls).
 *
 * Every seeded row is a copy of a template connection created through the API, so columns
 * added by later migrations are filled the way the application fills them; only the
 * identity (uid, id), the integration and the metadata vary. Each copy also gets copies of
 * the template's secret rows. Those ciphertexts are bound to the template's uid, so they
 * would not decrypt for the copies — which no list page ever does: it reads secret names only.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Store } from '../../src/store/database.js';
import type { Database } from '../../src/store/schema.js';

export interface SeedPlan {
  /** The template connection (created through the API). */
  templateUid: string;
  /** Integrations to spread the copies over, round-robin. */
  integrations: Array<{ uid: string; key: string }>;
  count: number;
  /** Rows per statement (and transaction); 20k on SQLite, 100k on PostgreSQL by default. */
  chunk?: number;
  onProgress?: (done: number) => void;
}

/** The uid of seeded row `n`: time-ordered like `newId('con')`, and computable for cursors. */
export const seededUid = (t0: number, n: number): string => `con_${(t0 + n).toString(16).padStart(12, '0')}${n.toString(16).padStart(16, '0')}`;

type Db = Kysely<Database>;

async function columnsOf(db: Db, table: 'connections' | 'secrets', where: RawBuilder<boolean>): Promise<string[]> {
  const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)} where ${where} limit 1`.execute(db);
  if (!rows[0]) throw new Error(`bulk seed: no template row in ${table}`);
  return Object.keys(rows[0]);
}

/** Seeds `plan.count` connections (plus their secret rows); returns the `t0` of their uids. */
export async function seedConnections(store: Store, plan: SeedPlan): Promise<{ t0: number }> {
  const { db, engine } = store;
  const t0 = Date.now() - 30 * 24 * 3600 * 1000;
  // SQLite has one writer: short transactions let the server's own background writes
  // (webhook dispatcher, refresh sweep) through within their busy timeout.
  const chunk = plan.chunk ?? (engine === 'sqlite' ? 20_000 : 100_000);
  const connectionColumns = await columnsOf(db, 'connections', sql<boolean>`uid = ${plan.templateUid}`);
  const secretColumns = await columnsOf(db, 'secrets', sql<boolean>`owner_uid = ${plan.templateUid}`);
  const k = plan.integrations.length;
  const pick = (field: 'uid' | 'key') => sql`case seq.n % ${sql.lit(k)} ${sql.join(plan.integrations.map((integration, i) => sql`when ${sql.lit(i)} then ${integration[field]}`), sql` `)} end`;
  const pg = engine === 'postgres';
  const generated: Record<string, RawBuilder<unknown>> = {
    uid: pg
      ? sql`'con_' || lpad(to_hex(${sql.lit(t0)}::bigint + seq.n), 12, '0') || lpad(to_hex(seq.n), 16, '0')`
      : sql`printf('con_%012x%016x', ${sql.lit(t0)} + seq.n, seq.n)`,
    id: pg ? sql`'conn-' || lpad(seq.n::text, 7, '0')` : sql`printf('conn-%07d', seq.n)`,
    integration_uid: pick('uid'),
    integration_key: pick('key'),
    metadata: sql`'{"team":"bench","seq":' || seq.n || '}'`,
  };
  const select = sql.join(connectionColumns.map((c) => generated[c] ?? sql`t.${sql.ref(c)}`));
  const secretSelect = sql.join(secretColumns.map((c) => (c === 'owner_uid' ? sql`c.uid` : sql`s.${sql.ref(c)}`)));
  const columns = (names: string[]) => sql.join(names.map((c) => sql.ref(c)));

  for (let start = 0; start < plan.count; start += chunk) {
    const end = Math.min(plan.count, start + chunk) - 1;
    await db.transaction().execute(async (trx) => {
      const sequence = pg
        ? sql`generate_series(${sql.lit(start)}::int, ${sql.lit(end)}::int) as seq(n)`
        : sql`seq`;
      const withSeq = pg ? sql`` : sql`with recursive seq(n) as (select ${sql.lit(start)} union all select n + 1 from seq where n < ${sql.lit(end)}) `;
      await sql`${withSeq}insert into connections (${columns(connectionColumns)}) select ${select} from connections t cross join ${sequence} where t.uid = ${plan.templateUid}`.execute(trx);
      await sql`insert into secrets (${columns(secretColumns)}) select ${secretSelect} from connections c cross join secrets s
        where s.owner_uid = ${plan.templateUid} and c.uid >= ${seededUid(t0, start)} and c.uid <= ${seededUid(t0, end)}`.execute(trx);
    });
    plan.onProgress?.(end + 1);
  }
  if (pg) await sql`analyze connections, secrets`.execute(db);
  else await sql`pragma wal_checkpoint(truncate)`.execute(db);
  return { t0 };
}
